import type { Colors } from './colors.js';
import type { Plan } from '../../core/plan.js';
import { suppressedReason } from '../../core/invitation-policy.js';
import { printable } from '../../core/printable.js';
import type { OrganizationTotals, RunSummary } from '../../core/results.js';

const SHOWN_PROBLEMS = 20;

/**
 * A whole number with thousands separators, as `toLocaleString('en-US')` writes it, without
 * loading the ICU locale data that call costs at its first use (about 10 ms of every command).
 */
export function fmt(n: number): string {
  const digits = String(Math.abs(Math.round(n)));
  return `${n < 0 ? '-' : ''}${digits.replace(/\B(?=(\d{3})+$)/g, ',')}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmt(n)} ${n === 1 ? one : many}`;
}

/** Rows of cells as lines, every column but the last padded to its widest cell (at most `max`). */
export function columns(rows: readonly (readonly string[])[], max = 40): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.min(max, Math.max(widths[i] ?? 0, cell.length))));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** The human summary of a run (pure: returns the text). */
export function renderSummary(summary: RunSummary, c: Colors, where: string): string {
  const t = summary.totals;
  const i = summary.invitations;
  const lines: string[] = [];
  const head = summary.dryRun ? c.bold('Dry run: nothing was written and nothing was sent.') : '';
  if (head) lines.push(head);
  const verb = summary.dryRun ? 'would be' : '';
  lines.push(`${c.bold(summary.command)} into ${c.bold(summary.project)} (${printable(where)})`);
  const parts = [
    c.green(`${fmt(t.created)} ${verb ? 'to create' : 'created'}`),
    `${fmt(t.existing)} existing`,
    t.invalid ? c.red(`${fmt(t.invalid)} invalid`) : '0 invalid',
    t.duplicate ? c.yellow(`${fmt(t.duplicate)} duplicate`) : '0 duplicate',
    t.failed ? c.red(`${fmt(t.failed)} failed`) : '0 failed',
  ];
  lines.push(`  ${plural(t.rows, 'row')}: ${parts.join(', ')}`);
  lines.push(`  ${renderInvitations(summary)}`);
  const o = summary.organizations;
  if (o && o.created + o.addedToProject + o.memberships > 0) lines.push(`  ${renderOrganizations(o, summary.dryRun)}`);
  if (i.inDoubt > 0) {
    lines.push(
      c.yellow(`  ${plural(i.inDoubt, 'invitation')} in doubt (a run was cut off, or a connection lost, while sending): see \`invitations list --status in-doubt\``),
    );
  }
  if (summary.problems.length > 0) {
    lines.push(summary.dryRun ? 'Problems (these rows would be skipped):' : 'Problems:');
    // Emails, reasons and mailbox "lines" (file names) come from input: shown through printable.
    for (const p of summary.problems.slice(0, SHOWN_PROBLEMS)) {
      // add-customer's one row has no line to name: its flags are the input.
      const where = summary.command === 'add-customer' ? '' : `line ${printable(String(p.line))}: `;
      lines.push(`  ${where}${c.dim(`[${p.invitation ? `invitation ${p.invitation}` : p.status}]`)} ${p.email ? `${printable(p.email, 200)}: ` : ''}${printable(p.reason)}`);
    }
    const listed = Math.max(0, summary.problems.length - SHOWN_PROBLEMS);
    const omitted = summary.problemsOmitted ?? 0;
    if (omitted > 0) lines.push(`  … and ${fmt(listed + omitted)} more: see them all with --report <file.csv>`);
    else if (listed > 0) lines.push(`  … and ${fmt(listed)} more: use --report <file.csv> or --json to see them all`);
  }
  return lines.join('\n');
}

function renderInvitations(summary: RunSummary): string {
  const i = summary.invitations;
  const would = summary.dryRun;
  const parts: string[] = [];
  parts.push(`${fmt(i.sent)} ${would ? 'would be sent' : 'sent'}`);
  // Pending: deferred by --defer-invites, or not reached (an interrupt, a store that could not be written).
  if (i.pending) parts.push(`${fmt(i.pending)} pending (send them with \`invitations send\` and the same --smtp or --outbox)`);
  if (i.suppressed) parts.push(`${fmt(i.suppressed)} not sent: ${suppressedWhy(summary)}`);
  if (i.failed) parts.push(`${fmt(i.failed)} failed (retry with \`invitations send --failed\` and the same --smtp or --outbox)`);
  const where = i.sent > 0 ? (i.outbox ? ` to the outbox ${printable(i.outbox)}` : ' by SMTP') : '';
  const why = i.sent + i.pending + i.suppressed + i.failed === 0 && summary.totals.existing > 0 ? ' (customers who already exist are not invited again)' : '';
  return `invitations: ${parts.join(', ')}${where}${why}`;
}

function suppressedWhy(summary: RunSummary): string {
  const by = summary.invitations.suppressedBy;
  if (by === 'project-setting') return suppressedReason(by);
  if (by === 'flag') return '--no-invite';
  return 'suppressed';
}

/** What a run is about to do, for the confirmation question. */
export function renderPlan(plan: Plan, c: Colors, outbox: string | null = null): string {
  const n = plan.counts;
  const how = outbox === null ? 'will be emailed' : `will be written to the outbox ${printable(outbox)}`;
  const lines = [
    `${c.bold(plan.settings.command)} into ${c.bold(plan.settings.project.key)} (${printable(plan.settings.project.name)}):`,
    `  ${plural(plan.rowsTotal, 'row')} read: ${fmt(n.create + n.unknown)} to create, ${fmt(n.existing)} already customers, ${fmt(n.invalid)} invalid, ${fmt(n.duplicate)} duplicate`,
    `  ${c.bold(plural(n.invite, 'invitation'))} ${how}${n.unknown ? ' at most (accounts that already exist are not invited)' : ''}`,
  ];
  if (n.defer) lines.push(`  ${plural(n.defer, 'invitation')} deferred`);
  const o = plan.organizations.planned;
  if (o.created + o.addedToProject + o.memberships > 0) lines.push(`  ${renderOrganizations(o, true)}`);
  if (n.suppress) lines.push(`  ${plural(n.suppress, 'invitation')} not sent`);
  return lines.join('\n');
}

/** `organizations: 2 created, 3 added to the project, 40 memberships` (or what would be). */
function renderOrganizations(o: OrganizationTotals, would: boolean): string {
  const parts = would
    ? [`${fmt(o.created)} to create`, `${fmt(o.addedToProject)} to add to the project`, `${plural(o.memberships, 'membership')} to make`]
    : [`${fmt(o.created)} created`, `${fmt(o.addedToProject)} added to the project`, `${plural(o.memberships, 'membership')} made`];
  return `organizations: ${parts.join(', ')}`;
}
