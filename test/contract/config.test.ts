import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { storeWith } from './shape.js';

/**
 * The config file: flags > environment > profile > file > defaults, one step per test (each adds
 * one layer and the answer moves to it). The store holds four projects, so no default picks one.
 */
let dir = '';

beforeAll(async () => {
  ({ dir } = await storeWith(['FILE', 'PROF', 'ENVI', 'FLAG']));
  await writeFile(
    join(dir, 'jsm-provision.config.json'),
    JSON.stringify({ project: 'FILE', profiles: { team: { project: 'PROF' } } }),
  );
  await writeFile(join(dir, 'other.json'), JSON.stringify({ target: 'elsewhere/jsm-store.json' }));
});

async function shownProject(args: string[], env: Record<string, string> = {}): Promise<unknown> {
  const r = await runCli(['project', 'show', '--json', ...args], { cwd: dir, env });
  return r.json<{ project?: string; error?: { code: string } }>().project ?? r.json<{ error: { code: string } }>().error.code;
}

describe('precedence: flags > environment > profile > file > defaults', () => {
  it('defaults: with no config file, four projects and none named is missing-project', async () => {
    expect(await shownProject(['--config', 'other.json', '--target', 'jsm-store.json'])).toBe('missing-project');
  });
  it('the file (jsm-provision.config.json in the current folder)', async () => {
    expect(await shownProject([])).toBe('FILE');
  });
  it('a profile over the file (--profile)', async () => {
    expect(await shownProject(['--profile', 'team'])).toBe('PROF');
  });
  it('the environment over the profile (JSM_PROFILE chooses it)', async () => {
    expect(await shownProject([], { JSM_PROFILE: 'team', JSM_PROJECT: 'ENVI' })).toBe('ENVI');
  });
  it('a flag over the environment', async () => {
    expect(await shownProject(['--project', 'FLAG', '--profile', 'team'], { JSM_PROJECT: 'ENVI' })).toBe('FLAG');
  });
  it('--config names another file; its relative paths are taken from its folder', async () => {
    const r = await runCli(['project', 'list', '--config', 'other.json', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'project list', error: { code: 'no-store', message: `no store at ${join(dir, 'elsewhere/jsm-store.json')}` } });
  });
});

