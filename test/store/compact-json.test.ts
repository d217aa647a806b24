import { describe, expect, it } from 'vitest';
import { compactJson, jsonString } from '../../src/targets/local/store-file.js';
import type { InvitationRecord } from '../../src/core/types.js';

// Strings that JSON must escape, or must not: quotes, backslashes, controls, a lone surrogate, a
// real pair (an emoji), line and paragraph separators, and non-Latin text.
const STRINGS = ['plain', 'Ann "Annie" Lee', 'back\\slash', 'tab\there', 'nul\u0000', 'del\u007f', 'lone\ud800', 'pair 👩‍💻', 'sep\u2028\u2029', 'Łukasz 陳', '', '</script>'];

describe('the store writes JSON text by hand: it says what JSON.stringify would', () => {
  it.each(STRINGS)('jsonString(%j)', (value) => {
    expect(jsonString(value)).toBe(JSON.stringify(value));
  });

  it('an invitation record leaves out what the file says elsewhere, and reads back as it was', () => {
    const customer = { email: 'Ann@Example.com', fullName: 'Ann "Annie" Lee', mustChangePassword: false, createdAt: '2026-01-01T00:00:00.000Z', projects: ['ITH'] };
    const base: InvitationRecord = { project: 'ITH', key: 'ann@example.com', email: customer.email, fullName: customer.fullName, kind: 'welcome', status: 'pending', deferred: false, mustChangePassword: false, updatedAt: '2026-01-02T00:00:00.000Z' };
    const cases: [InvitationRecord, Record<string, unknown>][] = [
      [base, { kind: 'welcome', status: 'pending', updatedAt: base.updatedAt }],
      [
        { ...base, email: 'other@example.com', fullName: 'Tab\there', deferred: true, mustChangePassword: true, language: 'pt-BR', messageId: '<a"b@x>', status: 'suppressed', suppressedBy: 'flag', reason: 'lone\ud800', runId: 'r1' },
        { email: 'other@example.com', fullName: 'Tab\there', kind: 'welcome', status: 'suppressed', deferred: true, mustChangePassword: true, language: 'pt-BR', messageId: '<a"b@x>', suppressedBy: 'flag', reason: 'lone\ud800', runId: 'r1', updatedAt: base.updatedAt },
      ],
    ];
    for (const [record, expected] of cases) {
      const text = compactJson(record, customer);
      expect(JSON.parse(text)).toStrictEqual(expected);
      // Key order as the object's: the same text JSON.stringify makes of it.
      expect(text).toBe(JSON.stringify(expected));
    }
    // Without a customer record, email and name are written.
    expect(JSON.parse(compactJson(base, undefined))).toMatchObject({ email: base.email, fullName: base.fullName });
  });
});
