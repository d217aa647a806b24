/**
 * Two REST runs of the same rows at once, answers lost after the write: whichever run's create made
 * an account, nobody is emailed twice, whether the runs keep separate state folders (separate
 * ledgers: only JSM is shared) or one; with one folder, `created` is not counted twice either.
 * Through the built CLI, the JSM double and the real SMTP sink.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../support/cli.js';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { csv, useRestCli } from '../rest/cli.js';

const N = 120;

type Summary = { totals: { created: number; existing: number; failed: number }; invitations: { sent: number; inDoubt: number } };

// Runs at the same time as the other groups of concurrent.test.ts, its tests one after another.
describe('two REST runs of the same rows at once, with lost answers', { concurrent: true }, () => {
  const start = useRestCli();
  const smtp = useSmtpSink();
  for (const folders of ['separate', 'one'] as const) {
    it.sequential(`${folders === 'one' ? 'one state folder' : 'separate state folders'}: nobody emailed twice, every new customer invited or listed`, async () => {
      const run = await start({ latencyMs: 2, faults: { cutAfterWriteRate: 0.3, seed: folders === 'one' ? 11 : 12 } });
      await writeFile(join(run.dir, 'in.csv'), csv(N));
      const args = ['import-csv', 'in.csv', '--project', 'ITH', '--json', ...smtp.mail()];
      // The runs' retries take the 5 ms first back-off step the in-process targets are given (the
      // default 200 ms only makes them wait): the same lost answers, the same retries, sooner.
      const env = (name: string) => ({ JSM_TARGET: run.jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(run.dir, folders === 'one' ? 'state' : name), JSM_PROVISION_TEST_HOOKS: 'backoff-ms=5' });
      const [a, b] = await Promise.all([startCli(args, { cwd: run.dir, env: env('a') }).done, startCli(args, { cwd: run.dir, env: env('b') }).done]);
      for (const r of [a, b]) expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
      const [sa, sb] = [a.json<Summary>(), b.json<Summary>()];
      expect(createdTwice(run.jsm)).toEqual([]);
      expect(run.jsm.desks[60]?.customers.size).toBe(N);
      const invited = smtp.sink.accepted().flatMap((m) => m.rcptTo.map((x) => x.toLowerCase()));
      const twice = invited.filter((x, i) => invited.indexOf(x) !== i);
      expect(twice).toEqual([]);
      // Every new customer: invited, or listed (in doubt, or owed to the next run) by one of the runs.
      expect(sa.totals.failed + sb.totals.failed).toBe(0);
      const listed = new Set<string>();
      for (const name of folders === 'one' ? ['state'] : ['a', 'b']) {
        const list = await run.cli(['invitations', 'list', '--project', 'ITH', '--json'], { env: { JSM_STATE_DIR: join(run.dir, name) } });
        for (const r of list.json<{ invitations: { email: string; status: string }[] }>().invitations) if (r.status !== 'sent') listed.add(r.email.toLowerCase());
      }
      const owedNext = N - new Set([...invited, ...listed]).size;
      if (owedNext > 0) {
        // Neither run could tell which create made these: the next run finds them owed and invites them.
        const again = await run.cli(args, { env: { JSM_STATE_DIR: join(run.dir, folders === 'one' ? 'state' : 'a') } });
        expect(again.json<Summary>().invitations.sent).toBe(owedNext);
      }
      const after = smtp.sink.accepted().flatMap((m) => m.rcptTo.map((x) => x.toLowerCase()));
      expect(after.filter((x, i) => after.indexOf(x) !== i)).toEqual([]);
      expect(new Set([...after, ...listed]).size).toBe(N);
      // With one folder the runs see each other: no account is counted created by both.
      if (folders === 'one') expect(sa.totals.created + sb.totals.created).toBeLessThanOrEqual(N);
    });
  }
});