describe('what the file refuses (exit 2, naming the file and the key)', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['an unknown key, with a did-you-mean', { mailfrom: 'a@example.com' }, 'unknown-config-key', /"mailfrom" is not a setting: did you mean "mailFrom"\?/],
    ['a token', { token: 'abc' }, 'secret-in-config', /"token" is a secret.*JSM_TOKEN_FILE/],
    ['an SMTP password', { profiles: { ci: { smtpPassword: 'x' } } }, 'secret-in-config', /"profiles\.ci\.smtpPassword" is a secret.*JSM_SMTP_PASSWORD/],
    ['an smtp URL with a password', { smtp: 'smtp://me:pw@mail.example.com:587' }, 'secret-in-config', /"smtp" holds a password in the URL/],
    ['a value of the wrong type', { concurrency: true }, 'bad-config', /"concurrency" must be a string or a number/],
    // Names every JavaScript object has are keys like any other: not settings.
    ['"constructor"', JSON.parse('{"constructor": 1}'), 'unknown-config-key', /"constructor" is not a setting/],
    ['"toString" in a profile', { profiles: { a: { toString: 1 } } }, 'unknown-config-key', /"profiles\.a\.toString" is not a setting/],
    ['"__proto__"', JSON.parse('{"__proto__": {"x": 1}}'), 'unknown-config-key', /"__proto__" is not a setting/],
    ['a command-line-only option', { json: true }, 'unknown-config-key', /"json" is not a setting of the config file: --json is given on the command line only/],
    // Checked by every command, naming the file (customers list takes no --concurrency).
    ['a number out of its bounds', { concurrency: 0 }, 'bad-config', /"concurrency": 0 must be at least 1/],
    ['a path given as a number', { target: 5 }, 'bad-config', /"target" must be a string/],
    ['an empty path', { target: '' }, 'bad-config', /"target" is empty/],
  ];
  for (const [what, content, code, message] of cases) {
    it(what, async () => {
      const file = join(dir, `${code}-${what.length}.json`);
      await writeFile(file, JSON.stringify(content));
      const r = await runCli(['customers', 'list', '--config', file, '--json'], { cwd: dir });
      expect(r.code).toBe(2);
      const body = r.json<{ ok: boolean; command: string; error: { code: string; message: string; hint?: string } }>();
      expect(body).toMatchObject({ ok: false, command: 'customers list', error: { code } });
      expect(`${body.error.message} ${body.error.hint ?? ''}`).toMatch(message);
      expect(r.stdout + r.stderr).not.toMatch(/\bpw\b|abc/);
    });
  }

  it('a file that is not JSON: the line and column of the fault, and what JSON does not allow', async () => {
    const file = join(dir, 'trailing-comma.json');
    await writeFile(file, '{\n  "project": "ITH",\n  "concurrency": 4,\n}\n');
    const r = await runCli(['customers', 'list', '--config', file, '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    const { error } = r.json<{ error: { code: string; message: string; hint?: string } }>();
    expect(error.code).toBe('bad-config');
    expect(error.message).toContain(`the config file ${file} is not valid JSON at line 4, column 1:`);
    expect(error.hint).toBe('JSON takes keys and strings in double quotes, no comma after the last item, and no comments');
  });

  it('a broken config file does not stop completion, --help or --version (a shell sources completion at start)', async () => {
    const broken = await mkdtemp(join(dir, 'broken-'));
    await writeFile(join(broken, 'jsm-provision.config.json'), '{"target": 5, "concurrency": 0}');
    for (const args of [['completion', 'bash'], ['--version'], ['import-csv', '--help'], ['help']]) {
      const r = await runCli(args, { cwd: broken });
      expect(r.code, args.join(' ')).toBe(0);
    }
    expect((await runCli(['project', 'list', '--json'], { cwd: broken })).json()).toMatchObject({ error: { code: 'bad-config' } });
  });

  it('a profile with no config file is refused, not ignored (--profile and JSM_PROFILE): nothing runs against the defaults', async () => {
    const elsewhere = await mkdtemp(join(dir, 'no-config-'));
    for (const [args, env, via] of [[['--profile', 'ci'], {}, '--profile'], [[], { JSM_PROFILE: 'ci' }, 'JSM_PROFILE']] as const) {
      const r = await runCli(['project', 'create', 'ITH', '--name', 'IT Help', ...args, '--json'], { cwd: elsewhere, env });
      expect(r.code, via).toBe(2);
      expect(r.json()).toMatchObject({ ok: false, command: 'project create', error: { code: 'unknown-profile', message: expect.stringContaining(`profile "ci" was asked for (${via}), but there is no config file`) } });
    }
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('an unknown profile names the profiles there are', async () => {
    const r = await runCli(['customers', 'list', '--profile', 'prod', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ error: { code: 'unknown-profile', hint: 'its profiles are: team' } });
    const proto = await runCli(['customers', 'list', '--profile', '__proto__', '--json'], { cwd: dir });
    expect(proto.json()).toMatchObject({ error: { code: 'unknown-profile' } });
  });
});

describe('secrets from files', () => {
  it('JSM_TOKEN_FILE is read for a REST target (a missing file is named by its variable)', async () => {
    const r = await runCli(['customers', 'list', '--target', 'http://127.0.0.1:9', '--project', 'ITH', '--json'], {
      cwd: dir,
      env: { JSM_TOKEN_FILE: join(dir, 'no-such-token') },
    });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ error: { code: 'unreadable-password-file', message: expect.stringMatching(/^cannot read JSM_TOKEN_FILE .*no-such-token/) } });
  });
});
