import { z } from 'zod';
import type { CandidateRow, ValidRow } from './types.js';

const emailSchema = z.email();

/** Longest values JSM accepts (Jira's user directory columns are 255 characters). */
const MAX_EMAIL = 254;
const MAX_NAME = 255;
/** Admin-set passwords: long enough that a first-login password is not trivially guessed. */
export const MIN_PASSWORD = 8;

// Any kind of white space, line breaks and tabs included, folds to one space.
const WHITE_SPACE_RUN = /[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/gu;
// Control characters that are left after folding white space make a name invalid.
const CONTROL = /[\p{Cc}\p{Cf}]/u;

/** The lower-cased key by which emails are compared (CONTRACT.md: without regard to case). */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/** Folds runs of white space to one space and trims. */
export function foldName(name: string): string {
  return name.replace(WHITE_SPACE_RUN, ' ').trim();
}

/** Quotes a value for a message, cut short so a stray cell never floods the terminal. */
export function quote(value: string, max = 60): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return `'${shown.replace(/[\p{Cc}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

export type Validation = { ok: true; row: ValidRow } | { ok: false; email: string; reason: string };

/** Normalises and checks one row. The reason says what is wrong and how to fix it. */
export function validateRow(candidate: CandidateRow): Validation {
  const email = candidate.email.trim();
  if (candidate.error) return { ok: false, email, reason: candidate.error };
  if (email === '') return { ok: false, email, reason: 'has no email address' };
  if (email.length > MAX_EMAIL) {
    return { ok: false, email, reason: `email address is longer than ${MAX_EMAIL} characters` };
  }
  if (!emailSchema.safeParse(email).success) {
    return { ok: false, email, reason: `${quote(email)} is not an email address` };
  }
  const fullName = foldName(candidate.fullName);
  if (fullName === '') {
    return { ok: false, email, reason: `has no full name for ${email}` };
  }
  if (CONTROL.test(fullName)) {
    return {
      ok: false,
      email,
      reason: `the name ${quote(fullName)} contains control characters; remove them from the name`,
    };
  }
  if (fullName.length > MAX_NAME) {
    return { ok: false, email, reason: `the name is longer than ${MAX_NAME} characters` };
  }
  const row: ValidRow = { line: candidate.line, email, key: emailKey(email), fullName };
  const username = candidate.username?.trim() ?? '';
  if (username !== '') {
    if (CONTROL.test(username) || username.length > MAX_NAME) {
      return { ok: false, email, reason: `the username ${quote(username)} is not a Jira username; correct the username cell or leave it empty` };
    }
    row.username = username;
  }
  if (candidate.password !== undefined && candidate.password.length > 0) {
    // Never quote the password itself: only its length.
    if (candidate.password.length < MIN_PASSWORD) {
      return {
        ok: false,
        email,
        reason: `the password is shorter than ${MIN_PASSWORD} characters; give a longer one or leave the cell empty`,
      };
    }
    row.password = candidate.password;
  }
  return { ok: true, row };
}
