/**
 * Finding things on a JSM instance: its version (/info, no login needed), and the service desk of a
 * project key by paging /servicedesk until it turns up or the pages end. Results are cached on the
 * Discovery instance (one per target), never at module level.
 */
import { TargetError } from '../../core/errors.js';
import type { HttpClient } from '../http/http.js';
import { reachable } from '../http/reachable.js';
import { deskSchema, describeAnswer, infoSchema, pageSchema, type DeskJson } from './wire.js';
import { closeMatches } from '../../core/close-matches.js';

export { closeMatches, reachable };

export interface JsmVersion {
  /** As the instance gives it, e.g. `5.17.2-QR-0028`. */
  text: string;
  /** [major, minor, patch]; null when the text has no leading number. */
  numbers: [number, number, number] | null;
}

/** Lenient: `5.17.2-QR-0028` -> [5, 17, 2]; `5.4` -> [5, 4, 0]; `v4.20.1` -> [4, 20, 1]. */
export function parseVersion(text: string): JsmVersion {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return { text, numbers: m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null };
}

/** true / false, or null when the version could not be read. */
export function versionAtLeast(version: JsmVersion, wanted: [number, number, number]): boolean | null {
  const n = version.numbers;
  if (!n) return null;
  for (let i = 0; i < 3; i++) {
    const a = n[i] ?? 0;
    const b = wanted[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

const PAGE = 50;
const SD = '/rest/servicedeskapi';

export class Discovery {
  #http: HttpClient;
  #version: Promise<JsmVersion> | undefined;
  #desks: DeskJson[] = [];
  #nextStart: number | null = 0;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  /** The JSM version, asked once. */
  version(): Promise<JsmVersion> {
    this.#version ??= this.#readVersion();
    return this.#version;
  }

  /** The desk of a project key (any case), paging only as far as needed; TargetError naming close keys when none. */
  async desk(key: string): Promise<DeskJson> {
    await this.version();
    const wanted = key.toUpperCase();
    const match = (d: DeskJson): boolean => d.projectKey.toUpperCase() === wanted;
    let found = this.#desks.find(match);
    while (!found && this.#nextStart !== null) {
      const page = await this.#nextPage();
      found = page.find(match);
    }
    if (found) return found;
    throw await this.#unknown(wanted);
  }

  /** Every desk of the instance. */
  async allDesks(): Promise<DeskJson[]> {
    await this.version();
    while (this.#nextStart !== null) await this.#nextPage();
    return [...this.#desks];
  }

  async #readVersion(): Promise<JsmVersion> {
    const url = this.#http.urlOf(`${SD}/info`);
    // /info needs no login: no credentials go with it, so a wrong password is not counted twice.
    const answer = await reachable(this.#http, () => this.#http.request('GET', `${SD}/info`, { anonymous: true }));
    const parsed = infoSchema.safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) {
      const location = answer.headers.location;
      const moved = answer.status >= 300 && answer.status < 400 && location ? ` it redirects to ${String(location)}:` : '';
      throw new TargetError(
        'not-jsm',
        `no Jira Service Management answers at ${this.#http.baseUrl.href.replace(/\/$/, '')} (GET ${url} gave ${describeAnswer(answer.status, answer.body)})`,
        `check the base URL${moved} give the address of the JSM base URL, including any context path (e.g. https://example.com/jira), and check that JSM is installed there`,
      );
    }
    return parseVersion(parsed.data.version);
  }

  async #nextPage(): Promise<DeskJson[]> {
    const start = this.#nextStart ?? 0;
    const answer = await reachable(this.#http, () => this.#http.request('GET', `${SD}/servicedesk`, { query: { start, limit: PAGE } }));
    const parsed = pageSchema(deskSchema).safeParse(answer.body);
    if (answer.status !== 200 || !parsed.success) {
      throw new TargetError('bad-answer', `JSM did not list its service desks (${describeAnswer(answer.status, answer.body)})`);
    }
    const values = parsed.data.values;
    this.#desks.push(...values);
    // Advance by what came back: a server may cap `limit` below what was asked.
    const last = parsed.data.isLastPage ?? values.length < PAGE;
    this.#nextStart = last || values.length === 0 ? null : start + values.length;
    return values;
  }

  async #unknown(key: string): Promise<TargetError> {
    const desks = await this.allDesks();
    const where = this.#http.baseUrl.href.replace(/\/$/, '');
    const close = closeMatches(key, desks.map((d) => d.projectKey));
    const jiraProject = await this.#http.request('GET', `/rest/api/2/project/${encodeURIComponent(key)}`).catch(() => undefined);
    const isJira = jiraProject?.status === 200;
    const near = close.length > 0 ? `close matches: ${close.join(', ')}` : `${desks.length} service project(s) there, none close to ${key}`;
    const what = isJira ? `${key} is a Jira project on ${where} but not a service project` : `there is no service project ${key} on ${where}`;
    return new TargetError(
      'unknown-project',
      `${what} (${near})`,
      close.length > 0 ? `use one of them: --project ${close[0]}` : 'check the key in JSM (Projects > View all projects)',
    );
  }
}
