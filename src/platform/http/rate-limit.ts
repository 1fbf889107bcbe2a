import { TooManyRequests } from '../errors.ts';

/**
 * A fixed-window counter per key, kept in memory (one process). Used for login, setup and public forms;
 * the multi-process variant backed by PostgreSQL plugs in behind the same `hit` call.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt for `key`; throws TooManyRequests once the window's allowance is spent. */
  hit(key: string, now = Date.now()): void {
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 50_000) this.sweep(now);
      this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
      return;
    }
    window.count += 1;
    if (window.count > this.limit) throw new TooManyRequests(Math.ceil((window.resetAt - now) / 1000));
  }

  /** Throws TooManyRequests when `key` has already spent its allowance, without counting an attempt. */
  check(key: string, now = Date.now()): void {
    const window = this.windows.get(key);
    if (window && window.resetAt > now && window.count >= this.limit) {
      throw new TooManyRequests(Math.ceil((window.resetAt - now) / 1000));
    }
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
