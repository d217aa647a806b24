/**
 * `apply` on the Data Center double as a CI job meets it: JSM's addresses in another case than the
 * file's, and two applies of one plan at once (two jobs on one merge).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const restCli = useRestCli();
const mail = useSmtpSink();

describe('apply on Data Center, reviewed', () => {
  it('addresses in another case in JSM are the same people; two applies at once: one does it, the other is refused (exit 4)', async () => {
    const users = Array.from({ length: 12 }, (_, i) => ({ name: `u${i}`, emailAddress: `Person${i}@Corp.Example`, displayName: `Person ${i}` }));
    const run = await restCli({
      existingUsers: users,
      projects: [{ key: 'ITH', name: 'IT Help', customers: users.map((u) => u.name) }],
      organizations: [{ name: 'Acme', members: ['u0', 'u1', 'u2'], projects: ['ITH'] }],
    });
    const rows = ['email,full name,organization'];
    for (let i = 0; i < 11; i++) rows.push(` person${i}@corp.example ,Person ${i},${i < 3 ? 'ACME' : ''}`);
    rows.push('new0@corp.example,New Zero,Acme');
    await writeFile(join(run.dir, 'ith.csv'), `${rows.join('\n')}\n`);
    const plan = await run.cli(['import-csv', 'ith.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json()).toMatchObject({ counts: { create: 1, existing: 11, remove: 1, join: 1, leave: 0, invite: 1 } });
    const [one, two] = await Promise.all([run.cli(['apply', 'plan.json', '--json', ...mail.mail()]), run.cli(['apply', 'plan.json', '--json', ...mail.mail()])]);
    expect([one.code, two.code].sort(), one.stdout + one.stderr + two.stdout + two.stderr).toEqual([0, 4]);
    expect(mail.sink.messages.map((m) => m.rcptTo)).toEqual([['new0@corp.example']]);
    const deletes = run.jsm.calls.filter((c) => c.method === 'DELETE' && /^\/rest\/servicedeskapi\/servicedesk\/\d+\/customer$/.test(c.path));
    expect(deletes.map((c) => c.body)).toEqual([{ usernames: ['u11'] }]);
  });

  it('credentials JSM refuses: exit 3, and nothing written (no plan-progress folder, no state folder) before JSM accepted the run', async () => {
    const run = await restCli({ projects: [{ key: 'ITH', name: 'IT Help', customers: [] }] });
    await writeFile(join(run.dir, 'ith.csv'), 'email,full name\nnew0@corp.example,New Zero\n');
    const plan = await run.cli(['import-csv', 'ith.csv', '--project', 'ITH', '--sync', '--plan', 'plan.json', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const before = (await readdir(run.dir, { recursive: true })).sort();
    expect(before).toEqual(['ith.csv', 'plan.json']);
    const r = await run.cli(['apply', 'plan.json', '--json', ...mail.mail()], { env: { JSM_TOKEN: 'revoked-token' } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'auth-failed' } });
    expect((await readdir(run.dir, { recursive: true })).sort()).toEqual(before);
    expect(mail.sink.messages).toEqual([]);
  });
});
