import { domainToASCII } from 'node:url';
import { LANGUAGE_HINT, normaliseLanguage } from './language.js';
import { codePointName, printable } from './printable.js';
import type { CandidateRow, ValidRow } from './types.js';

/** Longest values JSM accepts (Jira's user directory columns are 255 characters). */
const MAX_EMAIL = 254;
const MAX_NAME = 255;
/** Admin-set passwords: long enough that a first-login password is not trivially guessed. */
export const MIN_PASSWORD = 8;

// Any kind of white space, line breaks and tabs included, folds to one space.
const WHITE_SPACE_RUN = /[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+/gu;
// What is left after folding white space and makes a name invalid: control characters, and
// format characters other than those real text needs (below).
// Also refused: letters that show as nothing at all (the Hangul fillers, the combining grapheme
// joiner, Khmer's invisible vowels), so that no name is made of, or hides, blank characters.
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cf}\u2028\u2029\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5]/gu;
// Format characters real names use: soft hyphen, zero-width non-joiner (Persian and other scripts)
// and joiner (emoji families such as 👩‍💻), left-to-right/right-to-left/Arabic letter marks (mixed
// scripts), the Mongolian vowel separator (inside Mongolian words). Tag characters only within an
// emoji flag sequence (🏴 + tags + cancel tag, as in the flag of Scotland): elsewhere they are
// invisible. The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
// stay refused: they make a name display as another.
const NAME_FORMAT_OK = /^[\u00ad\u200c\u200d\u200e\u200f\u061c\u180e]$/u;
const FLAG_SEQUENCE = /\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/gu;
const BIDI_CONTROL = /^[\u202a-\u202e\u2066-\u2069]$/u;

/** The lower-cased key by which emails are compared (docs/contract.md: without regard to case). */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

/** Printable ASCII and Latin letters (no space, control or format character), words single-spaced. */
const PLAIN_NAME = /^[!-~\u00c0-\u024f]+(?: [!-~\u00c0-\u024f]+)*$/;

/** Folds runs of white space to one space and trims. */
export function foldName(name: string): string {
  return name.replace(WHITE_SPACE_RUN, ' ').trim();
}

/**
 * Quotes a value for a message, cut short so a stray cell never floods the terminal; every
 * character of `invisible` (and whatever `printable` rewrites) is shown as U+XXXX.
 */
export function quote(value: string, max = 60, invisible?: RegExp): string {
  const shown = printable(value, max);
  return `'${invisible ? shown.replace(invisible, codePointName) : shown}'`;
}

/** The characters of a (folded) name that make it invalid, in order, each once. */
export function forbiddenInName(name: string): string[] {
  const found = new Set<string>();
  const checked = name.includes('\u{1f3f4}') ? name.replace(FLAG_SEQUENCE, '') : name;
  for (const match of checked.matchAll(FORBIDDEN_IN_NAME)) if (!NAME_FORMAT_OK.test(match[0])) found.add(match[0]);
  return [...found];
}

/** A MIME encoded word (RFC 2047): a mail program may show it decoded, as anything at all. */
const ENCODED_WORD = /=\?[^?\s]+\?[bq]\?[^?\s]*\?=/i;

function encodedWordProblem(name: string): string | undefined {
  if (!ENCODED_WORD.test(name)) return undefined;
  return `the name ${quote(name)} holds a MIME encoded word (=?…?=), which mail programs may show decoded as another name; write the name as it should read`;
}

/**
 * Question marks where letters were: a file saved in a character set that cannot hold them (a
 * "windows-1252"/"Western" CSV export writes `?` for Greek, CJK, Arabic and emoji). Two in a row, one
 * that is or begins a word, or one between letters; real names and organizations hold none of these
 * ("Who? Ltd" keeps its own).
 */
const LOST_LETTERS = /\?\?|(?:^|\s)\?|\p{L}\?\p{L}/u;

/** Why a (folded) name, of a customer or organization, was garbled by a lossy export, or undefined. */
export function lostLettersProblem(name: string, what = 'the name'): string | undefined {
  if (!name.includes('?') || !LOST_LETTERS.test(name)) return undefined;
  return `${what} ${quote(name)} has question marks where letters were: the file was saved in a character set that could not hold them (a windows-1252 or "Western" CSV export writes ? for Greek, CJK, Arabic and emoji); save it again as UTF-8 (LibreOffice: character set "Unicode (UTF-8)"; Excel: "CSV UTF-8") and import that`;
}

