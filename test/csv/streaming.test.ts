import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCsv } from '../../src/csv/index.js';

const ROWS = 200_000;
const NOTES = 'x'.repeat(100); // ~150 bytes a row: a 30 MB file, 60 MB if held as Buffer + string

/** A real gc(), so heap figures measure what is retained, not garbage not yet collected. */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void gc() : undefined;
  } catch {
    return undefined;
  }
}

function retainedBytes(gc: () => void): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers; // arrayBuffers: a Buffer holding the file would show there
}

describe('a large file', () => {
  let dir = '';
  let path = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jsm-csv-big-'));
    path = join(dir, 'big.csv');
    const out = createWriteStream(path);
    out.write('\uFEFFEmail,Full Name,Notes\r\n');
    for (let i = 1; i <= ROWS; i++) {
      const row = `user${i}@example.com,"User ${i}, Example",${NOTES}\r\n`;
      if (!out.write(row)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  }, 60_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams 200,000 rows with correct lines, without holding the file in memory', async () => {
    const gc = exposeGc();
    const before = gc === undefined ? 0 : retainedBytes(gc);
    let midway: number | undefined;

    const reader = await openCsv(path);
    let count = 0;
    let errors = 0;
    let last = { line: 0, email: '', fullName: '' };
    for await (const record of reader.records) {
      count++;
      last = record;
      if (record.error !== undefined) errors++;
      if (count === ROWS / 2 && gc !== undefined) midway = retainedBytes(gc);
    }

    expect(count).toBe(ROWS);
    expect(errors).toBe(0);
    expect(last).toStrictEqual({ line: ROWS + 1, email: `user${ROWS}@example.com`, fullName: `User ${ROWS}, Example` });
    if (gc === undefined || midway === undefined) {
      console.warn('gc() is not available here: the memory bound was not checked');
      return;
    }
    // Halfway through, a reader that had loaded the file would retain ~30-60 MB; a streaming one
    // holds a few chunks. 20 MB leaves room for V8's own noise.
    expect(midway - before).toBeLessThan(20 * 1024 * 1024);
  }, 60_000);
});
