/**
 * REST targets behind a corporate proxy: HTTP_PROXY / HTTPS_PROXY / NO_PROXY as curl reads them,
 * through a real proxy on loopback (Debian's tinyproxy, installed by .ci/run), with the proxy's
 * credentials in its URL never printed; HTTPS through the proxy's CONNECT tunnel to an instance
 * whose certificate comes from a private CA (NODE_EXTRA_CA_CERTS, made by the test).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { csv, useRestCli } from '../rest/cli.js';
import { runCli, runSpawned } from '../support/cli.js';
import { startJsmDouble } from '../support/jsm-double.js';
import { startTinyproxy, stopTinyproxies, type Tinyproxy } from '../support/tinyproxy.js';
import { certificates, hasOpenssl, tlsFront } from '../support/tls-front.js';
import { useTempDirs } from '../support/tmp.js';

const start = useRestCli();
const tempDir = useTempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await stopTinyproxies();
});

async function proxy(auth?: { user: string; password: string }): Promise<Tinyproxy> {
  const p = await startTinyproxy(await tempDir(), auth);
  closers.push(() => p.close());
  return p;
}

const AUTH = { user: 'proxyuser', password: 'proxy-Secret-42' };

describe('a proxy from the environment', () => {
  it('HTTP_PROXY (with credentials in its URL): every call goes through the proxy, and its password is never printed', async () => {
    const tp = await proxy(AUTH);
    const run = await start();
    await writeFile(join(run.dir, 'in.csv'), csv(5));
    const withAuth = `http://${AUTH.user}:${AUTH.password}@127.0.0.1:${tp.port}`;
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--outbox', 'outbox', '--json'], { env: { HTTP_PROXY: withAuth } });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ totals: { created: 5 } });
    // tinyproxy adds its Via header to every request it forwards.
    expect(run.jsm.calls.length).toBeGreaterThan(10);
    expect(run.jsm.calls.filter((c) => !/tinyproxy/.test(c.headers.via ?? ''))).toEqual([]);
    expect(tp.log()).toMatch(/Request .*GET http:\/\/127\.0\.0\.1:\d+\/rest\/servicedeskapi\/info/);
    expect(r.stdout + r.stderr).not.toContain(AUTH.password);
  });

  it('NO_PROXY naming the host sends the calls direct; lower-case http_proxy is read too', async () => {
    const tp = await proxy();
    const run = await start();
    const r = await run.cli(['project', 'show', '--project', 'ITH', '--json'], { env: { http_proxy: tp.url, NO_PROXY: 'localhost,127.0.0.1' } });
    expect(r.code).toBe(0);
    expect(run.jsm.calls.filter((c) => c.headers.via !== undefined)).toEqual([]);
    expect(tp.log()).not.toMatch(/Request /);
    const through = await run.cli(['project', 'show', '--project', 'ITH', '--json'], { env: { http_proxy: tp.url } });
    expect(through.code).toBe(0);
    expect(run.jsm.calls.filter((c) => /tinyproxy/.test(c.headers.via ?? '')).length).toBeGreaterThan(0);
  });

  it('a proxy that cannot be reached: exit 3 naming the proxy without its credentials', async () => {
    const tp = await proxy();
    await tp.close();
    const run = await start();
    const r = await run.cli(['project', 'show', '--project', 'ITH', '--json'], { env: { HTTPS_PROXY: `http://u:${AUTH.password}@127.0.0.1:${tp.port}`, HTTP_PROXY: `http://u:${AUTH.password}@127.0.0.1:${tp.port}` } });
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({
      error: { code: 'unreachable', message: expect.stringContaining(`through the proxy http://127.0.0.1:${tp.port}`), hint: expect.stringContaining('NO_PROXY') },
    });
    expect(r.stdout + r.stderr).not.toContain(AUTH.password);
    expect(run.jsm.calls).toEqual([]);
  });

  it.skipIf(!hasOpenssl())('HTTPS_PROXY tunnels to an instance whose certificate comes from a private CA (NODE_EXTRA_CA_CERTS)', async () => {
    const tp = await proxy();
    const dir = await tempDir();
    const jsm = await startJsmDouble({ desks: 0 });
    closers.push(() => jsm.close());
    const { ca, key, cert } = await certificates(dir);
    const front = await tlsFront(jsm.url, key, cert);
    closers.push(front.close);
    const env = { JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(dir, 'state'), HTTPS_PROXY: tp.url, NODE_EXTRA_CA_CERTS: ca };
    // Node reads NODE_EXTRA_CA_CERTS when a process starts: only a process of its own shows it.
    const r = await runSpawned(['project', 'show', '--project', 'ITH', '--target', front.url, '--json'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ projectDetails: { key: 'ITH' } });
    expect(tp.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${new URL(front.url).port}`));
  });
});
