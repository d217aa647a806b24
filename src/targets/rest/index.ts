/**
 * The REST target's front door: checks the URL and the credentials (from the environment only),
 * opens the ledger file of the instance and the HTTP pool. No request is made here: the first one
 * goes out when a command asks for its project.
 */
import { TargetError, UsageError } from '../../core/errors.js';
import { credentialsFrom } from './credentials.js';
import { ledgerPathFor } from '../../store/ledger-file.js';
import { openJsm, type JsmOpenOptions } from '../http/open.js';
import { checkBaseUrl, isCloudHost } from '../http/deployment.js';
import type { AccountMatch } from './identity.js';
import { RestTarget } from './target.js';

export interface RestTargetOptions extends JsmOpenOptions {
  /** Where JSM_TOKEN, JSM_USER and JSM_PASSWORD are read from (and JSM_STATE_DIR for the ledger). */
  env: NodeJS.ProcessEnv;
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
  const { http, ledger, ledgerStore } = await openJsm(url, credentials, options);
  return new RestTarget({ http, ledger, ledgerStore, ...(options.match ? { match: options.match } : {}), ...(warn ? { onWarn: warn } : {}), ...(options.onNote ? { onNote: options.onNote } : {}) });
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
