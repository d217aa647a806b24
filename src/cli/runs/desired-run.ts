/**
 * The CLI side of desired state (`import-csv --sync`, `--plan FILE`, `apply PLAN`): reading the
 * input (again), the input's SHA-256, the plan's words, and a run that does a plan: the import part
 * through the one row pipeline (runRowsOutcome), then the removals (src/core/desired.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { applyRemovals, planDesired, type DesiredPlan, type DesiredSettings, type PlanAction } from '../../core/desired.js';
import { UsageError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import type { Problem } from '../../core/results.js';
import type { Target } from '../../core/target.js';
import type { ProjectInfo } from '../../core/types.js';
import { candidates } from '../../csv/candidates.js';
import type { CsvReader } from '../../csv/index.js';
import { readFailure } from '../../util/atomic-file.js';
import type { Colors } from '../io/colors.js';
import type { Output } from '../io/output.js';
import { askConfirm, canConfirm } from '../io/prompts.js';
import { fmt, plural } from '../io/render.js';
import type { CommandResult } from '../io/result.js';
import { rowRunResult, runRowsOutcome, withOrganizations, type RowRunOptions } from './run-rows.js';

/** The SHA-256 of a file's bytes, in hex. */
export async function inputDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError('file-not-found', `${printable(path)}: no such file; nothing was written`, 'check the path');
    throw readFailure(path, error);
  }
  return hash.digest('hex');
}

/** Reads the input once more and plans against the target as it is now (nothing is written). */
export async function planFromInput(open: () => Promise<CsvReader>, target: Target, settings: DesiredSettings, extra: readonly string[]): Promise<DesiredPlan> {
  const reader = await open();
  try {
    const rows = candidates(reader.batches);
    return await planDesired(extra.length === 0 ? rows : withOrganizations(rows, extra), target, settings);
  } finally {
    reader.close();
  }
}

/**
 * Does a plan: the input's rows through the one pipeline (create, add, join, invite, as an import),
 * then, when that ended well, the removals. Prints the import's summary with `totals.removed` and
 * `organizations.left`. `finished`: called with whether everything the plan asked was done.
 */
export async function runDesired(
  target: Target,
  project: ProjectInfo,
  plan: DesiredPlan,
  open: () => Promise<CsvReader>,
  options: RowRunOptions,
  out: Output,
  finished?: (ok: boolean) => Promise<void>,
  /** Whether to ask in a terminal before removals (no --yes). */
  ask = false,
): Promise<CommandResult> {
  const n = plan.counts;
  if (ask && n.remove + n.leave > 0 && canConfirm()) {
    const question = `Remove ${plural(n.remove, 'customer')} from ${project.key} and end ${plural(n.leave, 'organization membership')}${n.invite > 0 ? `, and send ${plural(n.invite, 'invitation')}` : ''}? Accounts stay.`;
    out.always(renderDesired(plan, out.errColor, `${options.command} into ${project.key}:`, null).replace(/\nNothing was written and nothing was sent\.$/, ''));
    if (!(await askConfirm(question))) {
      return { outcome: 'stopped', json: { target: target.kind, project: project.key, error: { code: 'declined', message: 'the run was not confirmed: nothing was written and nothing was sent' } }, notes: ['Nothing was written and nothing was sent.'] };
    }
    // Asked once: the row run does not ask again about the invitations.
    const { confirm: _asked, ...rest } = options;
    options = rest;
  }
  const reader = await open();
  let run;
  try {
    run = await runRowsOutcome(candidates(reader.batches), target, project, options, out);
  } finally {
    reader.close();
  }
  let removed = 0;
  let left = 0;
  const problems: Problem[] = [];
  const went = !run.declined && !run.interrupted && run.endedWith === undefined;
  if (went && (plan.removals.length > 0 || plan.leaves.length > 0)) {
    const done = await applyRemovals(target, plan, project);
    removed = done.removed;
    left = done.left;
    for (const [key, reason] of done.failed) problems.push({ line: '-', email: key, status: 'failed', reason: `${reason}; run the same command again to finish` });
  }
  const summary = run.summary;
  run.summary = {
    ...summary,
    ok: summary.ok && problems.length === 0,
    totals: { ...summary.totals, removed },
    organizations: { ...summary.organizations, left },
    problems: [...summary.problems, ...problems],
  };
  // Done: everything the plan asked went through. Invalid and duplicate rows are the file's own (the
  // same file gives them again); a failed row, invitation or removal is for a run of it again to finish.
  const complete = went && summary.totals.failed === 0 && summary.invitations.failed === 0 && problems.length === 0;
  if (!run.declined) await finished?.(complete);
  const text = `Removed from ${project.key}: ${plural(removed, 'customer')}; organization memberships ended: ${fmt(left)}. Accounts are never deleted or deactivated.`;
  return rowRunResult(run, plan.sync ? { text: () => text } : {});
}

/** How many changes the words of a plan list before counting the rest. */
export const SHOWN_ACTIONS = 50;

const SIGNS: Record<PlanAction['action'], string> = { create: '+', add: '+', invite: '+', remove: '-', join: '~', leave: '~' };

/** A plan in words, the way `terraform plan` shows one: + create, - remove, ~ join/leave; capped and counted. */
export function renderDesired(plan: DesiredPlan, c: Colors, head: string, written: string | null): string {
  const lines = [head];
  const paint = (a: PlanAction): string => {
    const sign = SIGNS[a.action];
    const what = a.action === 'join' ? `join   ${printable(a.email)} -> ${printable(a.organization ?? '')}` : a.action === 'leave' ? `leave  ${printable(a.email)} <- ${printable(a.organization ?? '')}` : `${a.action.padEnd(6)} ${printable(a.email)}${a.invite ? ' (invited)' : ''}`;
    const line = `  ${sign} ${what}`;
    return sign === '+' ? c.green(line) : sign === '-' ? c.red(line) : c.yellow(line);
  };
  for (const a of plan.actions.slice(0, SHOWN_ACTIONS)) lines.push(paint(a));
  if (plan.actions.length > SHOWN_ACTIONS) lines.push(`  ... and ${fmt(plan.actions.length - SHOWN_ACTIONS)} more change(s)${written !== null ? ` (the plan file ${printable(written)} lists them all)` : ''}`);
  if (plan.actions.length === 0) lines.push('  No changes: the project is as the file says.');
  const n = plan.counts;
  const r = plan.rows;
  lines.push(
    `Plan: ${fmt(n.create)} to create, ${fmt(n.existing)} existing, ${fmt(n.remove)} to remove, ${fmt(n.join)} to join, ${fmt(n.leave)} to leave, ${plural(n.invite, 'invitation')} to send.`,
  );
  if (plan.sync && plan.hidden !== undefined && plan.hidden > 0) {
    lines.push(`${plural(plan.hidden, 'customer')} of the project hide their email (an Atlassian profile setting): a file cannot name them, so they are kept, in their organizations too.`);
  }
  if (r.invalid + r.duplicate + r.failed > 0) lines.push(`${plural(r.total, 'row')} read: ${fmt(r.invalid)} invalid, ${fmt(r.duplicate)} duplicate, ${fmt(r.failed)} would fail (see problems).`);
  lines.push('Nothing was written and nothing was sent.');
  return lines.join('\n');
}
