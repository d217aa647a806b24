import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import { applyRemoval, planRemoval, plannedLeaves, type RemovalInput, type RemovalResult, type RemovalStatus } from '../../core/remove.js';
import { readEmailList } from '../../csv/email-list.js';
import { otherFormat, spreadsheetFormat } from '../../csv/decode.js';
import { inCwd } from '../io/io.js';
import { fileReason } from '../../util/atomic-file.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addProjectOption, type CommonOptions, wholeNumber } from '../settings/options.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { askConfirm, canConfirm } from '../io/prompts.js';
import { common, flag, parseSettings, projectOption, text } from '../settings/settings.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const removeSchema = z
  .object({
    ...common,
    project: projectOption,
    email: z.array(z.string()).default([]),
    file: text,
    maxRemovals: wholeNumber(0, 100_000_000).optional(),
    dryRun: flag,
    yes: flag,
  })
  .superRefine((s, ctx) => {
    if (s.email.length === 0 && s.file === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'missing',
        params: { code: 'missing-emails', message: 'say whom to remove: --email <address> (repeatable) or --file <list of emails>', hint: 'e.g. jsm-provision customers remove --project ITH --email fred@example.com' },
      });
    }
  });

export function addRemoveCommand(customers: Command): void {
  addCommonOptions(
    addProjectOption(
      customers
        .command('remove')
        .description("take customers out of a project and out of the project's organizations (their accounts are never deleted or deactivated)")
        .addOption(new Option('--email <address>', 'a customer to remove (repeatable)').argParser(collect))
        .option('--file <file>', 'a CSV with an email column (an export, a report), or one email per line')
        .option('--max-removals <n>', "allow up to this many removals (default: max(5, 10% of the project's customers))")
        .option('--dry-run', 'say what would be removed, and remove nothing')
        .option('-y, --yes', 'do not ask for confirmation in a terminal'),
    ),
  )
    .addHelpText(
      'after',
      `
A removed customer can no longer raise requests in the project's portal; their account stays
(never deleted or deactivated), and so do their requests and their other projects. In JSM the
members of an organization that is on a project are customers of it too, so a removed customer
also leaves the project's organizations (organizations of other projects are left alone).
More than max(5, 10% of the project's customers) removals are refused (exit 2) unless
--max-removals allows them. Results per email: removed, not-a-customer, invalid, duplicate, failed.

Review first: --dry-run lists who would be removed and the organizations they would leave, and
changes nothing; the same command without it then does that. To keep a whole list right instead
(removals and additions, reviewed as one plan): import-csv FILE --sync --plan plan.json, then
apply plan.json (refused with exit 4 when JSM changed since the plan).

Examples:
  $ jsm-provision customers remove --project ITH --file your-leavers.csv --dry-run
  $ jsm-provision customers remove --project ITH --file your-leavers.csv --yes --json
  $ jsm-provision customers remove --project ITH --email fred@example.com`,
    )
    .action(action('customers remove', runRemove));
}

