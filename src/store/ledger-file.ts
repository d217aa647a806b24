import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { InvitationLedger } from '../core/target.js';
import { LocalStore } from './store.js';
import { LocalLedger } from './ledger.js';
import type { LockOptions } from './lock.js';

/**
 * The invitation ledger both targets use: the local store's format, holding only invitations. For a
 * REST target it is a file of its own (one per instance); `targets/rest` sees it only through this
 * module, never through `targets/local`.
 */
export interface LedgerFile {
  /** The file's path (the target's lock and intent files are named after it). */
  readonly path: string;
  /** Makes what the ledger holds durable (atomic write under the lock). */
  commit(): Promise<void>;
}

/**
 * Where a REST target's invitation ledger lives, found again by every run for the same instance:
 * $JSM_STATE_DIR, else $XDG_STATE_HOME/jsm-provision, else ~/.local/state/jsm-provision; one file
 * per instance, named after its host and a hash of its base URL.
 */
export function ledgerPathFor(baseUrl: string, env: Readonly<Record<string, string | undefined>>, cwd?: string): string {
  const named = env.JSM_STATE_DIR || join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state'), 'jsm-provision');
  // A relative state folder is in the run's working directory.
  const dir = cwd === undefined ? named : resolve(cwd, named);
  const url = new URL(baseUrl);
  const normalised = `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
  const hash = createHash('sha256').update(normalised).digest('hex').slice(0, 12);
  const host = url.hostname.replace(/[^a-zA-Z0-9.-]/g, '_');
  return join(dir, `${host}-${hash}.ledger.json`);
}

/**
 * Opens the ledger file; a missing one is empty, and it (and its folder) are made by the first
 * write only: a command that only reads never leaves an empty ledger behind to be mistaken for
 * the real one.
 */
export async function openLedgerFile(path: string, lockOptions: LockOptions = {}): Promise<{ ledger: InvitationLedger; store: LedgerFile }> {
  const store = await LocalStore.open(path, lockOptions, { folderMode: 0o700 });
  return { ledger: new LocalLedger(store), store };
}
