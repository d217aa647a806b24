import { AsyncLocalStorage } from 'node:async_hooks';

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
 *
 * An item `<name>=<number>` in the variable is a setting, not a stop: it makes a process the tests
 * start as quick as the in-process tests make their targets (which pass the same numbers as
 * options), without changing what is checked. Settings (testSetting):
 *   backoff-ms     the first retry back-off step of the JSM targets (default 200 ms)
 *   chunk-rows     the rows of one provisioning chunk of an import (ApplyContext.chunkSize, default 500)
 *   plain-line-ms  the least time between two plain progress lines (reporter.ts PLAIN_LINE_MS, 2,000 ms)
 *   lock-notice-ms how long a run waits for a busy store lock before it says who holds it (default 1,000 ms)
 */
export interface TestHooks {
  /** JSM_PROVISION_TEST_HOOKS: the steps that stop the process, comma-separated. */
  spec: string;
  /** Writes a hook's line at once (before a stop). */
  write(line: string): void;
  /** Stops the process where it stands (SIGSTOP); in process, nothing. */
  stop(): void;
}

interface Active {
  hooks: TestHooks;
  stops: Set<string>;
  settings: Map<string, number>;
  counts: Map<string, number>;
}

/** The hooks of the run under way (main() binds them from the run's environment; none outside). */
const active = new AsyncLocalStorage<Active | undefined>();

export function withTestHooks<T>(hooks: TestHooks | undefined, fn: () => T): T {
  const items = (hooks?.spec ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const stops = new Set(items.filter((item) => !item.includes('=')));
  const settings = new Map<string, number>();
  for (const item of items) {
    const [name, value] = item.split('=');
    if (value !== undefined && name && Number.isFinite(Number(value))) settings.set(name.trim(), Number(value));
  }
  return active.run(hooks ? { hooks, stops, counts: new Map(), settings } : undefined, fn);
}

/** A test setting (`<name>=<number>` in JSM_PROVISION_TEST_HOOKS) of the run under way; none outside tests. */
export function testSetting(name: string): number | undefined {
  return active.getStore()?.settings.get(name);
}

export function testHook(step: string, file = ''): void {
  const run = active.getStore();
  if (!run) return;
  const n = (run.counts.get(step) ?? 0) + 1;
  run.counts.set(step, n);
  run.hooks.write(`jsm-provision-test-hook: ${step} ${n} ${file}\n`);
  if (run.stops.has(step) || run.stops.has(`${step}@${n}`)) run.hooks.stop();
}
