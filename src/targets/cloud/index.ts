/**
 * The Cloud target's front door: checks the credentials (the account's email in JSM_USER and an
 * API token in JSM_TOKEN, from the environment only, as Basic), opens the ledger file of the site
 * and the HTTP pool. No request is made here.
 */
import { UsageError } from '../../core/errors.js';
import { basicHeader, givenAs } from '../http/credentials.js';
import type { Credentials } from '../http/http.js';
import { openJsm, type JsmOpenOptions } from '../http/open.js';
import { isCloudHost } from '../http/deployment.js';
import { CloudTarget } from './target.js';

export interface CloudTargetOptions extends JsmOpenOptions {
  /** Where JSM_USER and JSM_TOKEN are read from (and JSM_STATE_DIR for the ledger). */
  env: NodeJS.ProcessEnv;
}

/** Where an API token is made, for messages. */
export const API_TOKEN_PAGE = 'https://id.atlassian.com/manage-profile/security/api-tokens';

export async function openCloudTarget(url: URL, options: CloudTargetOptions): Promise<CloudTarget> {
  const credentials = cloudCredentialsFrom(options.env, url);
  const warn = options.onWarn ?? options.onNote;
  const { http, ledger, ledgerStore } = await openJsm(url, credentials, options);
  return new CloudTarget({ http, ledger, ledgerStore, ...(warn ? { onWarn: warn } : {}), ...(options.onNote ? { onNote: options.onNote } : {}) });
}

/**
 * JSM_USER (the account's email) and JSM_TOKEN (an API token), as Basic: what Cloud's REST API
 * takes from a script. A password (JSM_PASSWORD) is not accepted by Cloud's API; a missing user
 * or token is a configuration error (exit 2), said before anything is sent.
 */
export function cloudCredentialsFrom(env: NodeJS.ProcessEnv, url: URL): Credentials {
  const user = env.JSM_USER?.trim();
  const token = env.JSM_TOKEN?.trim();
  const where = url.origin + url.pathname.replace(/\/$/, '');
  const how = `set JSM_USER to the email of the Atlassian account and JSM_TOKEN (or JSM_TOKEN_FILE) to an API token of it (made at ${API_TOKEN_PAGE})`;
  if (user && token) {
    if (!user.includes('@')) {
      throw new UsageError('missing-credentials', `JSM_USER is "${user}", but ${where} is JSM Cloud, where the user is the account's email`, how);
    }
    return {
      header: basicHeader(user, token),
      source: `JSM_USER and ${givenAs(env, 'JSM_TOKEN')}`,
      kind: 'token',
      refusedHint: `check that JSM_USER is the account's email and JSM_TOKEN an API token of that account that has not expired or been revoked (${API_TOKEN_PAGE})`,
    };
  }
  const missing = !user && !token ? 'no credentials are set' : !user ? 'JSM_USER is not set (Cloud needs the email of the account the API token belongs to)' : 'JSM_TOKEN is not set';
  const password = env.JSM_PASSWORD && !token ? '; Cloud\'s API does not take an account\'s password (JSM_PASSWORD): use an API token instead' : '';
  throw new UsageError('missing-credentials', `${missing} for ${where} (JSM Cloud)${password}`, `${how}; credentials are read from the environment only, never from options`);
}

export { CloudTarget };
export { isCloudHost };
