/**
 * `npm run torture`: the built CLI cut off and disturbed in every way its promises must survive,
 * each case followed by re-runs of the same command to completion; then the figures per scenario:
 * rows lost, invitations lost, sent twice, wrongly invited (someone who existed before), accounts
 * created twice (all must be 0, else the exit code is 1), and invitations listed in doubt.
 *
 *   npm run torture -- [--cases 16] [--seed 1] [--rows 160] [--minutes 4] [--only <scenario>[,<scenario>]] [--verbose]
 *
 * No new case starts after --minutes (the cases run are reported; 0: no limit).
 *
 * Scenarios (each case picks the next one in turn):
 *   kill-local, kill-rest   kill -9 while provisioning or while sending (rows mixed with existing customers)
 *   compaction              local, enough rows that sending triggers a compaction; kill -9 in or around it
 *   upgrade                 local, a store of format 1 (the release before the store log) upgraded by a killed import
 *   resend                  deferred invitations, `invitations send` killed -9 while sending, then sent again
 *   rest-faults             REST with answers cut after the write, 503s, 429s and slow answers; then a kill -9,
 *                           or a login page answered 200 mid-run (a session ended behind an SSO proxy)
 *   namespaces-rest         two REST runs of the same rows at once, each pid 1 of its own PID namespace,
 *                           separate state folders, answers cut; one killed -9; then a re-run
 *   namespaces-local        three imports into one local store at once, each pid 1 of its own PID namespace
 * The namespace scenarios need root and `unshare` (util-linux); without them they are skipped, said so.
 * A kill lands at a moment chosen from what the run is observed to do (a marker line of
 * JSM_PROVISION_TEST_HOOKS, an account created at the JSM double, a message accepted at the SMTP
 * sink), plus a random delay of up to 40 ms, so kills fall between steps as well as on them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { InvitationRecord } from '../../src/core/types.js';
import { LocalStore } from '../../src/store/store.js';
import { ledgerPathFor } from '../../src/store/ledger-file.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { mulberry32, startJsmDouble, type JsmDouble, type JsmDoubleOptions } from '../support/jsm-double.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const BIN = fileURLToPath(new URL('../../../bin/jsm-provision.js', import.meta.url));
const FORMAT_1 = fileURLToPath(new URL('../../../test/store/fixtures/format-1/', import.meta.url));

const SCENARIOS = ['kill-local', 'kill-rest', 'compaction', 'upgrade', 'resend', 'rest-faults', 'namespaces-rest', 'namespaces-local'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '16' },
    minutes: { type: 'string', default: '4' },
    // The old name of --cases.
    kills: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    rows: { type: 'string', default: '160' },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const CASES = Number(values.kills ?? values.cases);
const SEED = Number(values.seed);
const ROWS = Number(values.rows);
const BUDGET_MS = Number(values.minutes) * 60_000;
const random = mulberry32(SEED);
const pick = (n: number) => Math.floor(random() * n);
const CAN_UNSHARE = process.getuid?.() === 0 && spawnSync('unshare', ['--version']).status === 0;

interface Figures {
  rowsLost: number;
  invitationsLost: number;
  sentTwice: number;
  wronglyInvited: number;
  createdTwice: number;
  inDoubt: number;
}
const FIGURES: (keyof Figures)[] = ['rowsLost', 'invitationsLost', 'sentTwice', 'wronglyInvited', 'createdTwice', 'inDoubt'];
const zero = (): Figures => ({ rowsLost: 0, invitationsLost: 0, sentTwice: 0, wronglyInvited: 0, createdTwice: 0, inDoubt: 0 });

interface Run {
  code: number | null;
  stderr: string;
}

interface Started {
  done: Promise<Run>;
  kill: () => void;
  stderr: () => string;
}

/** Starts the CLI (as pid 1 of a new PID namespace with `namespace`); `kill` is kill -9. */
function start(args: string[], cwd: string, env: Record<string, string>, namespace = false): Started {
  const command = namespace ? 'unshare' : process.execPath;
  const argv = namespace ? ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, BIN, ...args] : [BIN, ...args];
  const child = spawn(command, argv, { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    changed();
  });
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : null), stderr }));
  });
  const kill = (): void => {
    if (!namespace) {
      child.kill('SIGKILL');
      return;
    }
    // The CLI itself, by its pid out here (unshare then ends as it did).
    void readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
      .then((text) => {
        const inner = Number(text.trim().split(/\s+/)[0]);
        if (inner > 0) process.kill(inner, 'SIGKILL');
      })
      .catch(() => undefined);
  };
  return { done, kill, stderr: () => stderr };
}