async function readInputs(emails: readonly string[], file: string | undefined): Promise<RemovalInput[]> {
  const inputs: RemovalInput[] = emails.map((email, n) => ({ line: `--email #${n + 1}`, email }));
  if (file === undefined) return inputs;
  let bytes: Buffer;
  try {
    bytes = await readFile(inCwd(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError('file-not-found', `--file ${printable(file)}: no such file; nothing was removed`, 'check the path');
    // The list is the user's input, not one of this tool's files: its own code, not the store's.
    throw new UsageError('bad-file', `cannot read --file ${printable(file)}: ${fileReason(error)}; nothing was removed`, 'give a CSV with an email column, or one email per line');
  }
  // A workbook, the store, a plan or mail read as a list would be a line of "invalid" per line of it.
  const other = spreadsheetFormat(bytes) ?? otherFormat(bytes, file);
  if (other !== undefined) {
    throw new UsageError('bad-file', `--file ${printable(file)} is ${other.name}, not a list of emails; nothing was removed`, 'give a CSV with an email column (customers export writes one), or one email per line');
  }
  const content = bytes.toString('utf8');
  try {
    for (const listed of readEmailList(content)) inputs.push({ line: `${file}:${listed.line}`, email: listed.email });
  } catch (error) {
    throw new UsageError('bad-file', `--file ${printable(file)} is not a readable list of emails (${(error as Error).message}); nothing was removed`, 'give a CSV with an email column, or one email per line');
  }
  return inputs;
}

const STATUSES: RemovalStatus[] = ['removed', 'not-a-customer', 'invalid', 'duplicate', 'failed'];

function totals(results: readonly RemovalResult[]): Record<string, number> {
  const count = (s: RemovalStatus): number => results.filter((r) => r.status === s).length;
  return { emails: results.length, removed: count('removed'), notACustomer: count('not-a-customer'), invalid: count('invalid'), duplicate: count('duplicate'), failed: count('failed') };
}

async function runRemove(out: Output, raw: CommonOptions & { maxRemovals?: string }): Promise<CommandResult> {
  const options = parseSettings(removeSchema, raw);
  const inputs = await readInputs(options.email, options.file);
  if (inputs.length === 0) throw new UsageError('missing-emails', `--file ${printable(options.file ?? '')} holds no email: nothing was removed`, 'give a CSV with an email column, or one email per line');
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const plan = await planRemoval(target, project, inputs, options.maxRemovals);
      const due = plan.results.filter((r) => r.status === 'removed').length;
      const head = { target: target.kind, project: project.key, dryRun: options.dryRun };
      if (!options.dryRun && due > 0 && !options.yes && canConfirm()) {
        if (!(await askConfirm(`Remove ${due} customer(s) from ${project.key} (and from ${plannedLeaves(plan)} organization membership(s))? Their accounts stay.`))) {
          return { outcome: 'stopped', json: { ...head, error: { code: 'declined', message: 'the removal was not confirmed: nothing was removed' } }, notes: ['Nothing was removed.'] };
        }
      }
      const outcome = options.dryRun ? { results: plan.results, left: plannedLeaves(plan) } : await applyRemoval(target, plan);
      const problems = outcome.results.filter((r) => r.status === 'invalid' || r.status === 'duplicate' || r.status === 'failed');
      return {
        outcome: problems.length === 0 ? 'done' : 'problems',
        json: {
          ...head,
        totals: totals(outcome.results),
        organizations: { left: outcome.left },
        results: outcome.results.map((r) => ({ line: r.line, email: r.email, status: r.status, organizations: r.organizations, reason: r.reason ?? null })),
          problems: problems.map((r) => ({ line: r.line, email: r.email, status: r.status, reason: r.reason ?? '' })),
        },
        text: renderText(project.key, options.dryRun, outcome.results, outcome.left),
      };
    },
  );
}

function renderText(key: string, dryRun: boolean, results: readonly RemovalResult[], left: number): string {
  const lines = results.map((r) => {
    const status = r.status === 'removed' && dryRun ? 'would be removed' : r.status;
    const orgs = r.organizations.length > 0 ? ` (${dryRun ? 'would leave' : 'left'} ${r.organizations.join(', ')})` : '';
    return `${printable(r.email)}: ${status}${orgs}${r.reason !== undefined && r.status !== 'removed' && r.status !== 'not-a-customer' ? `: ${r.reason}` : ''}`;
  });
  const t = totals(results);
  const counts = STATUSES.filter((s) => results.some((r) => r.status === s)).map((s) => `${results.filter((r) => r.status === s).length} ${s === 'removed' && dryRun ? 'to remove' : s}`);
  lines.push(`${dryRun ? 'Dry run: nothing was removed. ' : ''}${key}: ${counts.join(', ') || `${t.emails} emails`}; organization memberships ${dryRun ? 'to end' : 'ended'}: ${left}. Accounts are never deleted or deactivated.`);
  return lines.join('\n');
}
