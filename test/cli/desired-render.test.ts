/** The words of a plan: terraform-like signs, capped at 50 changes and the rest counted. */
import { describe, expect, it } from 'vitest';
import { colors } from '../../src/cli/io/colors.js';
import { renderDesired, SHOWN_ACTIONS } from '../../src/cli/runs/desired-run.js';
import type { DesiredPlan, PlanAction } from '../../src/core/desired.js';

function plan(actions: PlanAction[]): DesiredPlan {
  return {
    sync: true,
    counts: { create: actions.filter((a) => a.action === 'create').length, existing: 0, remove: actions.filter((a) => a.action === 'remove').length, join: 0, leave: 0, invite: 0 },
    actions,
    customers: 0,
    limit: 5,
    rows: { total: actions.length, invalid: 0, duplicate: 0, failed: 0 },
    problems: [],
    invitation: { action: 'none', reason: 'already a customer: not invited again' },
    leaves: [],
    removals: [],
  };
}

describe('renderDesired', () => {
  it('shows the first 50 changes and counts the rest, naming the plan file', () => {
    const actions: PlanAction[] = Array.from({ length: 120 }, (_, i) => ({ action: 'create', email: `c${i}@example.com`, invite: false }));
    const text = renderDesired(plan(actions), colors(false), 'Sync plan for ITH:', 'plan.json');
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('  + create '))).toHaveLength(SHOWN_ACTIONS);
    expect(text).toContain('  ... and 70 more change(s) (the plan file plan.json lists them all)');
    expect(lines.at(-2)).toBe('Plan: 120 to create, 0 existing, 0 to remove, 0 to join, 0 to leave, 0 invitations to send.');
  });

  it('signs: + create, - remove, ~ join and leave; no changes said so', () => {
    const text = renderDesired(
      plan([
        { action: 'remove', email: 'r@example.com' },
        { action: 'join', email: 'j@example.com', organization: 'Acme' },
        { action: 'leave', email: 'l@example.com', organization: 'Acme' },
      ]),
      colors(false),
      'Plan:',
      null,
    );
    expect(text.split('\n').slice(1, 4)).toEqual(['  - remove r@example.com', '  ~ join   j@example.com -> Acme', '  ~ leave  l@example.com <- Acme']);
    expect(renderDesired(plan([]), colors(false), 'Plan:', null)).toContain('No changes: the project is as the file says.');
  });
});
