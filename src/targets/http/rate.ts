/**
 * How many requests go to JSM at once, and when. Three things hold a request back:
 *  - the concurrency window, adapted AIMD-style: +1 per window's worth of answers that went well,
 *    halved after a 429, cut by a third after a 5xx or a lost connection (once per round trip);
 *  - a pause that every request honours after a 429 (Retry-After in full: the bucket is per user,
 *    so one 429 speaks for all our requests);
 *  - a mirror of the server's token bucket, from the X-RateLimit-* headers: every request takes a
 *    token here when it leaves, so at steady state we send at the bucket's fill rate instead of
 *    finding its edge with 429s.
 */

export interface PacerOptions {
  /** The most requests in flight at once (--concurrency). */
  maxInFlight: number;
  now?: () => number;
}

/** Handed out by `acquire`; given back to `release` with what the answer said. */
export interface Ticket {
  readonly seq: number;
}

export type Verdict =
  /** An answer (any status but 429 and 5xx). */
  | 'ok'
  /** 429. */
  | 'throttled'
  /** 5xx, a lost connection or a timeout. */
  | 'overloaded';

/** The X-RateLimit-* headers of an answer, read leniently (absent or unreadable: undefined). */
export interface RateHeaders {
  limit?: number;
  remaining?: number;
  fillRate?: number;
  intervalSeconds?: number;
}

interface Waiter {
  resolve: (ticket: Ticket) => void;
  reject: (error: unknown) => void;
}

interface Bucket {
  tokens: number;
  capacity: number;
  /** Tokens per millisecond. */
  rate: number;
  at: number;
}

/** Tokens kept in hand, so that jitter between us and the server never meets an empty bucket. */
const RESERVE = 1;

export class Pacer {
  readonly maxInFlight: number;
  #window: number;
  #inFlight = 0;
  #issued = 0;
  #decreasedAt = -1;
  #pausedUntil = 0;
  #bucket: Bucket | undefined;
  #waiters: Waiter[] = [];
  #timer: NodeJS.Timeout | undefined;
  #failed: unknown;
  #now: () => number;
  /** For figures: answers seen per verdict. */
  readonly counts = { ok: 0, throttled: 0, overloaded: 0 };

  constructor(options: PacerOptions) {
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight));
    this.#window = this.maxInFlight;
    this.#now = options.now ?? Date.now;
  }

  /** Requests allowed in flight right now. */
  get window(): number {
    return Math.floor(this.#window);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits for a slot (and a token, and the end of any pause); rejects once `fail` was called. */
  acquire(): Promise<Ticket> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise<Ticket>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#pump();
    });
  }

  /** Gives the slot back with what the answer said. */
  release(ticket: Ticket, verdict: Verdict, headers?: RateHeaders): void {
    this.#inFlight--;
    this.counts[verdict]++;
    if (headers) this.#observe(ticket, headers);
    if (verdict === 'ok') {
      this.#window = Math.min(this.maxInFlight, this.#window + 1 / this.#window);
    } else if (ticket.seq > this.#decreasedAt) {
      // One decrease per round trip: the answers to requests already on their way say nothing new.
      this.#window = Math.max(1, this.#window * (verdict === 'throttled' ? 0.5 : 0.67));
      this.#decreasedAt = this.#issued;
    }
    if (verdict === 'throttled' && this.#bucket) this.#bucket.tokens = Math.min(this.#bucket.tokens, 0);
    this.#pump();
  }

  /** Nobody sends before `ms` from now (a 429's Retry-After). */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + Math.max(0, ms));
    this.#pump();
  }

  /** Refuses every waiting and future request with `error` (authentication failed, closing). */
  fail(error: unknown): void {
    this.#failed ??= error;
    this.#clearTimer();
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failed);
  }

  #observe(ticket: Ticket, h: RateHeaders): void {
    const { limit, remaining, fillRate, intervalSeconds } = h;
    if (limit === undefined || remaining === undefined || fillRate === undefined || !intervalSeconds) return;
    const now = this.#now();
    const rate = fillRate / (intervalSeconds * 1000);
    // The server counted this request; ours sent after it are on their way and will take tokens too.
    const estimate = remaining - (this.#issued - ticket.seq);
    if (!this.#bucket) {
      this.#bucket = { tokens: estimate, capacity: limit, rate, at: now };
      return;
    }
    this.#refill(now);
    this.#bucket.capacity = limit;
    this.#bucket.rate = rate;
    this.#bucket.tokens = Math.min(this.#bucket.tokens, estimate);
  }

  #refill(now: number): void {
    const b = this.#bucket;
    if (!b) return;
    b.tokens = Math.min(b.capacity, b.tokens + (now - b.at) * b.rate);
    b.at = now;
  }

  /** Lets through as many waiters as the window, the pause and the tokens allow; else sets one timer. */
  #pump(): void {
    while (this.#waiters.length > 0 && this.#inFlight < Math.floor(this.#window)) {
      const now = this.#now();
      const wait = this.#waitFor(now);
      if (wait > 0) {
        this.#schedule(wait);
        return;
      }
      const waiter = this.#waiters.shift();
      if (!waiter) return;
      this.#inFlight++;
      if (this.#bucket) this.#bucket.tokens -= 1;
      waiter.resolve({ seq: ++this.#issued });
    }
  }

  #waitFor(now: number): number {
    if (now < this.#pausedUntil) return this.#pausedUntil - now;
    const b = this.#bucket;
    if (!b) return 0;
    this.#refill(now);
    // The reserve only where the bucket can hold it: a bucket of 1 is used down to its last token.
    const need = Math.min(1 + RESERVE, Math.max(1, b.capacity)) - b.tokens;
    if (need <= 0) return 0;
    return b.rate > 0 ? Math.ceil(need / b.rate) : 1_000;
  }

  #schedule(ms: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Reads the X-RateLimit-* headers of an answer. */
export function rateHeaders(headers: Record<string, string | string[] | undefined>): RateHeaders {
  const num = (name: string): number | undefined => {
    const raw = headers[name];
    const value = Number.parseFloat(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''));
    return Number.isFinite(value) ? value : undefined;
  };
  const out: RateHeaders = {};
  const limit = num('x-ratelimit-limit');
  const remaining = num('x-ratelimit-remaining');
  const fillRate = num('x-ratelimit-fillrate');
  const intervalSeconds = num('x-ratelimit-interval-seconds');
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (fillRate !== undefined) out.fillRate = fillRate;
  if (intervalSeconds !== undefined) out.intervalSeconds = intervalSeconds;
  return out;
}

/** Retry-After in milliseconds: delta-seconds (0 allowed) or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number.parseFloat(raw) * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Cloud's X-RateLimit-Reset: when the limit resets, in ISO 8601 (`yyyy-MM-ddTHH:mmZ`); milliseconds
 * from now (0 when past), undefined when absent or unreadable.
 */
export function resetInMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw || !/^\d{4}-\d\d-\d\dT/.test(raw)) return undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
