import { UsageError } from '../core/errors.js';

export type Field = 'email' | 'fullName' | 'firstName' | 'lastName' | 'password' | 'username';
export const FIELDS: readonly Field[] = ['email', 'fullName', 'firstName', 'lastName', 'password', 'username'];

/** Column index of each field found; email always, a name by fullName or first/last. */
export interface Columns {
  email: number;
  fullName?: number;
  firstName?: number;
  lastName?: number;
  password?: number;
  /** The Jira account to use (REST): a directory username such as `jsmith`. */
  username?: number;
}

/** Header texts are compared without case, spaces, `-` and `_`: "E-Mail Address" = "emailaddress". */
export function normaliseHeader(text: string): string {
  return text.toLowerCase().replace(/[\s_-]+/g, '');
}

// Normalised. The German ones are what a German Excel export is headed with.
const ALIASES: Record<Field, readonly string[]> = {
  email: ['email', 'emailaddress', 'mail', 'emailadresse'],
  fullName: ['fullname', 'name', 'displayname'],
  firstName: ['firstname', 'givenname', 'vorname'],
  lastName: ['lastname', 'surname', 'familyname', 'nachname'],
  password: ['password'],
  username: ['username'],
};

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

function listHeaders(headers: string[]): string {
  return headers.map((header) => `"${header}"`).join(', ');
}

/**
 * Finds each field's column: --map first, then the aliases. A column serves one field only,
 * so `--map email=Name` does not also make "Name" the full name.
 */
export function resolveColumns(headers: string[], map: Partial<Record<Field, string>>, label: string): Columns {
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
        `--map ${field}="${header}" names a column that is not in ${label}. Its columns are: ${listHeaders(headers)}.`,
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
      `Name the column that holds the email addresses, e.g. --map email="${guess(headers, taken, /mail|@/)}".`,
    );
  }
  if (rest.fullName === undefined && rest.firstName === undefined && rest.lastName === undefined) {
    throw new UsageError(
      'no-name-column',
      `${label} has no name column (a full name, or first and last name). Its columns are: ${listHeaders(headers)}.`,
      `Name the column that holds the names, e.g. --map fullName="${guess(headers, taken, /name/)}".`,
    );
  }
  return { email, ...rest };
}

/** The header a hint suggests: the first free one that looks right, else the first free one. */
function guess(headers: string[], taken: Set<number>, looksRight: RegExp): string {
  const free = headers.filter((_, i) => !taken.has(i));
  return free.find((header) => looksRight.test(normaliseHeader(header))) ?? free[0] ?? headers[0] ?? '';
}
