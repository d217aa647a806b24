import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolders, removeFolders } from '../../src/util/folders.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();

describe('makeFolders', () => {
  it('two callers making the same missing folders at once both succeed; each removes only what it made', async () => {
    const dir = join(await tempDir(), 'a', 'b', 'outbox');
    const results = await Promise.all(Array.from({ length: 8 }, () => makeFolders(dir)));
    expect((await stat(dir)).isDirectory()).toBe(true);
    // Every folder was made by exactly one of them.
    expect(results.flat().sort()).toEqual([join(dir, '..', '..'), join(dir, '..'), dir].sort());
    // One run's parent may hold another run's child, so remove them all together, deepest first
    // (removeFolders takes them shallowest first, as makeFolders lists them).
    await removeFolders(results.flat().sort());
    await expect(stat(join(dir, '..', '..'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
