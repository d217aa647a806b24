/**
 * What both JSM targets share when they read credentials from the environment: the name a
 * secret was given by (a variable or its _FILE variable), and the Basic header. Which login a
 * target takes is its own (Data Center: a token as Bearer, or a user and password; Cloud: an
 * email and an API token as Basic). Light on purpose (no HTTP client): doctor imports it.
 */
import { Secret } from '../../core/secret.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The variable a secret is named by in messages: its _FILE variable when that is set (the CLI
 * reads the file into the variable before the target opens, src/cli/runs/context.ts), so that a
 * message says what the user set; else the variable itself.
 */
export function givenAs(env: Env, variable: 'JSM_TOKEN' | 'JSM_PASSWORD'): string {
  const file = `${variable}_FILE`;
  return env[file]?.trim() ? file : variable;
}

/** `Basic base64(user:secret)`, kept in a Secret so that it never prints. */
export function basicHeader(user: string, secret: string): Secret {
  return new Secret(`Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`);
}