/**
 * Told of everything a condition of `until` reads: the CLI's stderr, accounts created at the double,
 * messages at the sink, and a run's end. `until` checks again on each, never on a timer.
 */
const happened = new EventEmitter().setMaxListeners(0);
const changed = (): boolean => happened.emit('change');

async function until(condition: () => boolean, done: Promise<Run>): Promise<boolean> {
  let ended = false;
  void done.then(() => {
    ended = true;
    changed();
  });
  while (!condition()) {
    if (ended) return false;
    await once(happened, 'change');
  }
  return true;
}

async function jitter(): Promise<string> {
  const ms = pick(40);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  return `+${ms} ms`;
}

/** New rows `<prefix><i>`, with every fourth carrying a password (hashing makes provisioning last long enough to be cut). */
function newRows(prefix: string, n = ROWS): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com,${prefix} ${i},${i % 4 === 0 ? `Pw-${prefix}-${i}-xyz` : ''}`);
}

function csvOf(lines: string[]): string {
  return `email,name,password\n${lines.join('\n')}\n`;
}

/** Everyone a case knows of: who is owed one invitation, who existed before (owed none). */
interface People {
  owed: string[];
  existing: string[];
}

/** Re-runs a command (without test hooks) until it ends well, at most three times; '' or what the last one said. */
async function rerun(args: string[], dir: string, env: Record<string, string>): Promise<string> {
  const { JSM_PROVISION_TEST_HOOKS: _hooks, ...quiet } = env;
  let last: Run = { code: null, stderr: '' };
  for (let attempt = 0; attempt < 3; attempt++) {
    last = await start(args, dir, quiet).done;
    if (last.code === 0) return '';
  }
  return `; re-run exit ${last.code}: ${last.stderr.trim().split('\n').slice(-2).join(' | ')}`;
}

/** The figures of the promises, from what reached the sink, the customers there are, and the ledgers. */
async function judge(
  people: People,
  sink: SmtpSink,
  prefix: string,
  customers: Set<string>,
  ledgers: string[],
  jsm: JsmDouble | null,
): Promise<Figures> {
  const delivered = new Map<string, number>();
  for (const m of sink.accepted()) for (const r of m.rcptTo) if (r.toLowerCase().startsWith(prefix)) delivered.set(r.toLowerCase(), (delivered.get(r.toLowerCase()) ?? 0) + 1);
  const records = new Map<string, InvitationRecord[]>();
  for (const path of ledgers) {
    const store = await LocalStore.open(path).catch(() => null);
    for (const [key, record] of store?.data.invitations.ITH ?? []) records.set(key, [...(records.get(key) ?? []), record]);
  }
  const f = zero();
  if (jsm) {
    const counts = new Map<string, number>();
    for (const c of jsm.creates) counts.set(c.username, (counts.get(c.username) ?? 0) + 1);
    f.createdTwice = [...counts.values()].filter((v) => v > 1).length;
  }
  for (const email of [...people.owed, ...people.existing]) if (!customers.has(email)) f.rowsLost++;
  for (const email of people.owed) {
    const times = delivered.get(email) ?? 0;
    if (times > 1) f.sentTwice++;
    if (times === 1) continue;
    // Not delivered: listed in doubt (by any ledger) is kept track of; anything else is lost.
    if (times === 0 && (records.get(email) ?? []).some((r) => r.status === 'sending')) f.inDoubt++;
    else if (times === 0) f.invitationsLost++;
  }
  for (const email of people.existing) if ((delivered.get(email) ?? 0) > 0) f.wronglyInvited++;
  return f;
}

function restCustomers(jsm: JsmDouble): Set<string> {
  const desk = jsm.desks.find((d) => d.projectKey === 'ITH');
  return new Set([...(desk?.customers ?? [])].map((u) => jsm.users.get(u)?.emailAddress.toLowerCase() ?? u));
}

async function localCustomers(path: string): Promise<Set<string>> {
  const store = await LocalStore.open(path);
  return new Set([...store.data.customers.entries()].filter(([, c]) => c.projects.includes('ITH')).map(([k]) => k));
}

async function localStore(dir: string): Promise<string> {
  const path = join(dir, 'jsm-store.json');
  const setup = await LocalTarget.open(path);
  await setup.createProject('ITH', 'IT Help');
  await setup.close();
  return path;
}

interface Case {
  dir: string;
  prefix: string;
  sink: SmtpSink;
  mail: string[];
  doubles: JsmDouble[];
}

async function double(c: Case, options: JsmDoubleOptions = {}): Promise<JsmDouble> {
  const jsm = await startJsmDouble({
    desks: 2,
    ...options,
    onCreate: (count, username) => {
      options.onCreate?.(count, username);
      changed();
    },
  });
  c.doubles.push(jsm);
  return jsm;
}

/** Existing customers mixed into the rows: REST accounts under directory usernames, local customers made first. */
function existingPeople(prefix: string): string[] {
  return Array.from({ length: Math.max(2, Math.round(ROWS / 8)) }, (_, i) => `${prefix}old${i}@example.com`);
}

/** kill -9 while provisioning or while sending, on either target; rows mixed with existing customers. */
async function killCase(
  c: Case,
  target: 'local' | 'rest',
  phase: 'provisioning' | 'sending',
  faults?: JsmDoubleOptions,
  /** REST: instead of a kill, a login page answered 200 (a session ended behind an SSO proxy) after so many creates. */
  loginPageAfter?: number,
): Promise<{ figures: Figures; note: string }> {
  const { dir, prefix, sink } = c;
  const existing = existingPeople(prefix);
  const lines = newRows(prefix);
  // Interleaved, as a real export would have them.
  existing.forEach((e, i) => lines.splice(Math.min(lines.length, i * 8 + 3), 0, `${e},Old ${i},`));
  await writeFile(join(dir, 'c.csv'), csvOf(lines));
  const env: Record<string, string> = { JSM_PROVISION_TEST_HOOKS: '1' };
  let targetArgs: string[] = [];
  let jsm: JsmDouble | null = null;
  let ledger: string;
  if (target === 'local') {
    ledger = await localStore(dir);
    await writeFile(join(dir, 'old.csv'), csvOf(existing.map((e, i) => `${e},Old ${i},`)));
    await start(['import-csv', 'old.csv', '--project', 'ITH', '--no-invite', '--json'], dir, {}).done;
  } else {
    jsm = await double(c, { existingUsers: existing.map((e, i) => ({ name: `dir${prefix}${i}`, emailAddress: e, displayName: `Old ${i}` })), ...faults });
    Object.assign(env, { JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(dir, 'state') });
    targetArgs = ['--target', jsm.url];
    ledger = ledgerPathFor(jsm.url, { JSM_STATE_DIR: join(dir, 'state') });
  }
  const args = ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...c.mail, ...targetArgs];
  const mine = () => sink.accepted().filter((m) => m.rcptTo.some((r) => r.startsWith(prefix))).length;
  const run = start(args, dir, env);
  let note: string;
  if (jsm && loginPageAfter !== undefined) {
    const login = jsm;
    await until(() => login.creates.length >= loginPageAfter, run.done);
    login.setFaults({ failNext: [{ method: 'POST', path: /customer$|\/user$/, kind: 'login-page-200' }] });
    const stopped = await run.done;
    // The rest of what it did is done by the re-run; nothing was cut off.
    jsm.setFaults({ status503Rate: 0, cutAfterWriteRate: 0, failNext: [] });
    note = `a login page answered 200 after ${loginPageAfter} accounts created (exit ${stopped.code})`;
    note += await rerun(args, dir, env);
    const owedNow = lines.map((l) => l.split(',')[0] ?? '').filter((e) => !existing.includes(e));
    return { figures: await judge({ owed: owedNow, existing }, sink, prefix, restCustomers(jsm), [ledger], jsm), note };
  }
  if (phase === 'provisioning') {
    if (jsm) {
      const creates = 1 + pick(ROWS - 1);
      await until(() => (jsm?.creates.length ?? 0) >= creates, run.done);
      note = `after ${creates} accounts created`;
    } else {
      const marks = ['before-lock 1', 'log-written 1', 'commit 1', 'claimed 1'];
      const mark = marks[pick(marks.length)] ?? 'commit 1';
      await until(() => run.stderr().includes(`test-hook: ${mark}`), run.done);
      note = `after "${mark}"`;
    }
  } else {
    const sent = 1 + pick(ROWS - 1);
    await until(() => mine() >= sent, run.done);
    note = `after ${sent} messages accepted`;
  }
  note += ` ${await jitter()}`;
  run.kill();
  const killed = await run.done;
  if (killed.code !== 137) note += ` (ended by itself, exit ${killed.code})`;
  if (jsm && faults) jsm.setFaults({ status503Rate: 0, cutAfterWriteRate: 0 });
  note += await rerun(args, dir, env);
  const customers = jsm ? restCustomers(jsm) : await localCustomers(ledger);
  const owed = lines.map((l) => l.split(',')[0] ?? '').filter((e) => !existing.includes(e));
  return { figures: await judge({ owed, existing }, sink, prefix, customers, [ledger], jsm), note };
}

/** Local, rows enough that sending compacts the store; kill -9 at a compaction marker or while sending. */
async function compactionCase(c: Case): Promise<{ figures: Figures; note: string }> {
  const { dir, prefix, sink } = c;
  // A compaction is due once 1,000 records were replaced and more than half of the store is dead weight.
  const n = Math.max(ROWS, 600);
  const lines = newRows(prefix, n).map((l) => l.replace(/,[^,]*$/, ','));
  await writeFile(join(dir, 'c.csv'), csvOf(lines));
  const path = await localStore(dir);
  const args = ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...c.mail];
  const note = await killAtOneOf(['snapshot-renamed 1', 'compacted 1', 'before-rename 1'], args, dir);
  const owed = lines.map((l) => l.split(',')[0] ?? '');
  return { figures: await judge({ owed, existing: [] }, sink, prefix, await localCustomers(path), [path], null), note };
}

/** Runs the command, kills it -9 at one of the test-hook marks (chosen by the seed), runs it again; says what happened. */
async function killAtOneOf(marks: readonly string[], args: string[], dir: string): Promise<string> {
  const env = { JSM_PROVISION_TEST_HOOKS: '1' };
  const run = start(args, dir, env);
  const mark = marks[pick(marks.length)] ?? (marks[0] as string);
  const reached = await until(() => run.stderr().includes(`test-hook: ${mark}`), run.done);
  let note = reached ? `after "${mark}" ${await jitter()}` : `no "${mark}" (the run ended first)`;
  run.kill();
  const killed = await run.done;
  if (killed.code !== 137) note += ` (ended by itself, exit ${killed.code})`;
  return note + (await rerun(args, dir, env));
}

/** A store of format 1 with its journal, upgraded by an import that is killed -9; nothing of it may be lost. */
async function upgradeCase(c: Case): Promise<{ figures: Figures; note: string }> {
  const { dir, prefix, sink } = c;
  const path = join(dir, 'jsm-store.json');
  await copyFile(join(FORMAT_1, 'jsm-store.json'), path);
  await copyFile(join(FORMAT_1, 'jsm-store.json.journal'), `${path}.journal`);
  const before = await localCustomers(path);
  const lines = newRows(prefix);
  await writeFile(join(dir, 'c.csv'), csvOf(lines));
  const args = ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...c.mail];
  const note = await killAtOneOf(['before-rename 1', 'snapshot-renamed 1', 'commit 1', 'claimed 1', 'sent 3'], args, dir);
  const after = await localCustomers(path);
  const figures = await judge({ owed: lines.map((l) => l.split(',')[0] ?? ''), existing: [] }, sink, prefix, after, [path], null);
  // The customers the old store held are rows too.
  figures.rowsLost += [...before].filter((k) => !after.has(k)).length;
  return { figures, note };
}

/** Deferred invitations, then `invitations send` killed -9 while sending, then sent again to the end. */
async function resendCase(c: Case, target: 'local' | 'rest'): Promise<{ figures: Figures; note: string }> {
  const { dir, prefix, sink } = c;
  const lines = newRows(prefix).map((l) => l.replace(/,[^,]*$/, ','));
  await writeFile(join(dir, 'c.csv'), csvOf(lines));
  let targetArgs: string[] = [];
  const env: Record<string, string> = {};
  let jsm: JsmDouble | null = null;
  let ledger: string;
  if (target === 'local') ledger = await localStore(dir);
  else {
    jsm = await double(c);
    Object.assign(env, { JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(dir, 'state') });
    targetArgs = ['--target', jsm.url];
    ledger = ledgerPathFor(jsm.url, { JSM_STATE_DIR: join(dir, 'state') });
  }
  const deferred = await start(['import-csv', 'c.csv', '--project', 'ITH', '--defer-invites', '--json', ...targetArgs], dir, env).done;
  let note = deferred.code === 0 ? '' : `(the deferred import ended ${deferred.code}) `;
  const args = ['invitations', 'send', '--project', 'ITH', '--yes', '--json', ...c.mail, ...targetArgs];
  const run = start(args, dir, { ...env, JSM_PROVISION_TEST_HOOKS: '1' });
  const sent = 1 + pick(ROWS - 1);
  await until(() => sink.accepted().filter((m) => m.rcptTo.some((r) => r.startsWith(prefix))).length >= sent, run.done);
  note += `${target}: after ${sent} messages accepted ${await jitter()}`;
  run.kill();
  const killed = await run.done;
  if (killed.code !== 137) note += ` (ended by itself, exit ${killed.code})`;
  note += await rerun(args, dir, env);
  const customers = jsm ? restCustomers(jsm) : await localCustomers(ledger);
  return { figures: await judge({ owed: lines.map((l) => l.split(',')[0] ?? ''), existing: [] }, sink, prefix, customers, [ledger], jsm), note };
}

/** REST with faults on every side: answers cut after the write, 503s, a rate limit (429s), slow answers. */
async function restFaultsCase(c: Case): Promise<{ figures: Figures; note: string }> {
  const faults: JsmDoubleOptions = {
    latencyMs: 1 + pick(4),
    rateLimit: { capacity: 30, refillPerSecond: 200 },
    faults: { status503Rate: 0.05 + random() * 0.1, cutAfterWriteRate: 0.05 + random() * 0.15, seed: pick(1_000_000) },
  };
  const how = pick(3);
  if (how === 2) {
    const r = await killCase(c, 'rest', 'provisioning', faults, 1 + pick(ROWS - 1));
    return { figures: r.figures, note: r.note };
  }
  const phase = how === 0 ? 'provisioning' : 'sending';
  const r = await killCase(c, 'rest', phase, faults);
  return { figures: r.figures, note: `${phase}, ${r.note}` };
}

/**
 * Two REST runs of the same rows at once, each pid 1 of a fresh PID namespace, separate state
 * folders (only JSM is shared), answers cut after the write; one of them killed -9; then one re-run.
 */
async function namespacesRestCase(c: Case): Promise<{ figures: Figures; note: string }> {
  const { dir, prefix, sink } = c;
  const existing = existingPeople(prefix);
  const lines = [...newRows(prefix), ...existing.map((e, i) => `${e},Old ${i},`)];
  await writeFile(join(dir, 'c.csv'), csvOf(lines));
  const jsm = await double(c, {
    latencyMs: 1,
    existingUsers: existing.map((e, i) => ({ name: `dir${prefix}${i}`, emailAddress: e })),
    faults: { cutAfterWriteRate: 0.2, seed: pick(1_000_000) },
  });
  const folders = ['a', 'b'].map((f) => join(dir, f));
  const args = ['import-csv', 'c.csv', '--project', 'ITH', '--json', ...c.mail, '--target', jsm.url];
  const envOf = (folder: string) => ({ JSM_TOKEN: 'test-token', JSM_STATE_DIR: folder });
  const runs = folders.map((f) => start(args, dir, envOf(f), true));
  const creates = 1 + pick(ROWS - 1);
  await until(() => jsm.creates.length >= creates, Promise.all(runs.map((r) => r.done)).then(() => ({ code: 0, stderr: '' })));
  let note = `one killed after ${creates} accounts created ${await jitter()}`;
  runs[0]?.kill();
  const ended = await Promise.all(runs.map((r) => r.done));
  note += ` (exits ${ended.map((e) => e.code).join(', ')})`;
  jsm.setFaults({ cutAfterWriteRate: 0 });
  for (const folder of folders) note += await rerun(args, dir, envOf(folder));
  const ledgers = folders.map((f) => ledgerPathFor(jsm.url, { JSM_STATE_DIR: f }));
  const owed = lines.map((l) => l.split(',')[0] ?? '').filter((e) => !existing.includes(e));
  return { figures: await judge({ owed, existing }, sink, prefix, restCustomers(jsm), ledgers, jsm), note };
}

/** Three imports into one local store at once, each pid 1 of a fresh PID namespace (same host name). */
async function namespacesLocalCase(c: Case): Promise<{ figures: Figures; note: string }> {
  const { dir, prefix, sink } = c;
  const path = await localStore(dir);
  const parts = ['a', 'b', 'c'];
  const all: string[] = [];
  for (const part of parts) {
    const lines = newRows(`${prefix}${part}`, Math.ceil(ROWS / 3));
    all.push(...lines);
    await writeFile(join(dir, `${part}.csv`), csvOf(lines));
  }
  const runs = parts.map((part) => start(['import-csv', `${part}.csv`, '--project', 'ITH', '--json', ...c.mail], dir, {}, true));
  const ended = await Promise.all(runs.map((r) => r.done));
  let note = `exits ${ended.map((e) => e.code).join(', ')}`;
  for (const part of parts) note += await rerun(['import-csv', `${part}.csv`, '--project', 'ITH', '--json', ...c.mail], dir, {});
  return { figures: await judge({ owed: all.map((l) => l.split(',')[0] ?? ''), existing: [] }, sink, prefix, await localCustomers(path), [path], null), note };
}

async function oneCase(n: number, scenario: Scenario, sink: SmtpSink): Promise<{ figures: Figures; note: string } | null> {
  const dir = await mkdtemp(join(tmpdir(), 'jsm-provision-torture-'));
  await mkdir(join(dir, 'state'), { recursive: true });
  const c: Case = { dir, prefix: `t${n}x`, sink, mail: ['--smtp', sink.url, '--mail-from', 'help@example.com'], doubles: [] };
  try {
    const phase = n % 4 < 2 ? 'provisioning' : 'sending';
    switch (scenario) {
      case 'kill-local':
        return await killCase(c, 'local', phase);
      case 'kill-rest':
        return await killCase(c, 'rest', phase);
      case 'compaction':
        return await compactionCase(c);
      case 'upgrade':
        return await upgradeCase(c);
      case 'resend':
        return await resendCase(c, n % 2 === 0 ? 'local' : 'rest');
      case 'rest-faults':
        return await restFaultsCase(c);
      case 'namespaces-rest':
        return CAN_UNSHARE ? await namespacesRestCase(c) : null;
      case 'namespaces-local':
        return CAN_UNSHARE ? await namespacesLocalCase(c) : null;
    }
  } finally {
    await Promise.all(c.doubles.map((d) => d.close()));
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const wanted = values.only ? values.only.split(',').map((s) => s.trim()) : [...SCENARIOS];
  // The old --only local|rest.
  const chosen = SCENARIOS.filter((s) => wanted.includes(s) || wanted.some((w) => (w === 'local' || w === 'rest') && s === `kill-${w}`));
  if (chosen.length === 0) throw new Error(`--only: none of ${wanted.join(', ')} is a scenario (${SCENARIOS.join(', ')})`);
  const sink = await startSmtpSink();
  sink.onMessage(changed);
  console.log(`torture: ${CASES} cases over ${chosen.join(', ')}; ${ROWS} rows each, seed ${SEED} (npm run torture -- --seed ${SEED} repeats it)`);
  if (!CAN_UNSHARE && chosen.some((s) => s.startsWith('namespaces'))) console.log('  (namespace scenarios skipped: they need root and unshare)');
  const totals = new Map<Scenario, Figures & { cases: number }>();
  let failedCases = 0;
  const started = Date.now();
  try {
    for (let i = 0; i < CASES; i++) {
      if (BUDGET_MS > 0 && Date.now() - started > BUDGET_MS) {
        console.log(`  (stopped after ${i} cases: --minutes ${values.minutes} is up)`);
        break;
      }
      const scenario = chosen[i % chosen.length] as Scenario;
      const r = await oneCase(i, scenario, sink);
      if (r === null) continue;
      const t = totals.get(scenario) ?? { cases: 0, ...zero() };
      totals.set(scenario, t);
      t.cases++;
      for (const k of FIGURES) t[k] += r.figures[k];
      const bad = FIGURES.some((k) => k !== 'inDoubt' && r.figures[k] > 0);
      if (bad) failedCases++;
      if (bad || values.verbose) {
        console.log(`  #${i + 1} ${scenario}, ${r.note}: ${FIGURES.map((k) => `${k} ${r.figures[k]}`).join(', ')}`);
      }
    }
  } finally {
    await sink.close();
  }
  console.log('');
  console.log('| cases | scenario | rows lost | invitations lost | sent twice | wrongly invited | accounts created twice | in doubt (listed) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const sum = { cases: 0, ...zero() };
  for (const [key, t] of totals) {
    console.log(`| ${t.cases} | ${key} | ${FIGURES.map((k) => t[k]).join(' | ')} |`);
    sum.cases += t.cases;
    for (const k of FIGURES) sum[k] += t[k];
  }
  console.log(`| ${sum.cases} | all | ${FIGURES.map((k) => sum[k]).join(' | ')} |`);
  console.log('');
  console.log(`lost: ${sum.rowsLost + sum.invitationsLost} (rows ${sum.rowsLost}, invitations ${sum.invitationsLost})`);
  console.log(`twice: ${sum.sentTwice + sum.createdTwice} (emails ${sum.sentTwice}, accounts ${sum.createdTwice})`);
  console.log(`wrongly invited: ${sum.wronglyInvited}`);
  console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
  if (failedCases > 0) {
    console.log(`FAILED: ${failedCases} of ${sum.cases} cases broke a promise`);
    process.exitCode = 1;
  } else {
    console.log(`ok: every promise held through ${sum.cases} cases`);
  }
}

await main();
