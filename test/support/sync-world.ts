/** The Data Center project a sync is tested on, in process (test/rest/sync.test.ts) and through the CLI (test/e2e/rest-sync-dc.test.ts). */
import type { JsmDoubleOptions } from './jsm-double.js';

export const syncEmail = (i: number): string => `person${i}@corp.example`;

/**
 * ITH with `count` customers (directory usernames u<i>): u0..u4 in Acme, u5..u9 in Globex, both on
 * ITH; u0 also in Initech (on OPS only).
 */
export function syncSeed(count: number, extra: Partial<JsmDoubleOptions> = {}): JsmDoubleOptions {
  const users = Array.from({ length: count }, (_, i) => ({ name: `u${i}`, emailAddress: syncEmail(i), displayName: `Person ${i}` }));
  return {
    desks: 2,
    existingUsers: users,
    projects: [{ key: 'ITH', name: 'IT Help', customers: users.map((u) => u.name) }, { key: 'OPS', name: 'Operations', customers: ['u0'] }],
    organizations: [
      { name: 'Acme', members: ['u0', 'u1', 'u2', 'u3', 'u4'], projects: ['ITH'] },
      { name: 'Globex', members: ['u5', 'u6', 'u7', 'u8', 'u9'], projects: ['ITH'] },
      { name: 'Initech', members: ['u0'], projects: ['OPS'] },
    ],
    ...extra,
  };
}
