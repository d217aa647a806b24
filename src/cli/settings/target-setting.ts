import { UsageError } from '../../core/errors.js';

/** The local store a command uses when no --target (JSM_TARGET) is given. */
export const DEFAULT_STORE = './jsm-store.json';

/** Whether a --target value is a URL (any scheme), not a path: config.ts leaves it as it is. */
export function isUrlTarget(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim());
}

/**
 * Where customers go, classified once (here, and nowhere else): a path is the local store; an
 * http(s) URL is JSM: Cloud when its host is under atlassian.net, else Server/Data Center. The
 * credentials of a JSM target stay in the environment (JSM_TOKEN, JSM_USER, JSM_PASSWORD and their
 * _FILE variables) until the target opens, so that no settings object ever holds a secret.
 */
export type TargetSetting =
  | { kind: 'local'; path: string; given: boolean }
  | { kind: 'dc'; baseUrl: string }
  | { kind: 'cloud'; baseUrl: string };

/** `--target` / JSM_TARGET as a TargetSetting; another scheme (ftp://) is refused. */
export function classifyTarget(value: string | undefined): TargetSetting {
  const spec = value?.trim() || DEFAULT_STORE;
  if (/^https?:\/\//i.test(spec)) {
    let host = '';
    try {
      host = new URL(spec).hostname.toLowerCase();
    } catch {
      // Not a URL after all: the Data Center target's own check says why, when it opens.
    }
    return host === 'atlassian.net' || host.endsWith('.atlassian.net') ? { kind: 'cloud', baseUrl: spec } : { kind: 'dc', baseUrl: spec };
  }
  if (isUrlTarget(spec)) {
    throw new UsageError('bad-target', `--target ${spec}: use a file path for the local store, or an http(s):// URL for JSM`);
  }
  return { kind: 'local', path: spec, given: Boolean(value?.trim()) };
}

/** The target as the user gave it: the store's path or the base URL (for messages and commands to copy). */
export function targetSpec(target: TargetSetting): string {
  return target.kind === 'local' ? target.path : target.baseUrl;
}

