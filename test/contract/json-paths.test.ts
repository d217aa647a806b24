import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startInProcess, type CliResult } from '../support/cli.js';
import { startJsmDouble, type JsmDouble } from '../support/jsm-double.js';
import { startJsmCloudDouble } from '../support/jsm-cloud-double/server.js';
import { storeWith } from './shape.js';

/**
 * A script author's pass over docs/contract.md: each command under --json on its main failure
 * paths (in process, against the JSM double on loopback), each giving exactly one object on stdout
 * with the documented `error.code` and exit code.
 */
let dir = '';
let jsm: JsmDouble;

beforeAll(async () => {
  ({ dir } = await storeWith(['ITH']));
  await writeFile(join(dir, 'ok.csv'), 'email,full name\nann@example.com,Ann Lee\n');
  await mkdir(join(dir, 'a-folder'));
  jsm = await startJsmDouble({ desks: 0 });
});
afterAll(async () => {
  await jsm.close();
});

async function json(args: string[], env: Record<string, string> = {}): Promise<{ r: CliResult; body: Record<string, unknown> }> {
  const r = await runCli([...args, '--json'], { cwd: dir, env: { JSM_STATE_DIR: join(dir, 'state'), ...env } });
  return { r, body: r.json() };
}

function expectError(r: CliResult, body: Record<string, unknown>, command: string, code: string, exit: number): void {
  expect({ exit: r.code, body }, r.stderr).toMatchObject({ exit, body: { ok: false, command, error: { code, message: expect.any(String) } } });
  expect(Object.keys(body)).toEqual(['ok', 'command', 'error']);
}

describe('a file given to a command that is not a file of its kind is named by the command\'s own code', () => {
  // The contract: `customers remove --file` that is not a list of emails is `bad-file`; `apply` of a
  // file that is not a plan is `bad-plan`. `store-unreadable` is the local store's (or a ledger's).
  const cases: [string, string[], string][] = [
    ['customers remove', ['customers', 'remove', '--project', 'ITH', '--file', 'a-folder', '--yes'], 'bad-file'],
    ['apply', ['apply', 'a-folder'], 'bad-plan'],
  ];
  for (const [command, args, code] of cases) {
    it(`${command} of a folder: ${code}, exit 2, naming the folder`, async () => {
      const { r, body } = await json(args);
      expectError(r, body, command, code, 2);
      expect((body.error as { message: string }).message).toContain('a-folder');
    });
  }
});

describe('JSM refusing the credentials: auth-failed, exit 3, for every command that opens the target', () => {
  const cases: [string, string[]][] = [
    ['import-csv', ['import-csv', 'ok.csv', '--no-invite']],
    ['add-customer', ['add-customer', '--email', 'ann@example.com', '--name', 'Ann Lee', '--no-invite']],
    ['project show', ['project', 'show']],
    ['project set-notifications', ['project', 'set-notifications', '--verification']],
    ['customers list', ['customers', 'list']],
    ['customers show', ['customers', 'show', '--email', 'ann@example.com']],
    ['customers export', ['customers', 'export', '--output', 'out.csv']],
    ['customers remove', ['customers', 'remove', '--email', 'ann@example.com', '--yes']],
    ['organizations list', ['organizations', 'list']],
    ['invitations list', ['invitations', 'list']],
    ['invitations send', ['invitations', 'send', '--outbox', 'ob', '--yes']],
    ['invitations preview', ['invitations', 'preview', '--email', 'ann@example.com']],
  ];
  for (const [command, args] of cases) {
    it(command, async () => {
      const { r, body } = await json([...args, '--target', jsm.url, '--project', 'ITH'], { JSM_TOKEN: 'not-the-token' });
      expectError(r, body, command, 'auth-failed', 3);
      expect(r.stdout + r.stderr).not.toContain('not-the-token');
    });
  }
});

describe('invitations.outbox is the folder invitations go to, or null', () => {
  it('a JSM run with no outbox named (and no SMTP) has none: null, as doctor says (it was a made-up ./outbox)', async () => {
    const { r, body } = await json(['import-csv', 'ok.csv', '--target', jsm.url, '--project', 'ITH', '--no-invite'], { JSM_TOKEN: 'test-token' });
    expect(r.code, r.stderr).toBe(0);
    expect(body).toMatchObject({ ok: true, target: 'rest', invitations: { suppressedBy: 'flag', outbox: null } });
  });

  it('a JSM run given --outbox names it', async () => {
    const { r, body } = await json(['import-csv', 'ok.csv', '--target', jsm.url, '--project', 'ITH', '--no-invite', '--outbox', 'ob'], { JSM_TOKEN: 'test-token' });
    expect(r.code, r.stderr).toBe(0);
    expect(body).toMatchObject({ invitations: { outbox: join(dir, 'ob') } });
  });

  it('the local store\'s default outbox, beside the store, is its route', async () => {
    const { r, body } = await json(['import-csv', 'ok.csv', '--project', 'ITH', '--no-invite']);
    expect(r.code, r.stderr).toBe(0);
    expect(body).toMatchObject({ target: 'local', invitations: { outbox: join(dir, 'outbox') } });
  });
});

