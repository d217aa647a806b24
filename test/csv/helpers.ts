import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { openCsv, type CsvReadOptions, type CsvReader, type CsvRecord } from '../../src/csv/index.js';

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/csv/${name}`, import.meta.url));
}

/** A stream handing out `bytes` in chunks of `size`, to cut characters and CRLFs in two. */
export function streamOf(bytes: Buffer | string, size = 1 << 16): Readable {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const chunks: Buffer[] = [];
  for (let at = 0; at < buffer.length; at += size) chunks.push(buffer.subarray(at, at + size));
  return Readable.from(chunks);
}

export async function readAll(
  input: NodeJS.ReadableStream | string,
  options?: CsvReadOptions,
): Promise<{ reader: CsvReader; records: CsvRecord[] }> {
  const reader = await openCsv(input, options);
  const records: CsvRecord[] = [];
  for await (const record of reader.records) records.push(record);
  return { reader, records };
}

/** The UsageError `action` fails with; fails the test when it does not fail that way. */
export async function usageError(action: () => Promise<unknown>): Promise<UsageError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError, but the call succeeded');
}
