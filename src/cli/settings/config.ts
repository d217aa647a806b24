import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command, Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import { isWholeNumberKey, wholeNumberProblem } from './numbers.js';
import { isUrlTarget } from './target-setting.js';

/**
 * The config file: `jsm-provision.config.json` in the current folder, or `--config <file>` /
 * `JSM_CONFIG`. Its keys are the long option names in camelCase (`target`, `project`, `smtp`,
 * `mailFrom`, `outbox`, `concurrency`, `templateDir`, `language`, `smtpName`, ...), plus `stateDir`
 * and `user` (which stand for JSM_STATE_DIR and JSM_USER), and `profiles: {name: {...}}` chosen by
 * `--profile` / `JSM_PROFILE`. Precedence: flags > environment > profile > file > defaults.
 * Secrets are refused: they go in the environment or in files named by it.
 */
export const CONFIG_FILE = 'jsm-provision.config.json';

/** Keys that stand for an environment variable rather than an option. */
const ENV_KEYS: Record<string, string> = { stateDir: 'JSM_STATE_DIR', user: 'JSM_USER' };

/** Keys whose values are paths: relative ones are taken from the config file's folder. */
const PATH_KEYS = new Set(['target', 'outbox', 'templateDir', 'stateDir', 'report', 'smtpPasswordFile', 'passwordFile']);

/** Never in a file that is shared or committed: where each goes instead. */
const SECRETS: Record<string, string> = {
  token: 'set JSM_TOKEN in the environment, or JSM_TOKEN_FILE to a file that holds it',
  jsmToken: 'set JSM_TOKEN in the environment, or JSM_TOKEN_FILE to a file that holds it',
  password: 'set JSM_PASSWORD in the environment, or JSM_PASSWORD_FILE to a file that holds it (a customer password: --password-file)',
  jsmPassword: 'set JSM_PASSWORD in the environment, or JSM_PASSWORD_FILE to a file that holds it',
  smtpPassword: 'set JSM_SMTP_PASSWORD in the environment, or smtpPasswordFile (--smtp-password-file) to a file that holds it',
};

/**
 * Options that choose the config itself, or that belong to one invocation: `json` stays on the
 * command line, so that whatever goes wrong (even before the file is read) prints one object.
 */
const NOT_IN_FILE = new Set(['config', 'profile', 'help', 'version', 'passwordStdin', 'json']);

export interface LoadedConfig {
  /** The file read, or null when there is none. */
  file: string | null;
  profile: string | null;
  values: Record<string, unknown>;
}

