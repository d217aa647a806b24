import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTarget } from '../../src/targets/local/target.js';

/**
 * The shape of a JSON value: every leaf replaced by its type, arrays by the shape of their first
 * element. Paths, dates and ids vary from run to run; the keys and their types are the contract.
 */
export function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shape(v)]));
  return typeof value;
}

/** A temp folder holding a local store with these projects (made in-process: no spawn). */
export async function storeWith(keys: readonly string[]): Promise<{ dir: string; store: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'jsm-provision-contract-'));
  const store = join(dir, 'jsm-store.json');
  const target = await LocalTarget.open(store);
  for (const key of keys) await target.createProject(key, `Project ${key}`);
  await target.close();
  return { dir, store };
}
