/** Counting helpers over what the double saw, for assertions such as "nothing was created twice". */
import type { JsmDouble } from './types.js';

const CREATE_PATHS: Record<string, string> = {
  '/rest/servicedeskapi/customer': 'email',
  '/rest/api/2/user': 'name',
};

/** Users the double actually created, per lower-cased username (cut answers included: the write happened). */
export function createCounts(d: Pick<JsmDouble, 'creates'>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of d.creates) counts.set(c.username, (counts.get(c.username) ?? 0) + 1);
  return counts;
}

/** Usernames created more than once: must be empty. */
export function createdTwice(d: Pick<JsmDouble, 'creates'>): string[] {
  return [...createCounts(d)].filter(([, n]) => n > 1).map(([u]) => u);
}

/** Create calls per lower-cased username, whatever they were answered (retries show up here). */
export function createAttempts(d: Pick<JsmDouble, 'calls'>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of d.calls) {
    const field = CREATE_PATHS[c.path];
    if (c.method !== 'POST' || field === undefined || typeof c.body !== 'object' || c.body === null) continue;
    const v = (c.body as Record<string, unknown>)[field];
    if (typeof v !== 'string') continue;
    const u = v.trim().toLowerCase();
    counts.set(u, (counts.get(u) ?? 0) + 1);
  }
  return counts;
}

/** Requests per "METHOD /path" (context path and query left out), or the count for one of them. */
export function requestsPer(d: Pick<JsmDouble, 'calls'>): Map<string, number>;
export function requestsPer(d: Pick<JsmDouble, 'calls'>, methodPath: string): number;
export function requestsPer(d: Pick<JsmDouble, 'calls'>, methodPath?: string): Map<string, number> | number {
  const counts = new Map<string, number>();
  for (const c of d.calls) {
    const k = `${c.method} ${c.path}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return methodPath === undefined ? counts : counts.get(methodPath) ?? 0;
}
