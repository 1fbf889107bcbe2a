import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type SignedIn, type TestApp } from '../../../test/app.ts';
import { TestClock } from '../../../test/clock.ts';
import { searchEvents } from '../../platform/audit/store.ts';
import { ACCOUNT_FREE_FAILURES, delayAfter, IP_FREE_FAILURES, MAX_DELAY_MS } from './throttle.ts';

const PASSWORD = 'a test passphrase long enough';

describe('the progressive delay', () => {
  it('is free for the first failures, then doubles from one second up to fifteen minutes', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => delayAfter(n, 3));
    expect(delays).toEqual([0, 0, 0, 1000, 2000, 4000, 8000]);
    expect(delayAfter(40, 3)).toBe(MAX_DELAY_MS);
    expect(delayAfter(1000, 3)).toBe(MAX_DELAY_MS);
  });
});

describe('sign-in throttling at /admin/login', () => {
  let t: TestApp;
  let grace: SignedIn;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await createTestApp({ clock });
    grace = await t.signInAs('employee', 'grace@acme.test');
  });
  afterAll(async () => {
    await t.close();
  });

  const login = (email: string, password: string, ip = '198.51.100.7') =>
    // Straight from a socket at `ip`, as the Node server would hand the request over.
    Promise.resolve(
      t.app.request(
        'http://acme.test/admin/login',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://acme.test' },
          body: new URLSearchParams({ email, password }).toString(),
        },
        { incoming: { socket: { remoteAddress: ip, encrypted: false } } },
      ),
    );

  it('locks an account out after a few failures with a message that says when to retry', async () => {
    for (let i = 0; i < ACCOUNT_FREE_FAILURES + 1; i++) expect((await login(grace.email, `wrong guess ${i}`)).status).toBe(401);
    // Even the right password waits: a guesser must not learn that a guess was right.
    const refused = await login(grace.email, PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const html = await refused.text();
    expect(html).toContain('Too many failed sign-ins. Try again in 1 second');
    expect(html).toContain('UTC');
    clock.advance(1001);
    expect((await login(grace.email, 'still wrong!')).status).toBe(401);
    const longer = await login(grace.email, PASSWORD);
    expect(longer.status).toBe(429);
    expect(longer.headers.get('retry-after')).toBe('2');
  });

  it('says the same for an address without an account, so lockout reveals nothing', async () => {
    for (let i = 0; i < ACCOUNT_FREE_FAILURES + 1; i++) await login('nobody@acme.test', `wrong guess ${i}`);
    const res = await login('nobody@acme.test', 'anything at all');
    expect(res.status).toBe(429);
    expect(await res.text()).toContain('Too many failed sign-ins. Try again in 1 second');
  });

  it('clears the account’s failures after a successful sign-in', async () => {
    clock.advance(MAX_DELAY_MS);
    expect((await login(grace.email, PASSWORD)).status).toBe(303);
    for (let i = 0; i < ACCOUNT_FREE_FAILURES; i++) expect((await login(grace.email, `typo ${i}`)).status).toBe(401);
    expect((await login(grace.email, PASSWORD)).status).toBe(303);
  });

  it('throttles credential stuffing: many accounts from one address, each tried once', async () => {
    clock.advance(MAX_DELAY_MS);
    const ip = '203.0.113.66';
    const statuses: number[] = [];
    for (let i = 0; i < IP_FREE_FAILURES + 2; i++)
      statuses.push((await login(`victim${i}@acme.test`, 'Summer2024!x', ip)).status);
    expect(statuses.slice(0, IP_FREE_FAILURES)).toEqual(Array(IP_FREE_FAILURES).fill(401));
    expect(statuses.at(-1)).toBe(429);
    // Even a real account's right password waits from that address; another address is not affected.
    expect((await login(grace.email, PASSWORD, ip)).status).toBe(429);
    expect((await login(grace.email, PASSWORD, '192.0.2.1')).status).toBe(303);
    // Every counted failure is in the trail for the alert rules; the throttled attempts are not.
    const events = await t.runtime.db.withTenant(t.tenant.id, (tx) => searchEvents(tx, {}, 10_000, 0));
    const fromIp = events.filter((e) => e.action === 'session.sign_in_failed' && e.ip === ip);
    expect(fromIp).toHaveLength(IP_FREE_FAILURES + 1);
  });
});
