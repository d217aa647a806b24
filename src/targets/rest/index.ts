/**
 * The REST target's front door: checks the URL and the credentials (from the environment only),
 * opens the ledger file of the instance and the HTTP pool. No request is made here: the first one
 * goes out when a command asks for its project.
 */
import { DEFAULT_CONCURRENCY } from '../../core/pool.js';
import { TargetError, UsageError } from '../../core/errors.js';
import { credentialsFrom } from './credentials.js';
import { ledgerPathFor, openLedgerFile } from '../../store/ledger-file.js';
import type { LockOptions } from '../../store/lock.js';
import { HttpClient, proxyFrom, type Credentials } from '../http/http.js';
import { Pacer } from '../http/rate.js';
import { checkBaseUrl, isCloudHost } from '../http/deployment.js';
import type { AccountMatch } from './identity.js';
import { RestTarget } from './target.js';

export interface RestTargetOptions {
  /** Where JSM_TOKEN, JSM_USER and JSM_PASSWORD are read from (and JSM_STATE_DIR for the ledger). */
  env: NodeJS.ProcessEnv;
  /** The most requests in flight at once (default 8). */
  concurrency?: number;
  /** The ledger file; default `ledgerPathFor(baseUrl, env)`. */
  ledgerPath?: string;
  /** Sentences for people (a long Retry-After wait). */
  onNote?: (message: string) => void;
  /** Warnings (plain http, an unreadable setting property); default: onNote. */
  onWarn?: (message: string) => void;
  lockOptions?: LockOptions;
  /** Per-answer timeout (default 30 s); attempts and first backoff step for tests. */
  timeoutMs?: number;
  maxAttempts?: number;
  backoffMs?: number;
  random?: () => number;
  /** How rows without a username are matched to accounts (`--match-accounts`, default 'email'). */
  match?: AccountMatch;
}

export async function openRestTarget(baseUrl: string, options: RestTargetOptions): Promise<RestTarget> {
  const url = checkUrl(baseUrl);
  const credentials = credentialsFrom(options.env, url);
  const warn = options.onWarn ?? options.onNote;
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    warn?.(`${url.origin} is plain http: ${credentials.source} travels unencrypted; use https`);
  }
  const { ledger, store } = await openLedgerFile(options.ledgerPath ?? ledgerPathFor(url.href, options.env), options.lockOptions ?? {});
  const proxy = proxyFrom(options.env);
  const http = new HttpClient({
    baseUrl: url,
    credentials,
    ...(proxy ? { proxy } : {}),
    pacer: new Pacer({ maxInFlight: options.concurrency ?? DEFAULT_CONCURRENCY }),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onNote ? { onNote: options.onNote } : {}),
  });
  return new RestTarget({ http, ledger, ledgerStore: store, ...(options.match ? { match: options.match } : {}), ...(warn ? { onWarn: warn } : {}), ...(options.onNote ? { onNote: options.onNote } : {}) });
}

/** The base URL as given, without a trailing slash (checkBaseUrl); refuses Cloud, which has a target of its own. */
export function checkUrl(raw: string): URL {
  const url = checkBaseUrl(raw);
  if (isCloudHost(url)) {
    throw new TargetError(
      'cloud-unsupported',
      `${url.origin} is Jira Cloud, which the Data Center target does not speak to`,
      'jsm-provision opens Cloud sites with its Cloud target: give the site URL as --target, with JSM_USER (the account\'s email) and JSM_TOKEN (an API token)',
    );
  }
  return url;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
}

export { RestTarget } from './target.js';
export { ledgerPathFor };
export { credentialSource, credentialsFrom } from './credentials.js';
