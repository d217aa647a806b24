import { UsageError } from '../core/errors.js';
import { printable } from '../core/printable.js';

export type Field = 'email' | 'fullName' | 'firstName' | 'lastName' | 'password' | 'language' | 'username' | 'organization';
export const FIELDS: readonly Field[] = ['email', 'fullName', 'firstName', 'lastName', 'password', 'language', 'username', 'organization'];

/** Column index of each field found; email always, a name by fullName or first/last. */
export interface Columns {
  email: number;
  fullName?: number;
  firstName?: number;
  lastName?: number;
  password?: number;
  language?: number;
  /** The Jira account to use (REST): a directory username such as `jsmith`. */
  username?: number;
  /** The organizations the customer joins (several separated by `;`). */
  organization?: number;
}

/** Header texts are compared without case, spaces, `-` and `_`: "E-Mail Address" = "emailaddress". */
export function normaliseHeader(text: string): string {
  return text.toLowerCase().replace(/[\s_-]+/g, '');
}

/**
 * Normalised header texts of each field, in order of preference. Besides plain names, these are the
 * columns the address books and CRMs write by themselves (docs/csv-input.md, "Contact exports"):
 * - Google Contacts, current: `First Name`, `Last Name`, `E-mail 1 - Label`, `E-mail 1 - Value`;
 *   legacy: `Name`, `Given Name`, `Family Name`, `E-mail 1 - Type`, `E-mail 1 - Value`;
 * - Outlook (classic and Outlook.com): `First Name`, `Last Name`, `E-mail Address`;
 * - Thunderbird: `First Name`, `Last Name`, `Display Name`, `Primary Email`;
 * - Salesforce reports (`Full Name`, `First Name`, `Last Name`, `Email`) and Data Loader
 *   (`FirstName`, `LastName`, `Email`); Microsoft Dynamics (`emailaddress1`);
 * - HubSpot (`First Name`, `Last Name`, `Email`), Zendesk (`name`, `email`), Mailchimp
 *   (`Email Address`), Yahoo (`First`, `Last`, `Email`), and German Excel (`E-Mail`, `Vorname`, `Nachname`).
 */
const ALIASES: Record<Field, readonly string[]> = {
  email: ['email', 'emailaddress', 'mail', 'emailadresse', 'email1value', 'primaryemail', 'emailaddress1', 'email1', 'primaryemailaddress'],
  fullName: ['fullname', 'name', 'displayname', 'contactname'],
  firstName: ['firstname', 'givenname', 'vorname', 'first'],
  lastName: ['lastname', 'surname', 'familyname', 'nachname', 'last'],
  password: ['password'],
  language: ['language', 'lang', 'locale'],
  username: ['username'],
  organization: ['organization', 'organisation', 'organizations', 'organisations', 'org'],
};

/** A cell that holds one address (Google's multi-value cells, `a@x ::: b@x`, are cut first). */
const LOOKS_LIKE_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The first value of a Google Contacts multi-value cell (`a@x ::: b@x`); others as they are. */
export function firstValue(cell: string): string {
  const at = cell.indexOf(':::');
  return at < 0 ? cell : cell.slice(0, at).trim();
}

const VALID_FIELDS = FIELDS.join(', ');

function toField(name: string): Field | undefined {
  return FIELDS.find((field) => field.toLowerCase() === normaliseHeader(name));
}

function badMap(message: string): UsageError {
  return new UsageError(
    'bad-map',
    message,
    `Write it as --map field="Header in the file", where field is one of: ${VALID_FIELDS}.`,
  );
}

/** Parses repeated `--map field=Header` values into field -> header text. */
export function parseMapOption(values: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at < 0) throw badMap(`--map "${value}" has no "=".`);
    const field = toField(value.slice(0, at).trim());
    if (field === undefined) {
      throw badMap(`--map "${value}": "${value.slice(0, at).trim()}" is not a field. The fields are: ${VALID_FIELDS}.`);
    }
    // A shell strips the quotes in --map fullName="Customer Name"; an npm script or CI file may not.
    const header = value.slice(at + 1).trim().replace(/^"(.*)"$/s, '$1').replace(/^'(.*)'$/s, '$1');
    if (header === '') throw badMap(`--map "${value}" names no header.`);
    if (field in map) throw badMap(`--map names ${field} twice.`);
    map[field] = header;
  }
  return map;
}

