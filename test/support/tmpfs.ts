import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probed: { ok: boolean; reason: string } | undefined;

/**
 * Whether this process can mount a small tmpfs (the real full and read-only disks of the fault
 * tests): root, and a sandbox that allows mount. Tried once per worker; the reason says why not.
 */
export function tmpfsAvailable(): { ok: boolean; reason: string } {
  if (probed) return probed;
  if (process.getuid?.() !== 0) return (probed = { ok: false, reason: 'mounting a tmpfs needs root' });
  const dir = mkdtempSync(join(tmpdir(), 'jsm-provision-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    probed = { ok: true, reason: '' };
  } catch (error) {
    probed = { ok: false, reason: `mount -t tmpfs failed here (${(error as Error).message.split('\n')[0]})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return probed;
}