/** Why a (folded) name cannot be shown to people as it is: what it hides or cannot say, or undefined. */
export function nameProblem(name: string): string | undefined {
  const encoded = encodedWordProblem(name);
  if (encoded !== undefined) return encoded;
  const lost = lostLettersProblem(name);
  if (lost !== undefined) return lost;
  // U+FFFD stands for bytes that were not text in the charset they were read as: the name is garbled.
  if (name.includes('\uFFFD')) {
    return `the name ${quote(name)} has characters that could not be decoded (shown as "\uFFFD"): it was written in another character set than it says; correct it at its source`;
  }
  const bad = forbiddenInName(name);
  if (bad.length === 0) return undefined;
  const names = bad.map(codePointName).join(', ');
  const shown = quote(name, 60, new RegExp(`[${bad.map((c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`).join('')}]`, 'gu'));
  if (bad.some((c) => BIDI_CONTROL.test(c))) {
    return `the name ${shown} contains ${names}: bidirectional overrides and isolates make a name display as something else; remove them from the name`;
  }
  return `the name ${shown} contains control characters or invisible format characters (${names}); remove them from the name`;
}

// RFC 5322 atext: letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ ; a dot-atom is runs of
// them joined by single dots. Domains: LDH labels (RFC 1035/5890) of at most 63 characters, not
// starting or ending with '-', at least two labels, the last one not all digits.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
const LDH_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const MAX_LOCAL = 64;
const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]";
const LDH = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** A dot-atom, an @ and two or more LDH labels: the addresses emailProblem accepts, less the length and digits checks. */
const PLAIN_ADDRESS = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*@(?:${LDH}\\.)+${LDH}$`);
// What an address is never allowed to hide: controls, format characters and any kind of space are
// shown as U+XXXX in its messages.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/gu;

/**
 * Why `email` (trimmed, not empty) is not an address we provision, or undefined when it is one.
 * Quoted local parts ("john doe"@example.com) and non-ASCII addresses (RFC 6531) are refused:
 * Jira's own email check and many mail servers do not accept them, so the account could not be
 * reached; the reason says what to ask for instead (for a non-ASCII domain, its xn-- form).
 */
export function emailProblem(email: string): string | undefined {
  // Most addresses are plain: one regular expression accepts them, the rest take the checks that say why.
  return isPlainAddress(email) ? undefined : addressProblem(email);
}

/**
 * A dot-atom of at most 64 characters, an @ and two or more LDH labels, the last not all digits:
 * an address every check of addressProblem accepts (a test holds the two together).
 */
export function isPlainAddress(email: string): boolean {
  return PLAIN_ADDRESS.test(email) && email.indexOf('@') <= MAX_LOCAL && !/\.[0-9]+$/.test(email);
}

/**
 * An address as a mail program or a spreadsheet copies it: `Ann Lee <ann@x.example>`, `<…>`,
 * `mailto:…`, one ending with the `;` Outlook puts between addresses, or several. Refused like any
 * other (a row is one customer and its cell is read as given), with the address to give instead.
 */
function copiedAddressProblem(email: string): string | undefined {
  const shown = quote(email);
  const angle = /^(.*?)<([^<>]+)>$/s.exec(email);
  if (angle !== undefined && angle !== null && isPlainAddress((angle[2] as string).trim())) {
    const what = (angle[1] as string).trim() === '' ? 'an address in <>' : 'a name and an address';
    return `${shown} is ${what}: give the address alone, ${printable((angle[2] as string).trim())}`;
  }
  const link = /^mailto:(.*)$/i.exec(email);
  if (link !== null && isPlainAddress((link[1] as string).trim())) return `${shown} is a mailto: link: give the address alone, ${printable((link[1] as string).trim())}`;
  const parts = email.split(/[;,]/).map((part) => part.trim());
  if (parts.length > 1 && isPlainAddress(parts[0] as string)) {
    if (parts.slice(1).every((part) => part === '')) return `${shown} ends with "${email.trimEnd().at(-1) as string}": give the address alone, ${printable(parts[0] as string)}`;
    if (parts.some((part, i) => i > 0 && isPlainAddress(part))) return `${shown} holds more than one address: give one customer a row (one address in the email column)`;
  }
  return undefined;
}

/** emailProblem's checks one by one, each with its reason. */
export function addressProblem(email: string): string | undefined {
  const copied = copiedAddressProblem(email);
  if (copied !== undefined) return copied;
  const shown = quote(email, 60, INVISIBLE);
  const at = email.lastIndexOf('@');
  if (at < 0) return `${shown} is not an email address: it has no @`;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local === '') return `${shown} is not an email address: nothing before the @`;
  if (domain === '') return `${shown} is not an email address: no domain after the @`;
  if (local.startsWith('"') || local.includes('@')) {
    return `${quote(email)} has a quoted local part (or a second @): Jira and many mail servers do not accept such addresses; ask the customer for an address without quotes`;
  }
  const hidden = [...new Set(email.match(INVISIBLE) ?? [])];
  if (hidden.length > 0) {
    return `${shown} is not an email address: it contains ${hidden.map(codePointName).join(', ')} (white space, a control or an invisible character); remove ${hidden.length > 1 ? 'them' : 'it'}`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(local)) {
    return `${shown} has non-ASCII characters before the @: internationalised addresses (RFC 6531) are not accepted by Jira and most mail servers; ask the customer for an ASCII address`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(domain)) {
    const ascii = domainToASCII(domain.toLowerCase());
    const hint = ascii !== '' && /^[a-z0-9.-]+$/.test(ascii) ? `write it as ${local}@${ascii}` : 'write the domain in its xn-- (punycode) form';
    return `${shown} has a non-ASCII domain: Jira accepts domains only in their ASCII form; ${hint}`;
  }
  if (local.length > MAX_LOCAL) return `${shown} is not an email address: the part before the @ is longer than ${MAX_LOCAL} characters`;
  if (!DOT_ATOM.test(local)) {
    const bad = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/.exec(local)?.[0];
    if (bad !== undefined) return `${shown} is not an email address: "${bad}" may not appear before the @`;
    return `${shown} is not an email address: a dot may not start or end the part before the @, nor follow another dot`;
  }
  const labels = domain.split('.');
  if (labels.length < 2) return `${shown} is not an email address: the domain "${printable(domain, 60)}" has no dot`;
  const badLabel = labels.find((label) => !LDH_LABEL.test(label));
  if (badLabel !== undefined) {
    const why =
      badLabel === ''
        ? 'has an empty label (two dots, or a dot at an end)'
        : badLabel.length > 63
          ? 'has a label longer than 63 characters'
          : badLabel.startsWith('-') || badLabel.endsWith('-')
            ? `has the label "${badLabel}", which starts or ends with "-"`
            : `has the label "${printable(badLabel, 60)}": only letters, digits and "-" are allowed`;
    return `${shown} is not an email address: the domain ${why}`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) return `${shown} is not an email address: the domain ends in a number`;
  return undefined;
}

