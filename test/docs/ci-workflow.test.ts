/**
 * docs/examples/jsm-sync.yml, the CI recipe of docs/ci.md, run as GitHub Actions would run it, so
 * that it cannot drift from the tool: each `run:` step of its plan and apply jobs runs in bash
 * (`--noprofile --norc -eo pipefail`, the workflow's shell) with the environment the workflow
 * gives it (`${{ vars.* }}` and `${{ secrets.* }}` from the table below, anything else empty, as
 * Actions gives a missing value), `jsm-provision` on PATH as the built CLI, a local store as the
 * target and a real SMTP server on loopback. Steps that only reach GitHub (installing the package,
 * finding the pull request's plan run) are left out, by name; the artifact is the plan file the
 * plan job left. The summary steps read the plan's and the apply's real JSON.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';
import { readStore } from '../support/store.js';

const WORKFLOW = fileURLToPath(new URL('../../docs/examples/jsm-sync.yml', import.meta.url));
/** Steps that only talk to GitHub: not run here. */
const GITHUB_ONLY = new Set(['Install jsm-provision', 'Find the plan of the pull request\'s last commit']);

interface Step {
  name: string;
  env: Record<string, string>;
  run?: string;
  uses?: string;
}
interface Workflow {
  env: Record<string, string>;
  shell: string | undefined;
  jobs: Map<string, Step[]>;
}

/** Reads the workflow's shape: enough YAML for this file (block scalars, maps of scalars, step lists). */
function parseWorkflow(text: string): Workflow {
  const lines = text.split('\n');
  const wf: Workflow = { env: {}, shell: undefined, jobs: new Map() };
  const indent = (l: string): number => l.length - l.trimStart().length;
  const scalar = (v: string): string => v.trim().replace(/^(['"])(.*)\1$/, '$2');
  let section = '';
  let job = '';
  let step: Step | undefined;
  let stepKey = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const depth = indent(line);
    if (depth === 0) {
      section = line.replace(/:.*$/, '');
      continue;
    }
    if (section === 'env' && depth === 2) {
      const [k, ...v] = line.trim().split(':');
      wf.env[k ?? ''] = scalar(v.join(':'));
    } else if (section === 'defaults' && line.trim().startsWith('shell:')) {
      wf.shell = scalar(line.trim().slice('shell:'.length));
    } else if (section === 'jobs' && depth === 2) {
      job = line.trim().replace(/:$/, '');
      wf.jobs.set(job, []);
      step = undefined;
    } else if (section === 'jobs' && depth === 6 && line.trimStart().startsWith('- ')) {
      step = { name: '', env: {} };
      wf.jobs.get(job)?.push(step);
      lines[i] = `${' '.repeat(8)}${line.trimStart().slice(2)}`;
      i--;
    } else if (section === 'jobs' && step && depth === 8) {
      const [k, ...v] = line.trim().split(':');
      const value = v.join(':').trim();
      stepKey = k ?? '';
      if (stepKey === 'name') step.name = scalar(value);
      if (stepKey === 'uses') step.uses = scalar(value);
      if (stepKey === 'run') {
        if (value !== '|') {
          step.run = scalar(value);
          continue;
        }
        const body: string[] = [];
        while (i + 1 < lines.length && (indent(lines[i + 1] ?? '') > 8 || (lines[i + 1] ?? '').trim() === '')) body.push((lines[++i] ?? '').slice(10));
        step.run = `${body.join('\n').trimEnd()}\n`;
      }
    } else if (section === 'jobs' && step && depth === 10 && stepKey === 'env') {
      const [k, ...v] = line.trim().split(':');
      step.env[k ?? ''] = scalar(v.join(':'));
    }
  }
  return wf;
}

const sinkHandle = useSmtpSink();
const projectDir = useProjectDir();
let dir: string;
let summary: string;
let context: Record<string, string>;
let workflow: Workflow;

/** `${{ expr }}` as Actions evaluates it here: from the table, else empty. */
function evaluate(value: string): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => context[expr] ?? '');
}

