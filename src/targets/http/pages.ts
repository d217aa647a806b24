/**
 * Every value of a JSM paged listing (`start`, `limit` 50, `isLastPage`), for both JSM targets. No
 * answer at all stops the run as unreachable (reachable.ts); an answer that is not a page stops it
 * with the error the caller makes of it (which listing, on which deployment).
 */
import type { z } from 'zod';
import type { Answer, HttpClient } from './http.js';
import { reachable } from './reachable.js';
import { pageSchema } from './wire.js';

export async function allPages<T extends z.ZodType>(
  http: HttpClient,
  path: string,
  item: T,
  refused: (answer: Answer) => Error,
  headers?: Record<string, string>,
): Promise<z.infer<T>[]> {
  const out: z.infer<T>[] = [];
  let start = 0;
  for (;;) {
    const answer = await reachable(http, () => http.request('GET', path, { query: { start, limit: 50 }, ...(headers ? { headers } : {}) }));
    const parsed = pageSchema(item).safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) throw refused(answer);
    const values = parsed.data.values as z.infer<T>[];
    out.push(...values);
    if (parsed.data.isLastPage !== false || values.length === 0) return out;
    start += values.length;
  }
}
