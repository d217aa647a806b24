import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownerState, runIdFor, runIsLive } from '../../src/store/lock.js';

/** This process's start time as the lock records it (Linux: /proc/<pid>/stat field 22). */
function myStart(): number {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** The pid of a process that has ended (`true`: a pid gone as any other, without a node's start-up). */
function deadPid(): number {
  const { pid, status } = spawnSync('true');
  expect(status).toBe(0);
  return pid;
}

describe('who owns a lock', () => {
  const host = hostname();
  it('a live process on this host is live, whatever the age of its lock', async () => {
    expect(await ownerState({ pid: process.pid, host, at: 0, start: myStart() })).toBe('live');
    expect(await ownerState({ pid: process.ppid, host, at: 0 })).toBe('live');
  });
  it('a gone pid, or a pid now held by a process started later, is dead', async () => {
    expect(await ownerState({ pid: deadPid(), host, at: Date.now() })).toBe('dead');
    expect(await ownerState({ pid: process.pid, host, at: Date.now(), start: myStart() - 1 })).toBe('dead');
  });
  it('another host, or an owner record that says nobody, cannot be checked', async () => {
    expect(await ownerState({ pid: process.pid, host: 'elsewhere.example', at: 0 })).toBe('unknown');
    expect(await ownerState({ pid: -1, host: '', at: 0 })).toBe('unknown');
  });
  it('a pid of another PID namespace, or of another boot, says nothing: cannot be checked by it', async () => {
    expect(await ownerState({ pid: deadPid(), host, at: 0, pidns: 'pid:[1]' })).toBe('unknown');
    expect(await ownerState({ pid: process.pid, host, at: 0, start: myStart() - 1, pidns: 'pid:[1]' })).toBe('unknown');
    expect(await ownerState({ pid: deadPid(), host, at: 0, boot: 'another-boot' })).toBe('unknown');
  });
  it("the owner's live-socket decides, in any namespace: listened on is live, left behind is dead", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jsm-provision-lock-'));
    try {
      const lockPath = join(dir, 'jsm-store.json.lock');
      const sock = '.jsm-store.json.lock.1.0123abcd.sock';
      const server = createServer((c) => c.destroy());
      await new Promise<void>((resolve) => server.listen(join(dir, sock), resolve));
      // A dead pid in another namespace: the socket says live.
      expect(await ownerState({ pid: 1, host, at: 0, pidns: 'pid:[1]', sock }, lockPath)).toBe('live');
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Closed (or its owner killed: the file stays, nobody listens): dead, whatever the pid says.
      await writeFile(join(dir, sock), '');
      await rm(join(dir, sock));
      expect(await ownerState({ pid: process.pid, host, at: 0, pidns: 'pid:[1]', sock }, lockPath)).toBe('dead');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('a run id tells a live run on this host from one whose process is gone', () => {
    expect(runIsLive(runIdFor('5f0c'))).toBe(true);
    expect(runIsLive(`5f0c~${deadPid()}.0@${host}`)).toBe(false);
    expect(runIsLive(`5f0c~${process.pid}.${myStart() - 1}@${host}`)).toBe(false);
    expect(runIsLive('4b1e3b0c-35a5-4c56-9f1e-2e1c0e0b8a11')).toBe(false);
    expect(runIsLive(undefined)).toBe(false);
  });
});
