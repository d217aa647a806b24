/** What the Cloud double saw, counted for assertions and the bench: requests by route, 429s, the time span. */
import type { JsmCloudDouble } from './types.js';

/** Requests per "METHOD /route" (ids as placeholders: `POST /rest/servicedeskapi/servicedesk/{id}/customer`). */
export function requestsByRoute(d: Pick<JsmCloudDouble, 'calls'>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of d.calls) {
    const k = `${c.method} ${c.route}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Calls answered 429 (the burst limit and injected ones alike). */
export function rateLimited(d: Pick<JsmCloudDouble, 'calls'>): number {
  return d.calls.filter((c) => c.status === 429).length;
}

/** From the first request to the last, and the requests per second over it (0 with fewer than two). */
export function timeSpan(d: Pick<JsmCloudDouble, 'calls'>): { first: number; last: number; ms: number; perSecond: number } {
  if (d.calls.length === 0) return { first: 0, last: 0, ms: 0, perSecond: 0 };
  const first = d.calls[0]?.time ?? 0;
  const last = d.calls[d.calls.length - 1]?.time ?? first;
  const ms = last - first;
  return { first, last, ms, perSecond: ms > 0 ? ((d.calls.length - 1) * 1000) / ms : 0 };
}

/** Emails the double made more than one account for: must stay empty (the double refuses a used email anyway). */
export function createdTwice(d: Pick<JsmCloudDouble, 'creates'>): string[] {
  const counts = new Map<string, number>();
  for (const c of d.creates) counts.set(c.email, (counts.get(c.email) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([e]) => e);
}
