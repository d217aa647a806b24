/**
 * HTTPS with a private CA: refused without NODE_EXTRA_CA_CERTS (exit 3, saying what to set),
 * accepted with it. A TLS front on 127.0.0.1 forwards to the JSM double; certificates by openssl.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startJsmDouble } from '../support/jsm-double.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

/** A CA, and a certificate for 127.0.0.1 signed by it. */
async function certificates(dir: string): Promise<{ ca: string; key: Buffer; cert: Buffer }> {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=jsm-provision test CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), key: await readFile(join(dir, 'server.key')), cert: await readFile(join(dir, 'server.pem')) };
}

/** HTTPS on 127.0.0.1 in front of `target` (an http base URL). */
async function tlsFront(target: string, key: Buffer, cert: Buffer): Promise<string> {
  const upstream = new URL(target);
  const server = https.createServer({ key, cert }, (req, res) => {
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe.skipIf(!hasOpenssl)('HTTPS with a private CA', () => {
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
    const trusted = await runCli(['project', 'show', '--project', 'ITH', '--target', url, '--json'], { cwd: dir, env: { ...env, NODE_EXTRA_CA_CERTS: ca } });
    expect(trusted.code).toBe(0);
    expect(trusted.json()).toMatchObject({ target: 'rest', project: 'ITH', projectDetails: { key: 'ITH', portalUrl: `${url}/servicedesk/customer/portal/1` } });
  });
});
