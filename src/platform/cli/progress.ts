import type { CommandIO } from './io.ts';

export interface Progress {
  /** Adds `amount` done (bytes or items). */
  advance(amount: number): void;
  /** Ends the bar with a final line (a no-op without a terminal). */
  finish(summary?: string): void;
}

const WIDTH = 28;
const REDRAW_MS = 100;

function formatAmount(value: number, unit: 'bytes' | 'items'): string {
  if (unit === 'items') return value.toLocaleString('en-US');
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/**
 * A progress bar on the terminal's status line, redrawn at most every 100 ms. Without a terminal (a pipe,
 * the control socket, a job) it draws nothing, so scripts and logs stay clean.
 */
export function startProgress(io: CommandIO, label: string, total: number, unit: 'bytes' | 'items' = 'items'): Progress {
  const status = io.status;
  let done = 0;
  let drawnAt = 0;
  const started = Date.now();
  const draw = (force: boolean) => {
    if (!status) return;
    const now = Date.now();
    if (!force && now - drawnAt < REDRAW_MS) return;
    drawnAt = now;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * WIDTH);
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? `${formatAmount(done / seconds, unit)}/s` : '';
    status(
      `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(ratio * 100)}% ${formatAmount(done, unit)}/${formatAmount(total, unit)} ${rate}`,
    );
  };
  return {
    advance(amount) {
      done += amount;
      draw(false);
    },
    finish(summary) {
      if (!status) return;
      draw(true);
      status(summary ?? `${label}: done, ${formatAmount(done, unit)}`);
      io.err('');
    },
  };
}