/** The value of `--name X` or `--name=X` in argv (before a `--`), if given. */
export function argvValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (arg === name) return argv[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/**
 * Whether the config must be read: a file is named (--config, JSM_CONFIG) or lies in the current
 * folder, or a profile is asked for (--profile, JSM_PROFILE). A profile with no file to hold it is
 * then refused (`unknown-profile`) rather than ignored: a CI job started in the wrong folder must
 * not run against the defaults.
 */
export function configFileApplies(argv: readonly string[], env: Env, cwd: string): boolean {
  return (
    argvValue(argv, '--config') !== undefined ||
    Boolean(env.JSM_CONFIG?.trim()) ||
    argvValue(argv, '--profile') !== undefined ||
    Boolean(env.JSM_PROFILE?.trim()) ||
    existsSync(resolve(cwd, CONFIG_FILE))
  );
}

/** The config file the arguments and environment choose (null: none), and the profile asked for: nothing is read. */
export function configLocation(argv: readonly string[], env: Env, cwd: string): { file: string | null; profile: string | null } {
  const named = argvValue(argv, '--config') ?? (env.JSM_CONFIG?.trim() || undefined);
  const profile = argvValue(argv, '--profile') ?? (env.JSM_PROFILE?.trim() || undefined);
  const file = named !== undefined ? resolve(cwd, named) : existsSync(resolve(cwd, CONFIG_FILE)) ? resolve(cwd, CONFIG_FILE) : null;
  return { file, profile: profile ?? null };
}

/** The run's environment variables. */
type Env = Readonly<Record<string, string | undefined>>;

/** Finds, reads and checks the config file; throws UsageError (exit 2) naming the file and key. */
export function loadConfig(argv: readonly string[], env: Env, program: Command, cwd: string): LoadedConfig {
  const { file, profile: asked } = configLocation(argv, env, cwd);
  const profile = asked ?? undefined;
  if (file === null) {
    if (profile !== undefined) {
      throw new UsageError(
        'unknown-profile',
        `profile ${JSON.stringify(profile)} was asked for (${argvValue(argv, '--profile') !== undefined ? '--profile' : 'JSM_PROFILE'}), but there is no config file: no ${CONFIG_FILE} in ${cwd}, and no --config or JSM_CONFIG`,
        `run from the folder that holds ${CONFIG_FILE}, or name it with --config <file> (JSM_CONFIG); nothing was done`,
      );
    }
    return { file: null, profile: null, values: {} };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError('config-unreadable', `cannot read the config file ${file}: ${code === 'ENOENT' ? 'it does not exist' : code ?? String(error)}`, 'check --config or JSM_CONFIG');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    // JSON.parse says "at position 41"; an editor shows lines and columns.
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const before = position === undefined ? undefined : text.replace(/^\uFEFF/, '').slice(0, Number(position)).split('\n');
    const where = before === undefined ? '' : ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    throw new UsageError('bad-config', `the config file ${file} is not valid JSON${where}: ${message}`, 'JSON takes keys and strings in double quotes, no comma after the last item, and no comments');
  }
  if (!isObject(parsed)) throw new UsageError('bad-config', `the config file ${file} must hold one JSON object ({"target": ..., "project": ...})`);
  const known = knownKeys(program);
  const { profiles, ...base } = parsed;
  const values = checkSection(base, known, file, '');
  if (profiles !== undefined && !isObject(profiles)) throw new UsageError('bad-config', `${file}: "profiles" must be an object of named settings ({"ci": {...}})`);
  if (profile !== undefined) {
    const chosen = profiles !== undefined && Object.hasOwn(profiles, profile) ? profiles[profile] : undefined;
    if (!isObject(chosen)) {
      const names = Object.keys(profiles ?? {});
      throw new UsageError(
        'unknown-profile',
        `${file} has no profile ${JSON.stringify(profile)}`,
        names.length > 0 ? `its profiles are: ${names.join(', ')}` : 'add it under "profiles", or leave out --profile / JSM_PROFILE',
      );
    }
    Object.assign(values, checkSection(chosen, known, file, `profiles.${profile}.`));
  } else if (profiles !== undefined) {
    for (const [name, section] of Object.entries(profiles)) {
      if (!isObject(section)) throw new UsageError('bad-config', `${file}: profile ${JSON.stringify(name)} must be an object`);
      checkSection(section, known, file, `profiles.${name}.`);
    }
  }
  return { file, profile: profile ?? null, values };
}

function checkSection(section: Record<string, unknown>, known: Map<string, Option | null>, file: string, prefix: string): Record<string, unknown> {
  const values = Object.create(null) as Record<string, unknown>;
  for (const [rawKey, value] of Object.entries(section)) {
    const where = `${file}: "${prefix}${rawKey}"`;
    // Own keys only: "constructor" or "toString" are not settings, and not secrets either.
    const secret = Object.hasOwn(SECRETS, rawKey) ? SECRETS[rawKey] : undefined;
    if (secret !== undefined) throw new UsageError('secret-in-config', `${where} is a secret, and secrets are never read from the config file`, secret);
    if (NOT_IN_FILE.has(rawKey)) {
      const flag = `--${rawKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError('unknown-config-key', `${where} is not a setting of the config file: ${flag} is given on the command line only`, `give ${flag} where it is wanted`);
    }
    // `--no-invite` is the key `invite: false` (or `noInvite: true`).
    const negated = /^no[A-Z]/.test(rawKey) && !known.has(rawKey) ? rawKey[2]!.toLowerCase() + rawKey.slice(3) : undefined;
    const key = negated ?? rawKey;
    if (!known.has(key) || (negated !== undefined && known.get(key)?.negate !== true)) {
      const guess = closest(rawKey, [...known.keys()]);
      throw new UsageError('unknown-config-key', `${where} is not a setting${guess ? `: did you mean "${guess}"?` : ''}`, 'the keys are the long option names in camelCase (--mail-from is "mailFrom"), and "profiles"');
    }
    const option = known.get(key) ?? null;
    let v = negated !== undefined ? (value === true ? false : value === false ? true : value) : value;
    v = checkValue(v, option, where);
    if (key === 'smtp' && typeof v === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(v)) {
      throw new UsageError('secret-in-config', `${where} holds a password in the URL, and secrets are never read from the config file`, SECRETS.smtpPassword);
    }
    if (PATH_KEYS.has(key) && v === '') throw new UsageError('bad-config', `${where} is empty: give a path, or leave the key out`);
    if (PATH_KEYS.has(key) && typeof v === 'string' && !(key === 'target' && isUrlTarget(v)) && !isAbsolute(v)) {
      v = resolve(dirname(file), v);
    }
    values[key] = v;
  }
  return values;
}

function checkValue(value: unknown, option: Option | null, where: string): unknown {
  const takesValue = option === null || option.required || option.optional;
  if (!takesValue) {
    if (typeof value !== 'boolean') throw new UsageError('bad-config', `${where} is a switch: give true or false`);
    return value;
  }
  if (Array.isArray(option?.defaultValue)) {
    const list = Array.isArray(value) ? value : [value];
    if (!list.every((v) => typeof v === 'string')) throw new UsageError('bad-config', `${where} must be a string or a list of strings`);
    return list;
  }
  const key = option?.attributeName();
  if (key !== undefined && isWholeNumberKey(key)) {
    // Checked here, for every command, naming the file: not later as if a flag had been given.
    if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError('bad-config', `${where} must be a string or a number`);
    const problem = wholeNumberProblem(key, value);
    if (problem !== undefined) throw new UsageError('bad-config', `${where}: ${JSON.stringify(value)} ${problem}`);
    return String(value);
  }
  if (typeof value !== 'string') throw new UsageError('bad-config', `${where} must be a string`);
  if (option?.argChoices && !option.argChoices.includes(value)) {
    throw new UsageError('bad-config', `${where} must be one of ${option.argChoices.join(', ')}`);
  }
  return value;
}

/** Every long option of the tree by its camelCase name (null: a key that stands for an environment variable). */
function knownKeys(program: Command): Map<string, Option | null> {
  const known = new Map<string, Option | null>(Object.keys(ENV_KEYS).map((k) => [k, null]));
  const walk = (command: Command): void => {
    for (const option of command.options) {
      const name = option.attributeName();
      if (NOT_IN_FILE.has(name) || Object.hasOwn(SECRETS, name)) continue;
      // The positive and negative forms (--verification / --no-verification) share one key.
      if (!known.has(name) || option.negate) known.set(name, option);
    }
    for (const sub of command.commands) walk(sub);
  };
  walk(program);
  return known;
}

/**
 * Gives every command the config's values as starting values: commander's "config" source, which
 * an environment variable and a flag both override.
 */
export function applyConfig(program: Command, config: LoadedConfig, env: NodeJS.ProcessEnv): void {
  for (const [key, variable] of Object.entries(ENV_KEYS)) {
    const value = config.values[key];
    if (typeof value === 'string' && (env[variable] === undefined || env[variable] === '')) env[variable] = value;
  }
  const walk = (command: Command): void => {
    for (const option of command.options) {
      const name = option.attributeName();
      if (!(name in config.values)) continue;
      const value = config.values[name];
      // A key of a positive/negative pair is set once, by whichever of its options comes first.
      if (command.getOptionValueSource(name) === 'config') continue;
      command.setOptionValueWithSource(name, value, 'config');
    }
    for (const sub of command.commands) walk(sub);
  };
  walk(program);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The known key nearest to a mistyped one (edit distance at most 3), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= 3 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length] as number;
}
