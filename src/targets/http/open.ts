/**
 * What opening either JSM target does once its URL and credentials are known: the ledger file of
 * the instance (locked) and the HTTP pool (proxy, pacing, retries). No request is made here.
 */
import { DEFAULT_CONCURRENCY } from '../../core/pool.js';
import { ledgerPathFor, openLedgerFile } from '../../store/ledger-file.js';
import type { LockOptions } from '../../store/lock.js';
import { HttpClient, proxyFrom, type Credentials } from './http.js';
import { Pacer } from './rate.js';
import { testSetting } from '../../util/test-hooks.js';

/** The options both targets' front doors take (src/targets/rest/index.ts, src/targets/cloud/index.ts). */
export interface JsmOpenOptions {
  /** Where the credentials are read from (and JSM_STATE_DIR for the ledger, the proxy variables). */
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
}

export async function openJsm(url: URL, credentials: Credentials, options: JsmOpenOptions) {
  const { ledger, store } = await openLedgerFile(options.ledgerPath ?? ledgerPathFor(url.href, options.env), options.lockOptions ?? {});
  const proxy = proxyFrom(options.env);
  // A process the tests start takes the step their in-process targets are given (src/util/test-hooks.ts).
  const backoffMs = options.backoffMs ?? testSetting('backoff-ms');
  const http = new HttpClient({
    baseUrl: url,
    credentials,
    ...(proxy ? { proxy } : {}),
    pacer: new Pacer({ maxInFlight: options.concurrency ?? DEFAULT_CONCURRENCY }),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(backoffMs !== undefined ? { backoffMs } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onNote ? { onNote: options.onNote } : {}),
  });
  return { http, ledger, ledgerStore: store };
}