/** Checks the keys of a map given to openCsv directly (parseMapOption output passes). */
export function checkMap(map: Record<string, string>): Partial<Record<Field, string>> {
  const checked: Partial<Record<Field, string>> = {};
  for (const [name, header] of Object.entries(map)) {
    const field = toField(name);
    if (field === undefined) throw badMap(`--map: "${name}" is not a field. The fields are: ${VALID_FIELDS}.`);
    checked[field] = header;
  }
  return checked;
}

const LISTED = 15;

function listHeaders(headers: string[], limit = LISTED): string {
  // An Outlook export has 90 columns: the first ones say what the file is; all of them, a wall of text.
  const shown = headers.slice(0, limit).map((header) => `"${printable(header, 60)}"`).join(', ');
  return headers.length > limit ? `${shown} and ${headers.length - limit} more` : shown;
}

/**
 * Finds each field's column: --map first, then the aliases. A column serves one field only,
 * so `--map email=Name` does not also make "Name" the full name.
 */
export function resolveColumns(
  headers: string[],
  map: Partial<Record<Field, string>>,
  label: string,
  /** The first data rows, when a hint is to be made: the email hint picks a column of addresses. */
  sample: readonly string[][] = [],
): Columns {
  const normalised = headers.map(normaliseHeader);
  const found: Partial<Record<Field, number>> = {};
  const taken = new Set<number>();
  for (const field of FIELDS) {
    const header = map[field];
    if (header === undefined) continue;
    const index = normalised.indexOf(normaliseHeader(header));
    if (index < 0) {
      throw new UsageError(
        'unknown-map-header',
        `--map ${field}="${header}" names a column that is not in ${label}. Its columns are: ${listHeaders(headers, Infinity)}.`,
        `Use one of those names, e.g. --map ${field}="${guess(headers, taken, /./)}".`,
      );
    }
    found[field] = index;
    taken.add(index);
  }
  for (const field of FIELDS) {
    if (found[field] !== undefined) continue;
    const index = normalised.findIndex((name, i) => !taken.has(i) && ALIASES[field].includes(name));
    if (index < 0) continue;
    found[field] = index;
    taken.add(index);
  }

  const { email, ...rest } = found;
  if (email === undefined) {
    throw new UsageError(
      'no-email-column',
      `${label} has no email column. Its columns are: ${listHeaders(headers)}.`,
      `Name the column that holds the email addresses, e.g. --map email="${addressColumn(headers, taken, sample) ?? guess(headers, taken, /mail|@/)}".`,
    );
  }
  // No name column is fine: customers who exist need no name to join the project or an
  // organization (a CSV of email,organization); a row that would create someone is refused then,
  // with the way to a name (core/validate NAME_NEEDED), and the command says so once (nameColumnNote).
  return { email, ...rest };
}

/**
 * What to say of a file without a name column, or undefined when it has one: only customers who
 * exist can be added from it, and how to name the column that holds names.
 */
export function nameColumnNote(columns: Columns, headers: string[], label: string): string | undefined {
  if (columns.fullName !== undefined || columns.firstName !== undefined || columns.lastName !== undefined) return undefined;
  const taken = new Set(Object.values(columns).filter((i): i is number => i !== undefined));
  const free = headers.filter((_, i) => !taken.has(i));
  const hint = free.length > 0 ? `, or name the column that holds names with --map fullName="${guess(headers, taken, /name/)}"` : '';
  return `${label} has no name column: customers who exist are added (a name is needed only to create someone); rows of new customers are refused. Add a name column${hint}.`;
}

/** The free column where most sampled cells look like an address (at least one), if any. */
function addressColumn(headers: string[], taken: Set<number>, sample: readonly string[][]): string | undefined {
  let best: { index: number; count: number } | undefined;
  headers.forEach((_, index) => {
    if (taken.has(index)) return;
    const count = sample.filter((row) => LOOKS_LIKE_ADDRESS.test(firstValue((row[index] ?? '').trim()))).length;
    if (count > 0 && (best === undefined || count > best.count)) best = { index, count };
  });
  return best === undefined ? undefined : headers[best.index];
}

/** The header a hint suggests: the first free one that looks right, else the first free one. */
function guess(headers: string[], taken: Set<number>, looksRight: RegExp): string {
  const free = headers.filter((_, i) => !taken.has(i));
  return free.find((header) => looksRight.test(normaliseHeader(header))) ?? free[0] ?? headers[0] ?? '';
}
