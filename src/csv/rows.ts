import { finished, pipeline, Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';

/**
 * The default longest row (`--max-row-chars`): longer is nearly always a quote left open, and the
 * cap keeps memory flat on a huge file.
 */
export const MAX_ROW_CHARS = 1_000_000;

/** One record of the file with the line it starts on, or the error that ended parsing. */
export type ParsedRow =
  | { kind: 'cells'; line: number; cells: string[] }
  | { kind: 'broken'; line: number; code: string; message: string };

/** What the parser's readable side carries: records, and our marker for a parse error. */
type ParserItem = string[] | { skipped: CsvError };

/**
 * Streams the records of `text` with the line each starts on.
 *
 * csv-parse's `info.lines` is where a record ends, and it counts a CRLF inside a quoted cell as
 * two lines; its `raw` drops the LF of a CRLF. So lines are counted here instead: empty lines are
 * NOT skipped by csv-parse (they arrive as `['']`, one line each, and the caller skips blank
 * rows), so every record starts one line after the previous one ended, and ends as many lines
 * later as its cells hold line breaks (a line break outside quotes would have ended it).
 * This also avoids `info: true`, which makes csv-parse about half again slower.
 *
 * A parse error (with relax_quotes on, in practice a quote never closed) desynchronises csv-parse
 * for the rest of the file, so it is the last item yielded, as `broken`. skip_records_with_error
 * plus a marker pushed from on_skip keep it in order after the rows before it; letting csv-parse
 * throw instead would destroy the stream and drop rows already parsed but not yet read.
 */
export interface ParseOptions {
  /** The line the text starts on (2 when an Excel `sep=` line was taken off). */
  firstLine?: number;
  /** Whether lines end in a bare CR (old Mac files); otherwise a line is what ends in LF. */
  crLines?: boolean;
  maxRowChars?: number;
}

/** The parsed rows: one at a time (the header, a hint's sample), then the rest a batch at a time. */
export interface RowStream {
  /** The next row, or undefined at the end of the input. */
  next(): Promise<ParsedRow | undefined>;
  /**
   * The rows not taken yet, in batches of as many as the parser has ready (a few hundred): a row's
   * way through the pipeline then costs no promise of its own.
   */
  batches(): AsyncGenerator<ParsedRow[]>;
  close(): void;
}

export function parseRows(text: AsyncIterable<string>, delimiter: string, options: ParseOptions = {}): RowStream {
  const breaks = options.crLines === true ? /\r/g : /\n/g;
  const parser = parse({
    delimiter,
    relax_column_count: true, // a row with the wrong number of cells is reported, not fatal
    relax_quotes: true, // `Ann "Annie" Lee` unquoted is taken as written
    skip_records_with_error: true,
    max_record_size: options.maxRowChars ?? MAX_ROW_CHARS,
    on_skip: (error) => {
      if (error !== undefined) parser.push({ skipped: error } satisfies ParserItem);
      return undefined;
    },
  });
  // Errors of the source (a read failing midway) destroy the parser, so they reach the loop below.
  pipeline(Readable.from(text), parser, () => undefined);
  const items = readBatches<ParserItem>(parser);
  let previousEnd = (options.firstLine ?? 1) - 1;
  let broken = false;
  let held: ParsedRow[] = [];
  let at = 0;

  /** The parser's next items as rows with their lines; a broken row is the last one ever. */
  const pull = async (): Promise<ParsedRow[] | undefined> => {
    if (broken) return undefined;
    const next = await items.next();
    if (next.done === true) return undefined;
    const rows: ParsedRow[] = [];
    for (const item of next.value) {
      const line = previousEnd + 1;
      if (!Array.isArray(item)) {
        rows.push({ kind: 'broken', line, code: item.skipped.code, message: item.skipped.message });
        broken = true;
        break;
      }
      previousEnd = line + countLineBreaks(item, breaks);
      rows.push({ kind: 'cells', line, cells: item });
    }
    return rows;
  };

  return {
    async next() {
      while (at >= held.length) {
        const rows = await pull();
        if (rows === undefined) return undefined;
        held = rows;
        at = 0;
      }
      return held[at++];
    },
    async *batches() {
      if (at < held.length) yield held.slice(at);
      held = [];
      at = 0;
      for (;;) {
        const rows = await pull();
        if (rows === undefined) return;
        if (rows.length > 0) yield rows;
      }
    },
    close: () => parser.destroy(),
  };
}

/**
 * A readable stream's items, as many at a time as it has buffered: what `for await` over the
 * stream yields, without a promise per item. An error of the stream is thrown; leaving the loop
 * early destroys the stream.
 */
export async function* readBatches<T>(stream: Readable): AsyncGenerator<T[]> {
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  stream.on('readable', notify);
  const stop = finished(stream, { writable: false }, (error) => {
    if (error && (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') failure = error;
    ended = true;
    notify();
  });
  try {
    for (;;) {
      const batch: T[] = [];
      for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null) batch.push(item);
      if (batch.length > 0) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended || stream.readableEnded) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stop();
    stream.off('readable', notify);
    if (!ended && !stream.readableEnded) stream.destroy();
  }
}

/**
 * Line breaks inside a record's cells. A line is what ends in LF (CRLF and LF files alike, as editors
 * and `grep -n` count), or in CR for old Mac files: a stray bare CR inside a CRLF file is not a line.
 */
function countLineBreaks(cells: string[], breaks: RegExp): number {
  let count = 0;
  for (const cell of cells) count += cell.match(breaks)?.length ?? 0;
  return count;
}

/** Whether the text's first line ends in a bare CR (an old Mac file). */
export function endsLinesWithCr(text: string): boolean {
  const end = /\r\n|\r|\n/.exec(text);
  return end?.[0] === '\r' && end.index < text.length - 1;
}
