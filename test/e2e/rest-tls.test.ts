/**
 * HTTPS with a private CA: refused without NODE_EXTRA_CA_CERTS (exit 3, saying what to set),
 * accepted with it. A TLS front on 127.0.0.1 forwards to the JSM double; certificates by openssl.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runSpawned } from '../support/cli.js';
import { startJsmDouble } from '../support/jsm-double.js';
import { certificates, hasOpenssl, tlsFront as front } from '../support/tls-front.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function tlsFront(target: string, key: Buffer, cert: Buffer): Promise<string> {
  const { url, close } = await front(target, key, cert);
  closers.push(close);
  return url;
}

describe.skipIf(!hasOpenssl())('HTTPS with a private CA', () => {
  it('refuses the certificate without NODE_EXTRA_CA_CERTS, accepts it with', async () => {
    const dir = await tempDir();
    const jsm = await startJsmDouble({ desks: 0 });
    closers.push(() => jsm.close());
    const { ca, key, cert } = await certificates(dir);
    const url = await tlsFront(jsm.url, key, cert);
    const env = { JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(dir, 'state'), NODE_EXTRA_CA_CERTS: undefined };
    const refused = await runCli(['project', 'show', '--project', 'ITH', '--target', url, '--json'], { cwd: dir, env });
    expect(refused.code).toBe(3);
    expect(refused.json()).toMatchObject({ error: { code: 'tls-failed', hint: expect.stringContaining('NODE_EXTRA_CA_CERTS') } });
    expect(jsm.calls).toEqual([]);
    // Node reads NODE_EXTRA_CA_CERTS when a process starts: only a process of its own shows it.
    const trusted = await runSpawned(['project', 'show', '--project', 'ITH', '--target', url, '--json'], { cwd: dir, env: { ...env, NODE_EXTRA_CA_CERTS: ca } });
    expect(trusted.code).toBe(0);
    expect(trusted.json()).toMatchObject({ target: 'rest', project: 'ITH', projectDetails: { key: 'ITH', portalUrl: `${url}/servicedesk/customer/portal/1` } });
  });
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './rest-proxy.cases.js';
import '../cli/garbage-memory.cases.js';