/** Runs one run-step in bash as Actions does; its exit code and output. */
function runStep(step: Step): Promise<{ code: number | null; out: string }> {
  expect(step.run, `${step.name} has a run script`).toBeDefined();
  expect(step.run).not.toContain('${{');
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', CI: 'true', GITHUB_STEP_SUMMARY: summary, PATH: `${join(dir, '.bin')}:${process.env.PATH ?? ''}` };
  for (const name of Object.keys(env)) if (name.startsWith('JSM_')) delete env[name];
  for (const [k, v] of Object.entries({ ...workflow.env, ...step.env })) env[k] = evaluate(v);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run ?? ''], { cwd: dir, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The run-steps of a job, in order, but those that only talk to GitHub. */
function runSteps(job: string): Step[] {
  const steps = workflow.jobs.get(job) ?? [];
  const skipped = steps.filter((s) => s.run !== undefined && GITHUB_ONLY.has(s.name)).map((s) => s.name);
  expect(skipped.length).toBeGreaterThan(0);
  return steps.filter((s) => s.run !== undefined && !GITHUB_ONLY.has(s.name));
}

async function runJob(job: string): Promise<Record<string, { code: number | null; out: string }>> {
  const results: Record<string, { code: number | null; out: string }> = {};
  for (const step of runSteps(job)) results[step.name] = await runStep(step);
  return results;
}

/** The store and its journal as they are on disk. */
async function storeFiles(): Promise<string> {
  const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8').catch(() => '');
  return `${await read('jsm-store.json')}\n--\n${await read('jsm-store.json.journal')}`;
}

const CUSTOMERS = ['email,full name', 'ann@example.com,Ann Archer', 'bob@example.com,Bob Baker', 'cid@example.com,Cid Cole'];

beforeEach(async () => {
  dir = projectDir();
  summary = join(dir, 'summary.md');
  await writeFile(summary, '');
  workflow = parseWorkflow(await readFile(WORKFLOW, 'utf8'));
  context = {
    'vars.JSM_TARGET': join(dir, 'jsm-store.json'),
    'vars.JSM_PROJECT': 'ITH',
    'vars.JSM_MAIL_FROM': 'help@example.com',
    'secrets.JSM_SMTP_URL': sinkHandle.sink.url,
    'github.workspace': dir,
  };
  await mkdir(join(dir, '.bin'));
  await writeFile(join(dir, '.bin', 'jsm-provision'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  await chmod(join(dir, '.bin', 'jsm-provision'), 0o755);
  // ITH has Ann, Bob and Cid; the file in the pull request keeps Ann and Bob, adds Dee.
  await writeFile(join(dir, 'seed.csv'), `${CUSTOMERS.join('\n')}\n`);
  expect((await runCli(['import-csv', 'seed.csv', '--project', 'ITH', '--no-invite', '--quiet'], { cwd: dir })).code).toBe(0);
  const file = workflow.env.CUSTOMERS_FILE ?? '';
  await mkdir(join(dir, file, '..'), { recursive: true });
  await writeFile(join(dir, file), `${[...CUSTOMERS.slice(0, 3), 'dee@example.com,Dee Dunn'].join('\n')}\n`);
});

describe('the CI recipe (docs/examples/jsm-sync.yml)', () => {
  it('plans on the pull request (counts in the job summary, nothing written or sent), applies on merge, and refuses a plan applied already (exit 4)', async () => {
    expect(workflow.shell).toBe('bash');
    expect([...workflow.jobs.keys()]).toEqual(['plan', 'apply']);
    const before = await storeFiles();

    const plan = await runJob('plan');
    expect(plan.Plan?.code, plan.Plan?.out).toBe(0);
    expect(plan.Summary?.code, plan.Summary?.out).toBe(0);
    const planned = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as { counts: Record<string, number> };
    expect(planned.counts).toEqual({ create: 1, existing: 2, remove: 1, join: 0, leave: 0, invite: 1 });
    const text = await readFile(summary, 'utf8');
    expect(text).toContain('### jsm-provision plan for ITH');
    expect(text).toContain('| 1 | 2 | 1 | 0 | 0 | 1 |');
    expect(text).toContain('dee@example.com');
    expect(text).not.toContain('null');
    expect(await storeFiles()).toBe(before);
    expect(sinkHandle.sink.messages).toHaveLength(0);

    await writeFile(summary, '');
    const apply = await runJob('apply');
    expect(apply.Apply?.code, apply.Apply?.out).toBe(0);
    const applied = await readFile(summary, 'utf8');
    expect(applied).toContain('created 1, removed 1, existing 2, failed 0; organization memberships ended 0; invitations sent 1');
    expect(applied).not.toContain('null');
    const store = await readStore(dir);
    expect(Object.values(store.customers).filter((c) => c.projects.includes('ITH')).map((c) => c.email).sort()).toEqual(['ann@example.com', 'bob@example.com', 'dee@example.com']);
    // Cid is out of the project, his account kept.
    expect(Object.values(store.customers).map((c) => c.email)).toContain('cid@example.com');
    expect(sinkHandle.sink.messages.map((m) => m.rcptTo)).toEqual([['dee@example.com']]);

    await writeFile(summary, '');
    const again = await runJob('apply');
    expect(again.Apply?.code, again.Apply?.out).toBe(4);
    expect(again.Apply?.out).toContain('::error::JSM or customers/ith.csv changed since the plan was reviewed');
    expect(await readFile(summary, 'utf8')).toMatch(/^### jsm-provision apply refused \(exit 4\)\n\n[a-z-]+: .+/);
    expect(sinkHandle.sink.messages).toHaveLength(1);
  });

  it('an apply after the project changed under the plan is refused (exit 4), nothing written', async () => {
    expect((await runJob('plan')).Plan?.code).toBe(0);
    // Someone adds a customer by hand after the review: the sync planned would now remove them too.
    expect((await runCli(['add-customer', '--project', 'ITH', '--email', 'eve@example.com', '--name', 'Eve Ember', '--no-invite', '--quiet'], { cwd: dir })).code).toBe(0);
    const before = await storeFiles();
    await writeFile(summary, '');
    const apply = await runJob('apply');
    expect(apply.Apply?.code, apply.Apply?.out).toBe(4);
    expect(await storeFiles()).toBe(before);
    expect(sinkHandle.sink.messages).toHaveLength(0);
  });

  it('the invitation ledger is saved under a key of its own at each attempt (a re-run of a job keeps what it did)', async () => {
    // A cache is never overwritten: a re-run (same run_id) saving under the key of its first attempt
    // would be refused, and the ledger of the re-run lost.
    const text = await readFile(WORKFLOW, 'utf8');
    const keys = [...text.matchAll(/^\s+key: (.+)$/gm)].map((m) => m[1]);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toContain('${{ github.run_attempt }}');
  });
});

