import { existsSync } from 'node:fs';
import { UsageError } from '../../core/errors.js';
import { Command } from 'commander';
import { describeOwner } from '../../store/lock.js';
import { action } from '../program/action.js';
import { lockedFileOf, refuseFolderAsStore } from '../runs/context.js';
import { addCommonOptions, type CommonOptions } from '../settings/options.js';
import { commonSchema, parseSettings } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { inCwd } from '../io/io.js';

/**
 * `store unlock`: the admin's explicit way out of a lock whose owner jsm-provision cannot check (a
 * process on another host, or a lock file it did not write). It refuses to remove the lock of a
 * live process on this host: that one is waited for, never broken.
 */
export function storeCommand(): Command {
  const store = new Command('store').description("the local store's (or a REST target's ledger file's) lock");
  addCommonOptions(
    store
      .command('unlock')
      .description('remove the lock of the store (or of a REST target\'s ledger) after its owner is gone; refuses a live owner on this host'),
  )
    .addHelpText('after', '\nExample:\n  $ jsm-provision store unlock --target ./jsm-store.json')
    .action(action('store unlock', unlock));
  return store;
}

async function unlock(out: Output, raw: CommonOptions): Promise<CommandResult> {
  const options = parseSettings(commonSchema, raw);
  const { breakLock } = await import('../../store/lock.js');
  if (options.target.kind === 'local') refuseFolderAsStore(options.target.path);
  const file = await lockedFileOf(options.target);
  // A local store that is not there (and no lock of it either) is named, as by every other command.
  if (options.target.kind === 'local' && !existsSync(file) && !existsSync(`${file}.lock`)) {
    throw new UsageError('no-store', `no store at ${file}`, 'check --target (JSM_TARGET): the store is the file given there');
  }
  const broken = await breakLock(file);
  if (broken === null) {
    return { outcome: 'done', json: { file, lock: `${file}.lock`, removed: false, owner: null }, text: `${inCwd(file)} is not locked: nothing to do` };
  }
  const { owner, state, lockPath } = broken;
  return {
    outcome: 'done',
    json: { file, lock: lockPath, removed: true, owner: { pid: owner.pid, host: owner.host, since: new Date(owner.at).toISOString() } },
    text: `removed the lock ${lockPath}: it was ${describeOwner(owner, state, lockPath, null)}`,
  };
}
