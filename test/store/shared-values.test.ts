import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * A store read from its files keeps one copy of what repeats record after record (a chunk's time,
 * a project list): customers who share a list must still each have their own projects.
 */
const tempDir = useTempDirs();
const row = (i: number) => ({ email: `c${i}@example.com`, key: `c${i}@example.com`, fullName: `C ${i}`, exists: null });

describe('values shared between records', () => {
  it('adding one customer to a second project leaves the others where they were', async () => {
    const dir = await tempDir();
    const path = join(dir, 'jsm-store.json');
    const first = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
    const ith = await first.createProject('ITH', 'IT Help');
    const hr = await first.createProject('HR', 'People');
    await first.provision(ith, [0, 1, 2].map(row));
    await first.close();

    const store = await LocalStore.open(path);
    const [a, b] = [store.data.customers.get('c0@example.com'), store.data.customers.get('c1@example.com')];
    // Read back, they share one list and one time...
    expect(a?.projects).toBe(b?.projects);
    expect(a?.createdAt).toBe(b?.createdAt);

    // ...and a customer added to HR, in this process and after a re-read, is the only one there.
    const second = await LocalTarget.open(path, {}, { commitEveryMs: 0 });
    await second.provision(hr, [row(1)]);
    await second.close();
    for (const reader of [second, await LocalTarget.open(path)]) {
      const inHr = [];
      for await (const c of reader.listCustomers(hr)) inHr.push(c.email);
      const inIth = [];
      for await (const c of reader.listCustomers(ith)) inIth.push(c.email);
      expect(inHr).toEqual(['c1@example.com']);
      expect(inIth).toEqual(['c0@example.com', 'c1@example.com', 'c2@example.com']);
    }
  });
});
