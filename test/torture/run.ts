/**
 * `npm run torture`: random kill -9s of the built CLI, on both targets, during provisioning and
 * during sending, each followed by re-runs of the same command to completion; then the figures:
 * rows lost, invitations lost, sent twice (all must be 0, else the exit code is 1).
 *
 *   npm run torture -- [--kills 30] [--seed 1] [--rows 240] [--only local|rest] [--verbose]
 *
 * A kill lands at a random moment chosen from what the run is observed to do (a marker line of
 * JSM_PROVISION_TEST_HOOKS, an account created at the JSM double, a message accepted at the SMTP
 * sink), plus a random delay of up to 40 ms, so kills fall between steps as well as on them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalStore } from '../../src/targets/local/store.js';
import { ledgerPathFor } from '../../src/targets/shared/ledger-file.js';
import { LocalTarget } from '../../src/targets/local/target.js';
import { mulberry32, startJsmDouble, type JsmDouble } from '../support/jsm-double.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';

const BIN = fileURLToPath(new URL('../../../bin/jsm-provision.js', import.meta.url));

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '30' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    rows: { type: 'string', default: '240' },
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});
const KILLS = Number(values.kills);
const SEED = Number(values.seed);
const ROWS = Number(values.rows);
const random = mulberry32(SEED);
const pick = (n: number) => Math.floor(random() * n);

type Target = 'local' | 'rest';
type Phase = 'provisioning' | 'sending';

interface Figures {
  rowsLost: number;
  invitationsLost: number;
  sentTwice: number;
  createdTwice: number;
  inDoubt: number;
}

interface Run {
  code: number | null;
  stderr: string;
}

/** Starts the CLI; `killWhen` is polled on every stderr line and sink/double event. */
function start(args: string[], cwd: string, env: Record<string, string>): { done: Promise<Run>; kill: () => void; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : null), stderr }));
  });
  return { done, kill: () => child.kill('SIGKILL'), stderr: () => stderr };
}

