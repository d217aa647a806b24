import { writeSync } from 'node:fs';

/**
 * Markers for the fault suite and `npm run torture`, off unless JSM_PROVISION_TEST_HOOKS is set.
 * With it set, every durable step prints one line on stderr:
 *
 *   jsm-provision-test-hook: <step> <n> <file>
 *
 * (`n` counts that step in this process, from 1). A step named in the variable, as `<step>` or
 * `<step>@<n>`, comma-separated, also stops the process (SIGSTOP) right after its line, so a test
 * can kill -9 it at exactly that point instead of guessing a moment. Steps:
 *   provisioned    a chunk of rows is provisioned in memory (local store), not yet committed
 *   before-rename  a new store/ledger file is written and fsync'ed, not yet renamed into place
 *   log-written    a batch is written to the store's log but its line is not whole yet (its last
 *                  two bytes, the closing brace and the line break, are written next): a kill
 *                  here leaves it out of the store
 *   commit         customers and their invitation records are durable (a log append holding
 *                  customers, or a new snapshot)
 *   append         a log append of invitation changes only (claims, outcomes) is durable
 *   snapshot-renamed  a new snapshot is in place, the old log not yet started anew (it is stale)
 *   compacted      the log was folded into a new snapshot and started anew
 *   claimed        a batch of invitations is claimed (durable) and the lock released, none sent yet
 *   sent           an invitation was accepted by the mailer, its outcome not yet durable
 *   before-lock    about to take the store's lock (what this process did is still only in memory)
 *   lock-held      the store's lock was taken (the process holds it while stopped)
 */
const spec = process.env.JSM_PROVISION_TEST_HOOKS;
const counts = new Map<string, number>();
const stops = new Set((spec ?? '').split(',').map((s) => s.trim()).filter(Boolean));

export function testHook(step: string, file = ''): void {
  if (!spec) return;
  const n = (counts.get(step) ?? 0) + 1;
  counts.set(step, n);
  writeSync(2, `jsm-provision-test-hook: ${step} ${n} ${file}\n`);
  if (stops.has(step) || stops.has(`${step}@${n}`)) process.kill(process.pid, 'SIGSTOP');
}
