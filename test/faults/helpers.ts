import { appendFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { LocalStore } from '../../src/store/store.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { startCli, startInProcess, type CliOptions, type CliResult } from '../support/cli.js';
import type { SmtpSink } from '../support/smtp-sink.js';

/** A CLI run whose stderr can be waited on line by line (test-hook markers, lock notices). */
export interface Watched {
  pid: number;
  done: Promise<CliResult>;
  /** Resolves when stderr (so far or later) matches; rejects if the process ends first. */
  stderrMatches(pattern: RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** Waits until the process has stopped itself at its hook (state T), then SIGCONTs it. */
  resume(): Promise<void>;
}

/** Resolves once the process is stopped (a hook's SIGSTOP lands just after its marker line). */
export async function untilStopped(pid: number): Promise<void> {
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) [Tt] /s.test(stat)) return;
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Waits on a run's stderr as it grows: `changed()` after each write, `ended()` when the run ended
 * (a wait not met by then is rejected, with what stderr held).
 */
function stderrWaits(stderr: () => string, what: string): { changed(): void; ended(): void; matches(pattern: RegExp): Promise<void> } {
  let over = false;
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const changed = () => {
    const text = stderr();
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(text)) w.resolve();
      else if (over) w.reject(new Error(`the ${what} ended before stderr matched ${w.pattern}:\n${text}`));
      else waiters.push(w);
    }
  };
  return {
    changed,
    ended: () => {
      over = true;
      changed();
    },
    matches: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        changed();
      }),
  };
}

export function watch(args: string[], options: CliOptions): Watched {
  const { child, done } = startCli(args, options);
  let stderr = '';
  const waits = stderrWaits(() => stderr, 'process');
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    waits.changed();
  });
  void done.then(waits.ended);
  return {
    pid: child.pid ?? -1,
    done,
    stderrMatches: waits.matches,
    kill: (signal) => child.kill(signal),
    resume: async () => {
      await untilStopped(child.pid ?? -1);
      child.kill('SIGCONT');
    },
  };
}

/**
 * A command run in this process (as runCli runs it) whose stderr can be waited on as watch's: for a
 * run whose being a process is not the point (a waiter for a lock, for instance).
 */
export function watchInProcess(args: string[], options: CliOptions): Pick<Watched, 'done' | 'stderrMatches'> {
  const log = process.env.JSM_TEST_SPAWN_LOG;
  if (log) appendFileSync(`${log}.inproc`, `${expect.getState().testPath ?? '?'}\t${args.slice(0, 2).join(' ')}\n`);
  const run = startInProcess(args, options);
  const waits = stderrWaits(() => run.stderr.text(), 'run');
  // Every write the run makes on its stderr is checked as it is made.
  const write = run.stderr.write.bind(run.stderr);
  run.stderr.write = (chunk) => {
    const written = write(chunk);
    waits.changed();
    return written;
  };
  void run.done.then(waits.ended, waits.ended);
  return { done: run.done, stderrMatches: waits.matches };
}

/**
 * Runs a command as a process that stops itself at the test hook `stop` (`step@n`, see
 * src/util/test-hooks.ts), kills it there with SIGKILL, and returns what it printed (exit 137).
 */
export async function killedAt(stop: string, args: string[], options: CliOptions): Promise<CliResult> {
  const run = watch(args, { ...options, env: { ...options.env, JSM_PROVISION_TEST_HOOKS: stop } });
  const [step, n] = stop.split('@');
  await run.stderrMatches(hookLine(step ?? '', n === undefined ? undefined : Number(n)));
  run.kill('SIGKILL');
  const killed = await run.done;
  expect(killed.code).toBe(137);
  return killed;
}

/** The marker line of a test hook (see src/util/test-hooks.ts). */
export function hookLine(step: string, n?: number): RegExp {
  return new RegExp(`jsm-provision-test-hook: ${step} ${n ?? '\\d+'} `);
}

/** How many times a run's stderr says it reached `step` (its test-hook lines): e.g. `provisioned`, once a chunk. */
export function hookCount(stderr: string, step: string): number {
  return stderr.match(new RegExp(`^${hookLine(step).source}`, 'gm'))?.length ?? 0;
}

export async function writeCsv(dir: string, name: string, emails: readonly string[]): Promise<void> {
  await writeFile(join(dir, name), `email,name\n${emails.map((e, i) => `${e},Customer ${i}`).join('\n')}\n`);
}

export function emails(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);
}

export interface Figures {
  customers: number;
  sent: number;
  pending: number;
  failed: number;
  inDoubt: number;
}

/**
 * The promise under faults, checked on the store as the next run reads it and on what the SMTP
 * sink accepted: the store opens; every customer came from the input, once; every new customer
 * has an invitation record (never lost) and was delivered at most once; `sent` was delivered,
 * `pending` and `failed` were not, `sending` (in doubt) may have been. With `complete`, every input
 * row is a customer, and nothing is left pending or failed.
 */
export async function checkInvariant(storePath: string, input: readonly string[], sink: SmtpSink, complete: boolean): Promise<Figures> {
  const store = await LocalStore.open(storePath);
  const { customers, invitations } = store.data;
  const wanted = new Set(input.map((e) => e.toLowerCase()));
  const delivered = new Map<string, number>();
  for (const message of sink.accepted()) for (const to of message.rcptTo) delivered.set(to.toLowerCase(), (delivered.get(to.toLowerCase()) ?? 0) + 1);
  const figures: Figures = { customers: 0, sent: 0, pending: 0, failed: 0, inDoubt: 0 };
  for (const key of customers.keys()) {
    expect(wanted.has(key), `${key} is a customer but not in the input`).toBe(true);
    figures.customers++;
    const record = invitations.ITH?.get(key);
    expect(record, `${key} is a new customer with no invitation record: lost`).toBeDefined();
    const times = delivered.get(key) ?? 0;
    expect(times, `${key} was emailed ${times} times`).toBeLessThanOrEqual(1);
    if (record?.status === 'sent') {
      figures.sent++;
      expect(times, `${key} is recorded sent but never arrived`).toBe(1);
    } else if (record?.status === 'pending' || record?.status === 'failed') {
      figures[record.status]++;
      expect(times, `${key} is ${record.status} but was delivered`).toBe(0);
    } else {
      expect(record?.status).toBe('sending');
      figures.inDoubt++;
    }
  }
  for (const to of delivered.keys()) expect(customers.get(to), `${to} was emailed but is no customer`).toBeDefined();
  if (complete) {
    expect(figures.customers).toBe(wanted.size);
    expect(figures.pending + figures.failed).toBe(0);
  }
  return figures;
}

/** A store with the project ITH at dir/jsm-store.json, made in-process (no CLI spawn). */
export async function projectStore(dir: string): Promise<string> {
  const path = join(dir, 'jsm-store.json');
  const target = await LocalTarget.open(path);
  await target.createProject('ITH', 'IT Help');
  await target.close();
  return path;
}
