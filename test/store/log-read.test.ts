import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchLine, headerLine, readLog } from '../../src/store/journal.js';
import { useTempDirs } from '../support/tmp.js';

/*
 * The log is read in pieces of a few megabytes: a line that spans pieces, one longer than a piece,
 * and a last line cut short must each read as written (or, cut short, not at all).
 */
const tempDir = useTempDirs();

const line = (name: string, fullName: string) => batchLine(`{"customers":${JSON.stringify({ [name]: { email: name, fullName, mustChangePassword: false, createdAt: 'now', projects: ['ITH'] } })}`);

describe('reading the log in pieces', () => {
  it('reads lines across pieces and longer than a piece, and leaves out a torn last line', async () => {
    const path = join(await tempDir(), 'jsm-store.json.journal');
    const long = 'x'.repeat(9 << 20); // longer than two read pieces
    const lines = [line('a@x.io', 'A'), line('b@x.io', long), ...Array.from({ length: 3000 }, (_, i) => line(`c${i}@x.io`, 'C'.repeat(i % 5000)))];
    const torn = line('torn@x.io', 'T').subarray(0, 40);
    await writeFile(path, Buffer.concat([Buffer.from(headerLine(7)), ...lines, torn]));
    const read = await readLog(path, 0);
    expect(read.generation).toBe(7);
    expect(read.batches).toHaveLength(lines.length);
    expect(read.trusted.every(Boolean)).toBe(true);
    expect(Object.values(read.batches[1]?.customers ?? {})[0]).toMatchObject({ fullName: long });
    expect(Object.keys(read.batches[2999]?.customers ?? {})).toEqual(['c2997@x.io']);
    expect(read.torn).toBe(true);
    expect(read.end).toBe(read.size - torn.length);
  });
});
