/**
 * A process's liveness as the kernel tells it: a Unix socket the process listens on for as long as
 * it lives. A connection is completed by the kernel even while the owner is stopped (SIGSTOP), and
 * refused once it is gone, for anyone who sees the folder (any PID or network namespace of this
 * host), where a pid alone could be another namespace's or a reused one. Used by the lock and by
 * the REST target's intent files.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { basename, dirname } from 'node:path';

export type Liveness = 'live' | 'dead' | 'unknown';

/** Listens at `path` (unref'ed: it keeps nothing running); rejects where no socket can be made there. */
export async function listenAt(path: string): Promise<Server> {
  const server = createServer((connection) => connection.destroy());
  try {
    await withSocketPath(path, (address) => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => {
        server.off('error', reject);
        resolve();
      });
    }));
  } catch (error) {
    server.close();
    throw error;
  }
  server.on('error', () => undefined);
  server.unref();
  return server;
}

/** live: something listens at `path`; dead: nothing does (or the socket is gone); unknown: cannot tell. */
export async function probe(path: string): Promise<Liveness> {
  try {
    return await withSocketPath(path, (address) => new Promise<Liveness>((resolve) => {
      const socket = connect(address);
      socket.once('connect', () => {
        socket.destroy();
        resolve('live');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        // EAGAIN: its backlog is full (a stopped owner asked many times): alive.
        resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'dead' : error.code === 'EAGAIN' ? 'live' : 'unknown');
      });
    }));
  } catch {
    return 'unknown';
  }
}

/**
 * Calls `fn` with an address for the socket at `path`: the path itself, or, when it is longer than
 * a socket address may be (108 bytes; Node cuts a longer one short without a word), the same file
 * through an open descriptor of its folder (Linux's /proc/self/fd/N/name).
 */
async function withSocketPath<T>(path: string, fn: (address: string) => Promise<T>): Promise<T> {
  if (Buffer.byteLength(path) < 100) return fn(path);
  const folder = await open(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return await fn(`/proc/self/fd/${folder.fd}/${basename(path)}`);
  } finally {
    await folder.close();
  }
}

/** The kernel's boot id (Linux), shared by every PID namespace and container on it. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