export type Validation = { ok: true; row: ValidRow } | { ok: false; email: string; reason: string };

/** Why a row without a name cannot be provisioned: its customer does not exist, and creating one takes a name. */
export const NAME_NEEDED =
  'has no full name, which creating this customer needs (no account has this email yet; a customer who exists needs none): fill in the name, or name the column that holds names with --map fullName="Header"';

/** Normalises and checks one row. The reason says what is wrong and how to fix it; an empty name is allowed (see NAME_NEEDED). */
export function validateRow(candidate: CandidateRow): Validation {
  const email = candidate.email.trim();
  if (candidate.error) return { ok: false, email, reason: candidate.error };
  if (email === '') return { ok: false, email, reason: 'has no email address' };
  if (email.length > MAX_EMAIL) {
    return { ok: false, email, reason: `email address is longer than ${MAX_EMAIL} characters` };
  }
  const invalid = emailProblem(email);
  if (invalid !== undefined) return { ok: false, email, reason: invalid };
  // A name of printable ASCII and Latin letters, single-spaced, is folded already and has nothing to refuse.
  const plain = PLAIN_NAME.test(candidate.fullName);
  const fullName = plain ? candidate.fullName : foldName(candidate.fullName);
  // No name is fine for a customer who exists (joining the project or an organization): the plan,
  // which knows who exists, refuses a row without one only when it would create the customer.
  const problem = plain ? (fullName.includes('?') ? (encodedWordProblem(fullName) ?? lostLettersProblem(fullName)) : undefined) : nameProblem(fullName);
  if (problem !== undefined) return { ok: false, email, reason: problem };
  if (fullName.length > MAX_NAME) {
    return { ok: false, email, reason: `the name is longer than ${MAX_NAME} characters` };
  }
  const row: ValidRow = { line: candidate.line, email, key: emailKey(email), fullName };
  if (candidate.language !== undefined && candidate.language.trim() !== '') {
    const language = normaliseLanguage(candidate.language);
    if (language === undefined) return { ok: false, email, reason: `the language ${quote(candidate.language, 20)} is not a language code; ${LANGUAGE_HINT}` };
    row.language = language;
  }
  const username = candidate.username?.trim() ?? '';
  if (username !== '') {
    if (forbiddenInName(username).length > 0 || username.length > MAX_NAME) {
      return { ok: false, email, reason: `the username ${quote(username)} is not a Jira username; correct the username cell or leave it empty` };
    }
    row.username = username;
  }
  if (candidate.password !== undefined && candidate.password.length > 0) {
    const problem = passwordProblem(candidate.password.reveal());
    if (problem !== undefined) return { ok: false, email, reason: `${problem}; give another, or none to create the customer without a predefined password` };
    row.password = candidate.password;
  }
  return { ok: true, row };
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** How many characters a person sees in `text` (grapheme clusters: 👩‍💻 and é written e + ◌́ are one each). */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count++;
  return count;
}

// Line breaks of every kind, tabs and other control characters: no login form takes them.
const UNTYPABLE = /[\p{Cc}\u2028\u2029\u0085]/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a predefined password (not empty) could not be typed at a login, or undefined. Never quotes
 * the password: only what kind of character is wrong. The minimum counts characters as a person
 * types them, not UTF-16 units (four emoji are four characters, not eight).
 */
export function passwordProblem(password: string): string | undefined {
  if (password.trim() === '') return 'the password is only white space, which nobody can tell apart at a login';
  if (UNTYPABLE.test(password)) return 'the password contains a line break, a tab or another control character, which a login form cannot take';
  if (LONE_SURROGATE.test(password)) return 'the password contains a broken character (a lone UTF-16 surrogate)';
  if (characterCount(password) < MIN_PASSWORD) return `the password is shorter than ${MIN_PASSWORD} characters`;
  return undefined;
}
