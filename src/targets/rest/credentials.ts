/**
 * Which credentials the Data Center target uses: the one reading of the environment, for the
 * target (credentialsFrom) and for `doctor`, which names them without opening the target. Light on
 * purpose (no HTTP client): doctor imports it without loading the target. The naming of _FILE
 * variables and the Basic header are shared with the Cloud target (../http/credentials.ts).
 */
import { UsageError } from '../../core/errors.js';
import { Secret } from '../../core/secret.js';
import { basicHeader, givenAs, type Env } from '../http/credentials.js';
import type { Credentials } from '../http/http.js';

/**
 * The variables the credentials come from (their names, never their values), or null when none
 * (or only half a login) are set: JSM_TOKEN, else JSM_USER and JSM_PASSWORD. JSM_TOKEN_FILE and
 * JSM_PASSWORD_FILE stand for their variables (the CLI reads each file into it before the target
 * opens, src/cli/runs/context.ts), and are named as given, so that a message says what the user set.
 */
export function credentialSource(env: Env): { kind: 'token' | 'basic'; source: string } | null {
  const tokenFile = env.JSM_TOKEN_FILE?.trim() ? 'JSM_TOKEN_FILE' : null;
  if (env.JSM_TOKEN?.trim()) return { kind: 'token', source: givenAs(env, 'JSM_TOKEN') };
  if (tokenFile) return { kind: 'token', source: tokenFile };
  const password = env.JSM_PASSWORD_FILE?.trim() || env.JSM_PASSWORD ? givenAs(env, 'JSM_PASSWORD') : null;
  if (env.JSM_USER && password) return { kind: 'basic', source: `JSM_USER and ${password}` };
  return null;
}

/** JSM_TOKEN (Bearer), else JSM_USER + JSM_PASSWORD (Basic); never from options. */
export function credentialsFrom(env: Env, url: URL): Credentials {
  const found = credentialSource(env);
  const token = env.JSM_TOKEN?.trim();
  if (found?.kind === 'token' && token) return { header: new Secret(`Bearer ${token}`), source: found.source, kind: 'token' };
  const user = env.JSM_USER;
  const password = env.JSM_PASSWORD;
  if (found?.kind === 'basic' && user && password) {
    return { header: basicHeader(user, password), source: found.source, kind: 'basic' };
  }
  const missing = found !== null ? `${found.source} ${found.source.includes(' and ') ? 'are' : 'is'} set but not read` : user ? 'JSM_PASSWORD is not set' : password ? 'JSM_USER is not set' : 'no credentials are set';
  throw new UsageError(
    'missing-credentials',
    `${missing} for ${url.origin}${url.pathname.replace(/\/$/, '')}: set JSM_TOKEN (a personal access token), or JSM_USER and JSM_PASSWORD, in the environment`,
    'credentials are read from the environment only, never from options',
  );
}
