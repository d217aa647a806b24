/** The pacer: adaptive window, the pause after a 429, the mirror of the server's token bucket. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pacer, rateHeaders, retryAfterMs, type Ticket } from '../../src/targets/http/rate.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Acquires `n` tickets and says how many were granted once pending microtasks ran. */
async function grab(pacer: Pacer, n: number): Promise<{ tickets: Ticket[]; granted: () => number }> {
  const tickets: Ticket[] = [];
  for (let i = 0; i < n; i++) void pacer.acquire().then((t) => tickets.push(t));
  await vi.advanceTimersByTimeAsync(0);
  return { tickets, granted: () => tickets.length };
}

describe('Pacer window (AIMD)', () => {
  it('starts at the maximum, halves once per round trip after 429s, grows back while answers are fine', async () => {
    const pacer = new Pacer({ maxInFlight: 8 });
    const { tickets } = await grab(pacer, 8);
    expect(tickets).toHaveLength(8);
    pacer.release(tickets[0]!, 'throttled');
    pacer.release(tickets[1]!, 'throttled');
    // Both were sent before the first decrease: one halving, not two.
    expect(pacer.window).toBe(4);
    for (const t of tickets.slice(2)) pacer.release(t, 'ok');
    expect(pacer.window).toBe(5);
    const more = await grab(pacer, 5);
    pacer.release(more.tickets[0]!, 'overloaded');
    expect(pacer.window).toBe(3);
    for (const t of more.tickets.slice(1)) pacer.release(t, 'ok');
    for (let i = 0; i < 40; i++) {
      const [t] = (await grab(pacer, 1)).tickets;
      pacer.release(t!, 'ok');
    }
    expect(pacer.window).toBe(8);
    expect(pacer.counts).toEqual({ ok: 50, throttled: 2, overloaded: 1 });
  });

  it('never lets more than the window through', async () => {
    const pacer = new Pacer({ maxInFlight: 3 });
    const { granted, tickets } = await grab(pacer, 5);
    expect(granted()).toBe(3);
    pacer.release(tickets[0]!, 'ok');
    await vi.advanceTimersByTimeAsync(0);
    expect(granted()).toBe(4);
  });
});

describe('Pacer pause and bucket', () => {
  it('holds every request for the whole pause', async () => {
    const pacer = new Pacer({ maxInFlight: 4 });
    pacer.pause(2_000);
    const { granted } = await grab(pacer, 2);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(granted()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted()).toBe(2);
  });

  it('sends at the fill rate once the bucket the headers describe is empty', async () => {
    const pacer = new Pacer({ maxInFlight: 8 });
    const first = await grab(pacer, 1);
    // 2 left, 10 per second: one token (of the two, one is kept in reserve) now, then one per 100 ms.
    pacer.release(first.tickets[0]!, 'ok', { limit: 10, remaining: 2, fillRate: 10, intervalSeconds: 1 });
    const { granted } = await grab(pacer, 4);
    expect(granted()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(granted()).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
    expect(granted()).toBe(4);
  });

  it('uses a bucket of one token down to its last token', async () => {
    const pacer = new Pacer({ maxInFlight: 4 });
    const first = await grab(pacer, 1);
    pacer.release(first.tickets[0]!, 'ok', { limit: 1, remaining: 0, fillRate: 10, intervalSeconds: 1 });
    const { granted } = await grab(pacer, 2);
    expect(granted()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(granted()).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(granted()).toBe(2);
  });

  it('rejects waiting and later requests once failed', async () => {
    const pacer = new Pacer({ maxInFlight: 1 });
    await grab(pacer, 1);
    const waiting = pacer.acquire();
    pacer.fail(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    await expect(pacer.acquire()).rejects.toThrow('stop');
  });
});

describe('header parsing', () => {
  it('reads X-RateLimit-* leniently and Retry-After as seconds or a date', () => {
    expect(rateHeaders({ 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '12', 'x-ratelimit-fillrate': '300', 'x-ratelimit-interval-seconds': '1' })).toEqual({
      limit: 300,
      remaining: 12,
      fillRate: 300,
      intervalSeconds: 1,
    });
    expect(rateHeaders({ 'x-ratelimit-limit': 'lots' })).toEqual({});
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs('2')).toBe(2_000);
    expect(retryAfterMs(['3'])).toBe(3_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});
