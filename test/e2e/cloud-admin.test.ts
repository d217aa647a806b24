/**
 * An admin moving from Data Center to Cloud on a custom domain (the double on 127.0.0.1 is Cloud by
 * its serverInfo): credentials of Data Center's shape are said in Cloud's terms, not Data Center's.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startJsmCloudDouble } from '../support/jsm-cloud-double/server.js';
import type { JsmCloudDouble } from '../support/jsm-cloud-double/types.js';
import { runCli } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
let jsm: JsmCloudDouble | undefined;
afterEach(async () => {
  await jsm?.close();
  jsm = undefined;
});

describe('JSM Cloud on a custom domain: credentials of Data Center habits', () => {
  it('a username instead of the email, or a password instead of an API token: exit 2 in Cloud terms, nothing sent with them', async () => {
    jsm = await startJsmCloudDouble({});
    const dir = await tempDir();
    const base = { JSM_STATE_DIR: path.join(dir, 'state') };
    const args = ['doctor', '--target', jsm.url, '--project', 'ITH'];

    const username = await runCli(args, { cwd: dir, env: { ...base, JSM_USER: 'admin', JSM_TOKEN: 'cloud-api-token' } });
    expect(username.stderr).toContain('JSM_USER is "admin"');
    expect(username.stderr).toContain("the user is the account's email");
    expect(username.stderr).not.toMatch(/personal access token|JSM_PASSWORD|LDAP/);

    const password = await runCli(args, { cwd: dir, env: { ...base, JSM_USER: 'admin@example.com', JSM_PASSWORD: 'cloud-password' } });
    expect(password.stderr).toContain('JSM_TOKEN is not set');
    expect(password.stderr).toContain('API token');
    expect(password.stderr).not.toMatch(/LDAP|personal access token/);
    // The password never went out.
    expect(jsm.calls.filter((c) => c.headers.authorization !== undefined)).toEqual([]);
  });

  it('a refused API token: the hint names the likely causes, a scoped token among them', async () => {
    jsm = await startJsmCloudDouble({});
    const dir = await tempDir();
    const r = await runCli(['doctor', '--target', jsm.url, '--project', 'ITH'], { cwd: dir, env: { JSM_STATE_DIR: path.join(dir, 'state'), JSM_USER: 'admin@example.com', JSM_TOKEN: 'a-scoped-token' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('expired or been revoked');
    expect(r.stderr).toMatch(/scoped API token.*without scopes/);
    expect(r.stderr).not.toContain('a-scoped-token');
  });

  it('no credentials at all: doctor names what Cloud takes (JSM_USER, the email, and JSM_TOKEN, an API token), in words and JSON, not Data Center\'s', async () => {
    jsm = await startJsmCloudDouble({});
    const dir = await tempDir();
    const env = { JSM_STATE_DIR: path.join(dir, 'state'), JSM_TOKEN: undefined, JSM_USER: undefined, JSM_PASSWORD: undefined };
    const words = await runCli(['doctor', '--target', jsm.url, '--project', 'ITH', '--outbox', 'out'], { cwd: dir, env });
    expect(words.code).toBe(2);
    expect(words.stdout).toMatch(/^credentials {2}none set \(JSM Cloud: JSM_USER, the account's email, and JSM_TOKEN, an API token\): not checked/m);
    expect(words.stdout + words.stderr).not.toMatch(/JSM_PASSWORD|personal access token/);
    const json = await runCli(['doctor', '--target', jsm.url, '--project', 'ITH', '--outbox', 'out', '--json'], { cwd: dir, env });
    const report = json.json() as { deployment: string; problems: { check: string; code: string; message: string; hint?: string }[] };
    expect(report.deployment).toBe('cloud');
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ check: 'credentials', code: 'missing-credentials' });
    expect(report.problems[0]?.message).toContain('(JSM Cloud)');
    expect(report.problems[0]?.hint).toMatch(/JSM_USER to the email.*JSM_TOKEN.*API token/);
    expect(JSON.stringify(report.problems)).not.toMatch(/JSM_PASSWORD|personal access token/);
    // Only the anonymous serverInfo was asked.
    expect(jsm.calls.filter((c) => c.headers.authorization !== undefined)).toEqual([]);
  });

  it('no credentials on a Cloud host (*.atlassian.net): the same words, without a request', async () => {
    const dir = await tempDir();
    const env = { JSM_STATE_DIR: path.join(dir, 'state'), JSM_TOKEN: undefined, JSM_USER: undefined, JSM_PASSWORD: undefined };
    const r = await runCli(['doctor', '--target', 'https://x.atlassian.net', '--outbox', 'out', '--json'], { cwd: dir, env });
    expect(r.code).toBe(2);
    const report = r.json() as { deployment: string; problems: { message: string; hint?: string }[] };
    expect(report.deployment).toBe('cloud');
    expect(report.problems[0]?.hint).toMatch(/JSM_USER to the email.*API token/);
    expect(JSON.stringify(report)).not.toMatch(/JSM_PASSWORD|personal access token/);
    const words = await runCli(['doctor', '--target', 'https://x.atlassian.net', '--outbox', 'out'], { cwd: dir, env });
    expect(words.stdout).toMatch(/^target {7}JSM Cloud https:\/\/x\.atlassian\.net/m);
    expect(words.stdout).toMatch(/^credentials {2}none set \(JSM Cloud: JSM_USER, the account's email, and JSM_TOKEN, an API token\)/m);
  });

  it('an API token without JSM_USER: the 401 says what Cloud needs as well', async () => {
    jsm = await startJsmCloudDouble({});
    const dir = await tempDir();
    const r = await runCli(['doctor', '--target', jsm.url, '--project', 'ITH'], { cwd: dir, env: { JSM_STATE_DIR: path.join(dir, 'state'), JSM_TOKEN: 'cloud-api-token' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/JSM Cloud.*JSM_USER/);
  });
});

describe('JSM Cloud: a customer whose profile hides the email', () => {
  const seeded = {
    existingAccounts: [
      { email: 'known@example.com', displayName: 'Known Person' },
      { email: 'private@example.com', displayName: 'Private Person', hideEmail: true },
      { email: 'quiet@example.com', displayName: 'Quiet Person', hideEmail: true },
    ],
    projects: [{ key: 'ITH', name: 'IT Help', customers: ['known@example.com', 'private@example.com', 'quiet@example.com'] }],
    organizations: [{ name: 'Acme', members: ['private@example.com'], projects: ['ITH'] }],
  };

  it('--sync with a file that names them keeps them on the project and in their organization; one it cannot name is kept and said', async () => {
    jsm = await startJsmCloudDouble(seeded);
    const dir = await tempDir();
    const env = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: path.join(dir, 'state') };
    await writeFile(path.join(dir, 'ith.csv'), 'email,full name,organization\nknown@example.com,Known Person,\nprivate@example.com,Private Person,Acme\n');
    const args = ['import-csv', 'ith.csv', '--sync', '--target', jsm.url, '--project', 'ITH', '--outbox', 'out'];
    const plan = await runCli([...args, '--plan', 'plan.json'], { cwd: dir, env });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).not.toMatch(/remove\s*$/m);
    expect(plan.stdout).toContain('0 to remove');
    expect(plan.stdout).toContain('2 customers of the project hide their email');

    const run = await runCli([...args, '--yes'], { cwd: dir, env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const desk = jsm.desk('ITH');
    for (const email of ['known@example.com', 'private@example.com', 'quiet@example.com']) {
      expect(desk?.customers.has(jsm.accountByEmail(email)?.accountId ?? '')).toBe(true);
    }
    const acme = jsm.organizations.find((o) => o.name === 'Acme');
    expect(acme?.members.has(jsm.accountByEmail('private@example.com')?.accountId ?? '')).toBe(true);
  });

  it('customers export leaves them out (import-csv needs an email) and says who, by name', async () => {
    jsm = await startJsmCloudDouble(seeded);
    const dir = await tempDir();
    const env = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: path.join(dir, 'state') };
    const r = await runCli(['customers', 'export', '--target', jsm.url, '--project', 'ITH', '--output', 'ith.csv', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'ith.csv'), 'utf8')).toBe('email,full name,organization,language\r\nknown@example.com,Known Person,,\r\n');
    expect(r.json()).toMatchObject({ count: 1, hidden: 2 });
    expect(r.stderr).toContain('2 customers of ITH hide their email');
    expect(r.stderr).toContain('Private Person');
    expect(r.stderr).toContain('Quiet Person');
  });

  it('customers show finds one by the email the admin knows: on the project, in their organization', async () => {
    jsm = await startJsmCloudDouble(seeded);
    const dir = await tempDir();
    const env = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: path.join(dir, 'state') };
    const r = await runCli(['customers', 'show', '--email', 'private@example.com', '--target', jsm.url, '--project', 'ITH', '--json'], { cwd: dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.stringify(r.json())).toContain('Private Person');
    expect(JSON.stringify(r.json())).toContain('Acme');
    expect(r.stdout).toMatch(/"inProject": true/);
  });

  it('customers remove takes one off the project by the email the admin knows', async () => {
    jsm = await startJsmCloudDouble(seeded);
    const dir = await tempDir();
    const env = { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: path.join(dir, 'state') };
    const r = await runCli(['customers', 'remove', '--email', 'private@example.com', '--target', jsm.url, '--project', 'ITH', '--yes'], { cwd: dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('private@example.com: removed');
    expect(jsm.desk('ITH')?.customers.has(jsm.accountByEmail('private@example.com')?.accountId ?? '')).toBe(false);
    expect(jsm.desk('ITH')?.customers.has(jsm.accountByEmail('quiet@example.com')?.accountId ?? '')).toBe(true);
  });
});
