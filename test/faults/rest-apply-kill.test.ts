/**
 * kill -9 of `apply PLAN` of a sync on the JSM double (Data Center) once it has received some creates,
 * then the same apply again: every row a customer once, the removals done, each new customer invited
 * at most once; a third apply is refused (exit 4).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../support/cli.js';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const start = useRestCli();
const smtp = useSmtpSink();

const NEW = 80;

describe('kill -9 during the apply of a sync on JSM, then the same apply', () => {
  it('killed after 30 creates: nothing created twice, nobody invited twice, the removals done by the re-run', { timeout: 120_000 }, async () => {
    const before = Array.from({ length: 10 }, (_, i) => ({ name: `u${i}`, emailAddress: `person${i}@corp.example`, displayName: `Person ${i}` }));
    let killed: (() => void) | undefined;
    const run = await start({
      existingUsers: before,
      projects: [{ key: 'ITH', name: 'IT Help', customers: before.map((u) => u.name) }],
      latencyMs: 1,
      onCreate: (count) => {
        if (count === 30) killed?.();
      },
    });
    // Keeps person0..7, drops person8 and person9, adds 80.
    const rows = [...before.slice(0, 8).map((u) => `${u.emailAddress},${u.displayName}`), ...Array.from({ length: NEW }, (_, i) => `n${i}@example.com,New ${i}`)];
    await writeFile(join(run.dir, 'in.csv'), `email,full name\n${rows.join('\n')}\n`);
    const planned = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json', ...smtp.mail()]);
    expect(planned.json()).toMatchObject({ counts: { create: NEW, existing: 8, remove: 2, invite: NEW } });

    const args = ['apply', 'plan.json', '--json', ...smtp.mail()];
    const env = { JSM_TARGET: run.jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(run.dir, 'state') };
    const first = startCli(args, { cwd: run.dir, env });
    killed = () => first.child.kill('SIGKILL');
    expect((await first.done).code).toBe(137);
    expect(run.jsm.creates.length).toBeLessThan(NEW);
    expect(run.jsm.customerRemovals).toEqual([]);

    const again = await run.cli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ ok: true, totals: { rows: NEW + 8, removed: 2 } });
    expect(run.jsm.creates).toHaveLength(NEW);
    expect(createdTwice(run.jsm)).toEqual([]);
    expect(run.jsm.customerRemovals.map((x) => x.split('/')[1]).sort()).toEqual(['u8', 'u9']);
    const delivered = new Map<string, number>();
    for (const m of smtp.sink.accepted()) for (const to of m.rcptTo) delivered.set(to, (delivered.get(to) ?? 0) + 1);
    expect([...delivered.values()].every((n) => n === 1)).toBe(true);
    const inDoubt = (again.json() as { invitations: { inDoubt: number } }).invitations.inDoubt;
    expect(delivered.size + inDoubt).toBe(NEW);
    expect([...delivered.keys()].every((to) => to.startsWith('n'))).toBe(true);

    const third = await run.cli(args);
    expect(third.code).toBe(4);
  });
});
