import { describe, expect, it } from 'vitest';
import { decideInvitation, runSuppressedBy, type CustomerSituation } from '../../src/core/invitation-policy.js';

describe('decideInvitation: every combination', () => {
  const situations: CustomerSituation[] = ['new', 'existing', 'invitation-due'];
  const cases = situations.flatMap((customer) =>
    (['send', 'defer', 'none'] as const).flatMap((invitations) => [true, false].map((projectSendsInvitations) => ({ customer, invitations, projectSendsInvitations }))),
  );

  it.each(cases)('%o', (input) => {
    const decision = decideInvitation(input);
    if (input.customer === 'existing') {
      expect(decision).toEqual({ action: 'none', reason: 'already a customer: not invited again' });
    } else if (!input.projectSendsInvitations) {
      // The project setting wins over the flag when both apply.
      expect(decision).toEqual({
        action: 'suppress',
        suppressedBy: 'project-setting',
        reason: 'the project says "Do not send account verification emails"',
      });
    } else if (input.invitations === 'none') {
      expect(decision).toEqual({ action: 'suppress', suppressedBy: 'flag', reason: 'the run was given --no-invite' });
    } else if (input.invitations === 'defer') {
      expect(decision.action).toBe('defer');
    } else {
      expect(decision.action).toBe('send');
      expect(decision.reason).toBe(input.customer === 'new' ? 'new customer' : 'owed by an earlier run that was cut off');
    }
  });

  it('covers all 18 combinations', () => {
    expect(cases).toHaveLength(18);
  });

  it('says suppressedBy for the whole run, the project setting first', () => {
    expect(runSuppressedBy('send', true)).toBeNull();
    expect(runSuppressedBy('defer', true)).toBeNull();
    expect(runSuppressedBy('none', true)).toBe('flag');
    expect(runSuppressedBy('send', false)).toBe('project-setting');
    expect(runSuppressedBy('none', false)).toBe('project-setting');
  });
});
