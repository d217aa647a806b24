/**
 * A real HTTP proxy on loopback for the tests: Debian's tinyproxy (installed by .ci/run), started
 * in the foreground with its own config on a free port, optionally asking for Basic credentials.
 * Ready when it says it accepts connections; every request it handles is in `log()`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface Tinyproxy {
  /** http://127.0.0.1:<port> (without credentials). */
  url: string;
  port: number;
  /** What tinyproxy wrote so far (one line per connection and request). */
  log(): string;
  close(): Promise<void>;
}

/** Every tinyproxy started and not yet ended: `stopTinyproxies()` ends them (a test that timed out waiting included). */
const running = new Set<ChildProcess>();

export async function stopTinyproxies(): Promise<void> {
  await Promise.all(
    [...running].map((child) => {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.kill('SIGTERM');
      return exited;
    }),
  );
}

export function tinyproxyInstalled(): boolean {
  return spawnSync('tinyproxy', ['-v'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startTinyproxy(dir: string, auth?: { user: string; password: string }): Promise<Tinyproxy> {
  if (!tinyproxyInstalled()) throw new Error('tinyproxy is not installed: .ci/run installs it (apt-get install tinyproxy)');
  const port = await freePort();
  const config = join(dir, 'tinyproxy.conf');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      'MaxClients 64',
      'Allow 127.0.0.1',
      'LogLevel Info',
      `PidFile "${join(dir, 'tinyproxy.pid')}"`,
      ...(auth ? [`BasicAuth ${auth.user} ${auth.password}`] : []),
      '',
    ].join('\n'),
  );
  const child = spawn('tinyproxy', ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let text = '';
  const ready = new Promise<void>((resolve, reject) => {
    const seen = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (/Accepting connections/i.test(text)) resolve();
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => reject(new Error(`tinyproxy ended before it was ready (exit ${code}): ${text}`)));
    child.once('error', reject);
  });
  await ready;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: () => text,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
