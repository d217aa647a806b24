import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { UsageError } from '../core/errors.js';

/**
 * How much of the input is read before parsing starts: enough for the encoding check, the
 * header line and the first rows of any real export, small enough that memory stays flat.
 */
export const PREFIX_BYTES = 64 * 1024;

/** The input as bytes: its first PREFIX_BYTES in hand, the rest still to be streamed. */
export interface ByteSource {
  /** How to name the input in messages. */
  label: string;
  /** The first bytes (fewer than PREFIX_BYTES only when the input is that short). */
  prefix: Buffer;
  /** The bytes after the prefix; may be iterated once. */
  rest: AsyncIterable<Buffer>;
  /** Stops reading and releases the file; safe to call more than once. */
  close(): void;
}

/**
 * Where a name is read: a relative one in `cwd`; `-` from `stdin` (on a terminal, `onTerminal` says
 * how to end the input first). Without one, `-` is refused and names are taken as they are.
 */
export interface SourcePlace {
  cwd: string;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  onTerminal?: (text: string) => void;
}

export async function openSource(input: NodeJS.ReadableStream | string, from?: SourcePlace): Promise<ByteSource> {
  const label = input === '-' ? 'standard input' : typeof input === 'string' ? input : 'the input';
  const stream = await toReadable(input, label, from);
  // One iterator for the prefix and the rest, so no chunk is read twice or lost in between.
  const iterator: AsyncIterator<Buffer | string> = stream[Symbol.asyncIterator]();
  const close = (): void => {
    stream.destroy();
  };

  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  try {
    while (size < PREFIX_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = toBuffer(next.value);
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (error) {
    close();
    throw unreadable(label, error);
  }

  async function* rest(): AsyncGenerator<Buffer> {
    if (ended) return;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield toBuffer(next.value);
      }
    } catch (error) {
      throw unreadable(label, error);
    }
  }

  return { label, prefix: Buffer.concat(chunks), rest: rest(), close };
}

async function toReadable(input: NodeJS.ReadableStream | string, label: string, from: SourcePlace | undefined): Promise<Readable> {
  if (input === '-') {
    if (from === undefined) throw new Error("'-' (standard input) needs the stdin to read");
    // On a terminal, standard input waits for the person: say so (on stderr), and how to end it.
    if (from.stdin.isTTY) from.onTerminal?.('reading CSV from standard input (the terminal): type or paste the rows, then press Ctrl-D to end\n');
    return from.stdin instanceof Readable ? from.stdin : new Readable().wrap(from.stdin);
  }
  if (typeof input !== 'string') return input instanceof Readable ? input : new Readable().wrap(input);
  const at = from === undefined ? input : resolve(from.cwd, input);
  // A folder opens, then fails at the first read (EISDIR): name it as a folder, with the CSV files in it.
  if ((await stat(at).catch(() => undefined))?.isDirectory()) throw await folderGiven(input, at);
  try {
    // Opening first turns a missing or forbidden file into an error here, before any parsing.
    const handle = await open(at, 'r');
    return handle.createReadStream({ highWaterMark: PREFIX_BYTES });
  } catch (error) {
    throw unreadable(label, error);
  }
}

function toBuffer(chunk: Buffer | string): Buffer {
  // A stream in string mode has already been decoded by its owner as UTF-8.
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

async function folderGiven(input: string, at: string): Promise<UsageError> {
  const names = await readdir(at).catch(() => [] as string[]);
  const csv = names.filter((name) => /\.(csv|tsv|txt)$/i.test(name)).sort();
  const shown = csv.slice(0, 5).map((name) => join(input, name));
  return new UsageError(
    'unreadable-input',
    `${input} is a folder, not a CSV file.`,
    csv.length === 0
      ? 'Give the CSV file itself (a path ending in the file name), or pass - to read standard input.'
      : `Give the CSV file itself: ${shown.join(', ')}${csv.length > shown.length ? ` (and ${csv.length - shown.length} more)` : ''}.`,
  );
}

function unreadable(label: string, error: unknown): UsageError {
  return new UsageError(
    'unreadable-input',
    `Cannot read ${label}: ${osReason(error)}.`,
    'Check the path and that you may read the file, or pass - to read standard input.',
  );
}

/** "ENOENT: no such file or directory, open 'x.csv'" -> "no such file or directory (ENOENT)". */
function osReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const reason = error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '');
  return code !== undefined && !reason.includes(code) ? `${reason} (${code})` : reason;
}
