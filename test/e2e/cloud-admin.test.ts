/**
 * An admin moving from Data Center to Cloud on a custom domain (the double on 127.0.0.1 is Cloud by
 * its serverInfo): credentials of Data Center's shape are said in Cloud's terms, not Data Center's.
 */
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

  it('an API token without JSM_USER: the 401 says what Cloud needs as well', async () => {
    jsm = await startJsmCloudDouble({});
    const dir = await tempDir();
    const r = await runCli(['doctor', '--target', jsm.url, '--project', 'ITH'], { cwd: dir, env: { JSM_STATE_DIR: path.join(dir, 'state'), JSM_TOKEN: 'cloud-api-token' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/JSM Cloud.*JSM_USER/);
  });
});