describe('customers export --output where no file can be written: output-unwritable (exit 2), before the target is read', () => {
  for (const [what, output] of [['a folder that does not exist', 'no-such-folder/customers.csv'], ['a file where its folder goes', 'ok.csv/customers.csv']] as const) {
    it(what, async () => {
      const calls = jsm.calls.length;
      const { r, body } = await json(['customers', 'export', '--project', 'ITH', '--output', output, '--target', jsm.url], { JSM_TOKEN: 'test-token' });
      expectError(r, body, 'customers export', 'output-unwritable', 2);
      expect((body.error as { message: string }).message).toContain(output.split('/')[0]);
      expect(jsm.calls.slice(calls)).toEqual([]);
    });
  }
});

describe('an interrupt as the command starts: `interrupted`, exit 130, under the command\'s own name', () => {
  for (const [command, args] of [['import-csv', ['import-csv', 'ok.csv', '--project', 'ITH', '--no-invite']], ['invitations send', ['invitations', 'send', '--project', 'ITH']]] as const) {
    it(command, async () => {
      const run = startInProcess([...args, '--json'], { cwd: dir, env: { JSM_STATE_DIR: join(dir, 'state') } });
      run.interrupt('SIGTERM');
      const r = await run.done;
      expectError(r, r.json(), command, 'interrupted', 130);
    });
  }
});

describe('no command at all (`jsm-provision --json`): missing-command, exit 2, naming the commands', () => {
  it('with --json alone, and with --quiet', async () => {
    for (const args of [[], ['--quiet']]) {
      const { r, body } = await json(args);
      expectError(r, body, 'jsm-provision', 'missing-command', 2);
      expect(body.error).toMatchObject({ message: expect.stringContaining('jsm-provision needs one of its commands: project, add-customer, import-csv'), hint: 'see each with: jsm-provision --help' });
    }
  });
});

describe('customers show on JSM: inProject is null on Data Center (it is not asked), true or false on Cloud', () => {
  it('Data Center and Cloud', async () => {
    const cloud = await startJsmCloudDouble({});
    try {
      const env = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token' };
      for (const [url, env_, inProject] of [[jsm.url, { JSM_TOKEN: 'test-token' }, null], [cloud.url, env, true]] as const) {
        const made = await json(['add-customer', '--target', url, '--project', 'ITH', '--email', 'show@example.com', '--name', 'Show Me', '--no-invite'], env_);
        expect(made.r.code, made.r.stderr).toBe(0);
        const { r, body } = await json(['customers', 'show', '--target', url, '--project', 'ITH', '--email', 'show@example.com'], env_);
        expect(r.code, r.stderr).toBe(0);
        expect(body).toMatchObject({ target: 'rest', customer: { email: 'show@example.com', inProject, account: expect.any(String), active: true } });
      }
    } finally {
      await cloud.close();
    }
  });
});

describe('store unlock --target <a folder>: bad-target (exit 2), as every other command says, not "not locked"', () => {
  it('names the store file it may have meant', async () => {
    const { r, body } = await json(['store', 'unlock', '--target', 'a-folder']);
    expectError(r, body, 'store unlock', 'bad-target', 2);
    expect(body.error).toMatchObject({ message: '--target a-folder is a folder; the local store is a file', hint: expect.stringContaining('a-folder/jsm-store.json') });
  });
});

describe('customers list: each customer\'s keys as the contract lists them', () => {
  it('on JSM (passwordSet and mustChangePassword false: JSM does not say) and on the local store (with createdAt)', async () => {
    const env = { JSM_TOKEN: 'test-token' };
    expect((await json(['add-customer', '--target', jsm.url, '--project', 'ITH', '--email', 'list@example.com', '--name', 'List Me', '--no-invite'], env)).r.code).toBe(0);
    const onJsm = await json(['customers', 'list', '--target', jsm.url, '--project', 'ITH'], env);
    expect(onJsm.r.code, onJsm.r.stderr).toBe(0);
    const listed = (onJsm.body.customers as Record<string, unknown>[]).find((c) => c.email === 'list@example.com');
    expect(listed).toEqual({ email: 'list@example.com', fullName: 'List Me', passwordSet: false, mustChangePassword: false });
    expect((await json(['add-customer', '--project', 'ITH', '--email', 'list@example.com', '--name', 'List Me', '--no-invite'])).r.code).toBe(0);
    const local = await json(['customers', 'list', '--project', 'ITH']);
    expect((local.body.customers as Record<string, unknown>[]).find((c) => c.email === 'list@example.com')).toEqual({
      email: 'list@example.com', fullName: 'List Me', passwordSet: false, mustChangePassword: false, createdAt: expect.any(String),
    });
  });
});
