/**
 * How far the apply of a plan got, kept beside the target's own state (the local store, or a REST
 * target's ledger file) in `<file>.plans/<plan id>.json`: `started` is written (durably) before the
 * apply's first write, `applied` once everything it planned is done. A killed apply is finished by
 * the same apply: `started` lets it find part of the plan done; `applied` refuses a second apply.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFailure, writeFileAtomically } from '../util/atomic-file.js';
import { makeFolders } from '../util/folders.js';

export interface PlanProgress {
  state: 'started' | 'applied';
  at: string;
}

function progressFile(folder: string, id: string): string {
  return join(folder, `${id}.json`);
}

/** The progress folder of a target's state file (the local store, a REST ledger). */
export function progressFolder(stateFile: string): string {
  return `${stateFile}.plans`;
}

export async function readProgress(folder: string, id: string): Promise<PlanProgress | undefined> {
  const path = progressFile(folder, id);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw readFailure(path, error);
  }
  try {
    const data = JSON.parse(text) as Partial<PlanProgress>;
    if ((data.state === 'started' || data.state === 'applied') && typeof data.at === 'string') return { state: data.state, at: data.at };
  } catch {
    // A record that cannot be read is as none: the apply then checks the plan in full.
  }
  return undefined;
}

export async function writeProgress(folder: string, id: string, state: PlanProgress['state'], at: string): Promise<void> {
  await makeFolders(folder);
  const progress: PlanProgress = { state, at };
  await writeFileAtomically(progressFile(folder, id), `${JSON.stringify(progress)}\n`);
}
