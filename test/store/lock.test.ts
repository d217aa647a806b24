import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ownerState, runIdFor, runIsLive } from '../../src/targets/shared/lock.js';

/** This process's start time as the lock records it (Linux: /proc/<pid>/stat field 22). */
function myStart(): number {
  const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('who owns a lock', () => {
  const host = hostname();
  it('a live process on this host is live, whatever the age of its lock', () => {
    expect(ownerState({ pid: process.pid, host, at: 0, start: myStart() })).toBe('live');
    expect(ownerState({ pid: process.ppid, host, at: 0 })).toBe('live');
  });
  it('a gone pid, or a pid now held by a process started later, is dead', () => {
    expect(ownerState({ pid: deadPid(), host, at: Date.now() })).toBe('dead');
    expect(ownerState({ pid: process.pid, host, at: Date.now(), start: myStart() - 1 })).toBe('dead');
  });
  it('another host, or an owner record that says nobody, cannot be checked', () => {
    expect(ownerState({ pid: process.pid, host: 'elsewhere.example', at: 0 })).toBe('unknown');
    expect(ownerState({ pid: -1, host: '', at: 0 })).toBe('unknown');
  });
  it('a run id tells a live run on this host from one whose process is gone', () => {
    expect(runIsLive(runIdFor('5f0c'))).toBe(true);
    expect(runIsLive(`5f0c~${deadPid()}.0@${host}`)).toBe(false);
    expect(runIsLive(`5f0c~${process.pid}.${myStart() - 1}@${host}`)).toBe(false);
    expect(runIsLive('4b1e3b0c-35a5-4c56-9f1e-2e1c0e0b8a11')).toBe(false);
    expect(runIsLive(undefined)).toBe(false);
  });
});