async function until(condition: () => boolean, done: Promise<Run>): Promise<boolean> {
  let ended = false;
  void done.then(() => {
    ended = true;
  });
  while (!condition()) {
    if (ended) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}

function csv(prefix: string): string {
  const lines = ['email,name,password'];
  // Every fourth row has a password: hashing makes provisioning last long enough to be cut.
  for (let i = 0; i < ROWS; i++) lines.push(`${prefix}${i}@example.com,${prefix} ${i},${i % 4 === 0 ? `Pw-${prefix}-${i}-xyz` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** One kill and its re-runs; returns the figures of the invariant after completion. */
async function oneCase(n: number, target: Target, phase: Phase, sink: SmtpSink): Promise<Figures & { note: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'jsm-provision-torture-'));
  let jsm: JsmDouble | null = null;
  try {
    const prefix = `t${n}x`;
    const emails = Array.from({ length: ROWS }, (_, i) => `${prefix}${i}@example.com`);
    await writeFile(join(dir, 'c.csv'), csv(prefix));
    const env: Record<string, string> = { JSM_PROVISION_TEST_HOOKS: '1' };
    let targetArgs: string[];
    if (target === 'local') {
      const setup = await LocalTarget.open(join(dir, 'jsm-store.json'));
      await setup.createProject('ITH', 'IT Help');
      await setup.close();
      targetArgs = [];
    } else {
      jsm = await startJsmDouble({ desks: 2 });
      Object.assign(env, { JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(dir, 'state') });
      targetArgs = ['--target', jsm.url];
    }
    const args = ['import-csv', 'c.csv', '--project', 'ITH', '--json', '--smtp', sink.url, '--mail-from', 'help@example.com', ...targetArgs];
    const mine = () => sink.accepted().filter((m) => m.rcptTo.some((r) => r.startsWith(prefix))).length;

    // The kill.
    const run = start(args, dir, env);
    let note: string;
    if (phase === 'provisioning') {
      if (target === 'local') {
        // Markers of provisioning: before-lock (in memory), log-written (the log line not yet whole),
        // commit (durable).
        const marks = ['before-lock 1', 'log-written 1', 'commit 1', 'claimed 1'];
        const mark = marks[pick(marks.length)] ?? 'commit 1';
        await until(() => run.stderr().includes(`test-hook: ${mark}`), run.done);
        note = `after "${mark}"`;
      } else {
        const creates = 1 + pick(ROWS - 1);
        await until(() => (jsm?.creates.filter((c) => c.username.startsWith(prefix)).length ?? 0) >= creates, run.done);
        note = `after ${creates} accounts created`;
      }
    } else {
      const sent = 1 + pick(ROWS - 1);
      await until(() => mine() >= sent, run.done);
      note = `after ${sent} messages accepted`;
    }
    const jitter = pick(40);
    if (jitter > 0) await new Promise((r) => setTimeout(r, jitter));
    run.kill();
    const killed = await run.done;
    note += ` +${jitter} ms${killed.code === 137 ? '' : ` (ended by itself, exit ${killed.code})`}`;

    // Re-runs to completion (a second one only if the first was not complete).
    let last: Run = { code: null, stderr: '' };
    for (let attempt = 0; attempt < 3; attempt++) {
      const { JSM_PROVISION_TEST_HOOKS: _hooks, ...rerunEnv } = env;
      last = await start(args, dir, rerunEnv).done;
      if (last.code === 0) break;
    }
    if (last.code !== 0) note += `; re-run exit ${last.code}: ${last.stderr.trim().split('\n').slice(-2).join(' | ')}`;

    // The invariant.
    const delivered = new Map<string, number>();
    for (const m of sink.accepted()) for (const r of m.rcptTo) if (r.startsWith(prefix)) delivered.set(r.toLowerCase(), (delivered.get(r.toLowerCase()) ?? 0) + 1);
    const ledgerPath = target === 'local' ? join(dir, 'jsm-store.json') : ledgerPathFor(jsm?.url ?? '', { JSM_STATE_DIR: join(dir, 'state') });
    const store = await LocalStore.open(ledgerPath);
    const records = store.data.invitations.ITH ?? new Map();
    let customers: Set<string>;
    let twice = 0;
    if (target === 'local') {
      customers = new Set([...store.data.customers.keys()]);
    } else {
      const desk = jsm?.desks.find((d) => d.projectKey === 'ITH');
      customers = new Set([...(desk?.customers ?? [])].map((u) => jsm?.users.get(u)?.emailAddress.toLowerCase() ?? u));
      const counts = new Map<string, number>();
      for (const c of jsm?.creates ?? []) counts.set(c.username, (counts.get(c.username) ?? 0) + 1);
      twice = [...counts.values()].filter((v) => v > 1).length;
    }
    const figures: Figures = { rowsLost: 0, invitationsLost: 0, sentTwice: 0, createdTwice: twice, inDoubt: 0 };
    for (const email of emails) {
      if (!customers.has(email)) figures.rowsLost++;
      const record = records.get(email);
      const times = delivered.get(email) ?? 0;
      if (times > 1) figures.sentTwice++;
      // Every row is new here: each is owed one invitation, delivered once or listed in doubt.
      if (record?.status === 'sending') figures.inDoubt++;
      else if (!record || record.status !== 'sent' || times !== 1) figures.invitationsLost++;
    }
    return { ...figures, note };
  } finally {
    await jsm?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sink = await startSmtpSink();
  const plan: { target: Target; phase: Phase }[] = [];
  const targets: Target[] = values.only === 'local' ? ['local'] : values.only === 'rest' ? ['rest'] : ['local', 'rest'];
  for (let i = 0; i < KILLS; i++) plan.push({ target: targets[i % targets.length] ?? 'local', phase: Math.floor(i / targets.length) % 2 === 0 ? 'provisioning' : 'sending' });
  console.log(`torture: ${KILLS} kills, ${ROWS} rows each, seed ${SEED} (npm run torture -- --seed ${SEED} repeats it)`);
  const totals: Record<string, Figures & { kills: number }> = {};
  let failedCases = 0;
  try {
    for (const [i, { target, phase }] of plan.entries()) {
      const f = await oneCase(i, target, phase, sink);
      const key = `${target} ${phase}`;
      const t = (totals[key] ??= { kills: 0, rowsLost: 0, invitationsLost: 0, sentTwice: 0, createdTwice: 0, inDoubt: 0 });
      t.kills++;
      t.rowsLost += f.rowsLost;
      t.invitationsLost += f.invitationsLost;
      t.sentTwice += f.sentTwice;
      t.createdTwice += f.createdTwice;
      t.inDoubt += f.inDoubt;
      const bad = f.rowsLost + f.invitationsLost + f.sentTwice + f.createdTwice > 0;
      if (bad) failedCases++;
      if (bad || values.verbose) {
        console.log(`  #${i + 1} ${key}, kill ${f.note}: rows lost ${f.rowsLost}, invitations lost ${f.invitationsLost}, sent twice ${f.sentTwice}, created twice ${f.createdTwice}, in doubt ${f.inDoubt}`);
      }
    }
  } finally {
    await sink.close();
  }
  console.log('');
  console.log('| kills | where | rows lost | invitations lost | sent twice | accounts created twice | in doubt (listed) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const sum = { kills: 0, rowsLost: 0, invitationsLost: 0, sentTwice: 0, createdTwice: 0, inDoubt: 0 };
  for (const [key, t] of Object.entries(totals)) {
    console.log(`| ${t.kills} | ${key} | ${t.rowsLost} | ${t.invitationsLost} | ${t.sentTwice} | ${t.createdTwice} | ${t.inDoubt} |`);
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += t[k];
  }
  console.log(`| ${sum.kills} | all | ${sum.rowsLost} | ${sum.invitationsLost} | ${sum.sentTwice} | ${sum.createdTwice} | ${sum.inDoubt} |`);
  console.log('');
  console.log(`rows lost: ${sum.rowsLost}`);
  console.log(`invitations lost: ${sum.invitationsLost}`);
  console.log(`sent twice: ${sum.sentTwice}`);
  if (failedCases > 0) {
    console.log(`FAILED: ${failedCases} of ${plan.length} kills broke a promise`);
    process.exitCode = 1;
  } else {
    console.log(`ok: every promise held through ${plan.length} kills`);
  }
}

await main();
