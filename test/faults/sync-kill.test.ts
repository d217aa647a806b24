import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { hookLine, projectStore, watch } from './helpers.js';

/*
 * kill -9 of the apply of a sync at each durable step of its removals and its end (the step stops
 * itself: src/util/test-hooks.ts), then the same apply: the project ends exactly as the file says,
 * the new customer invited once, and the apply after that is refused (exit 4).
 */
const smtp = useSmtpSink();
const tempDir = useTempDirs();

const SEED = 'email,full name,organization\na0@x.example,A0,Acme\na1@x.example,A1,Acme\ng0@x.example,G0,Globex\ng1@x.example,G1,Globex\n';
/** a1 leaves Acme, g1 is removed (and leaves Globex), n is new in Acme. */
const WANTED = 'email,full name,organization\na0@x.example,A0,Acme\na1@x.example,A1,\ng0@x.example,G0,Globex\nn@x.example,N,Acme\n';

const steps = [
  { stop: 'claimed@1', file: 'jsm-store.json', label: "the new customer's invitation is claimed, not sent" },
  { stop: 'before-rename@3', file: 'jsm-store.json', label: 'the removals are written, not yet in place' },
  { stop: 'snapshot-renamed@2', file: 'jsm-store.json', label: 'the removals are in place, the log not yet started anew' },
  { stop: 'before-rename@4', file: 'jsm-store.json.plans/', label: 'everything is done, the plan not yet recorded as applied' },
];

describe('kill -9 at each durable step of the apply of a sync, then the same apply', () => {
  it.each(steps)('$stop ($label)', async ({ stop, file }) => {
    const dir = await tempDir();
    await projectStore(dir);
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    await writeFile(join(dir, 'seed.csv'), SEED);
    expect((await cli(['import-csv', 'seed.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
    await writeFile(join(dir, 'w.csv'), WANTED);
    expect((await cli(['import-csv', 'w.csv', '--project', 'ITH', '--sync', '--plan', 'p.json', '--quiet'])).code).toBe(0);

    const args = ['apply', 'p.json', '--json', ...smtp.mail()];
    const run = watch(args, { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: stop } });
    const [step, n] = stop.split('@');
    await run.stderrMatches(hookLine(step ?? '', Number(n)));
    run.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBe(137);
    expect(killed.stderr).toMatch(new RegExp(`jsm-provision-test-hook: ${step} ${n} \\S*${file.replace(/\./g, '\\.')}`));

    const again = await cli(args);
    expect(again.code, again.stderr).toBe(0);
    const exported = await cli(['customers', 'export', '--project', 'ITH']);
    expect(exported.stdout.split('\r\n').filter(Boolean)).toEqual(['email,full name,organization,language', 'a0@x.example,A0,Acme,', 'a1@x.example,A1,,', 'g0@x.example,G0,Globex,', 'n@x.example,N,Acme,']);
    const delivered = smtp.sink.accepted().flatMap((m) => m.rcptTo);
    if (stop === 'claimed@1') expect(delivered).toEqual([]);
    else expect(delivered).toEqual(['n@x.example']);
    expect((await cli(args)).code).toBe(4);
  });

  it('import-csv --sync (no plan) killed when its removals are written, not yet in place: the same command again finishes it', async () => {
    const dir = await tempDir();
    await projectStore(dir);
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    await writeFile(join(dir, 'seed.csv'), SEED);
    expect((await cli(['import-csv', 'seed.csv', '--project', 'ITH', '--no-invite', '--quiet'])).code).toBe(0);
    await writeFile(join(dir, 'w.csv'), WANTED);
    const args = ['import-csv', 'w.csv', '--project', 'ITH', '--sync', '--json', ...smtp.mail()];
    const run = watch(args, { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: 'before-rename@2' } });
    await run.stderrMatches(hookLine('before-rename', 2));
    run.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBe(137);
    expect(smtp.sink.accepted().flatMap((m) => m.rcptTo)).toEqual(['n@x.example']);
    const again = await cli(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ totals: { created: 0, existing: 4, removed: 1 }, organizations: { left: 2 }, invitations: { sent: 0 } });
    const exported = await cli(['customers', 'export', '--project', 'ITH']);
    expect(exported.stdout.split('\r\n').filter(Boolean)).toEqual(['email,full name,organization,language', 'a0@x.example,A0,Acme,', 'a1@x.example,A1,,', 'g0@x.example,G0,Globex,', 'n@x.example,N,Acme,']);
    expect(smtp.sink.accepted().flatMap((m) => m.rcptTo)).toEqual(['n@x.example']);
  });
});
