/**
 * A Jira Service Management Data Center double over node:http on 127.0.0.1:0, built from
 * docs/jsm-api.md. Start one per test (or per file), point the REST target at `double.url`,
 * then assert on `calls`, `users`, `desks`, `properties`, `creates` and `notificationsSent`.
 *
 *   const jsm = await startJsmDouble({ contextPath: '/jira', rateLimit: { capacity: 10, refillPerSecond: 5 } });
 *   jsm.setFaults({ failNext: [{ method: 'POST', path: '/rest/api/2/user', kind: 'cut-after-write' }] });
 *   ...
 *   expect(createdTwice(jsm)).toEqual([]);
 *   await jsm.close();
 *
 * Order of handling: context path (outside -> 404) -> record -> latency -> failNext -> /info (anonymous)
 * -> authentication (401) -> rate limit (429) -> forbidden (403) -> random write faults (503 / cut)
 * -> 415 / invalid JSON -> route (404 unknown, 405 wrong method) -> answer, or cut the socket.
 */
export { startJsmDouble } from './jsm-double/server.js';
export { createAttempts, createCounts, createdTwice, requestsPer } from './jsm-double/stats.js';
export { mulberry32 } from './jsm-double/wire.js';
export type {
  CreateRecord, CreatedVia, Desk, FailNext, FaultKind, Faults, JsmDouble, JsmDoubleOptions,
  NotificationSent, Organization, OrganizationSeed, ProjectSeed, RateLimit, RecordedCall, SeedUser, User,
} from './jsm-double/types.js';
