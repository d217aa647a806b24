/**
 * A streaming mbox splitter: bytes in, one message at a time out, so a mailbox of any size is read
 * with memory bounded by one message (or by `maxBytes` of it).
 *
 * A line that starts with `From ` begins a new message (the "From_" line, dropped) when the line
 * after it is a header field (`Name: value`), as it is in every message an mbox writer appends. A
 * body line `From the desk of ...` that a writer failed to escape (as mboxo/mboxrd would, `>From `)
 * is followed by more body text, so it stays in its message instead of splitting it into a
 * message with no sender. (The first From_ line of the file always begins a message.)
 */

const LF = 0x0a;
const CR = 0x0d;
const FROM_ = Buffer.from('From ', 'latin1');
const NL_FROM_ = Buffer.from('\nFrom ', 'latin1');
const QUOTED_FROM_ = Buffer.from('>From ', 'latin1');
const GT = 0x3e;
const COLON = 0x3a;
const SP = 0x20;
const TAB = 0x09;
/** How far the line after a candidate From_ line is looked at before it is taken as body text. */
const MAX_LOOKAHEAD = 64 * 1024;

/**
 * Whether the line starting at `at` is a header field: a name of letters, digits and "-" (what real
 * header names are made of; RFC 5322 allows any printable character, but then a quoted body line
 * `>From: …` would pass), optional white space, then a colon. 'more' when the bytes end before that
 * is known.
 */
function headerFieldAt(buf: Buffer, at: number): 'yes' | 'no' | 'more' {
  let i = at;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b === COLON) return i > at ? 'yes' : 'no';
    if (b === SP || b === TAB) {
      if (i === at) return 'no';
      while (i < buf.length && (buf[i] === SP || buf[i] === TAB)) i++;
      if (i === buf.length) return 'more';
      return buf[i] === COLON ? 'yes' : 'no';
    }
    const nameChar = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d;
    if (!nameChar) return 'no';
    i++;
  }
  return 'more';
}

export interface MboxMessage {
  /** 1-based position of the message in the mailbox. */
  index: number;
  /** The message without its From_ line, `>From ` lines un-escaped; at most `maxBytes` of it. */
  raw: Buffer;
  /** The message's whole size in the mailbox, in bytes. */
  size: number;
  /** true when the message was longer than `maxBytes` and `raw` holds only its beginning. */
  truncated: boolean;
}

export interface SplitOptions {
  /** Keep at most this many bytes of each message (its beginning); the rest is read and dropped. */
  maxBytes?: number;
}

/** Collects one message's bytes up to a limit. */
class Builder {
  readonly parts: Buffer[] = [];
  kept = 0;
  size = 0;
  constructor(
    readonly index: number,
    private readonly maxBytes: number,
  ) {}

  append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    const room = this.maxBytes - this.kept;
    if (room <= 0) return;
    // Copy what is kept: a slice would pin the whole read chunk while the message is held.
    const piece = Buffer.from(bytes.length > room ? bytes.subarray(0, room) : bytes);
    this.parts.push(piece);
    this.kept += piece.length;
  }

  finish(): MboxMessage {
    let raw = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.kept);
    const truncated = this.size > this.kept;
    // The empty line that ends each message belongs to the mailbox, not to the message.
    if (!truncated) raw = withoutSeparatorBlankLine(raw);
    return { index: this.index, raw: unescapeFromLines(raw), size: this.size, truncated };
  }
}

/** Splits a stream of mbox bytes into messages, in order. */
export async function* splitMbox(chunks: AsyncIterable<Buffer>, options: SplitOptions = {}): AsyncGenerator<MboxMessage> {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  let current: Builder | null = null;
  let index = 0;
  // The first bytes of a line that are too few to tell whether it is a From_ line.
  let pending: Buffer | null = null;
  let lineStart = true;
  // Inside a From_ line: its bytes up to the line feed are dropped.
  let skipping = false;

  const ready: MboxMessage[] = [];
  const startMessage = (): void => {
    if (current) ready.push(current.finish());
    current = new Builder(++index, maxBytes);
  };
  const keep = (bytes: Buffer): void => {
    // Bytes before the first From_ line (a blank preamble) belong to no message.
    (current as Builder | null)?.append(bytes);
  };

  const consume = (chunk: Buffer): void => {
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let pos = 0;
    while (pos < buf.length) {
      if (skipping) {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) return;
        skipping = false;
        lineStart = true;
        pos = nl + 1;
        continue;
      }
      if (lineStart) {
        const left = buf.length - pos;
        if (left < FROM_.length && buf.indexOf(LF, pos) < 0) {
          pending = buf.subarray(pos);
          return;
        }
        if (left >= FROM_.length && buf.compare(FROM_, 0, FROM_.length, pos, pos + FROM_.length) === 0) {
          if (current === null) {
            startMessage();
            skipping = true;
            pos += FROM_.length;
            continue;
          }
          // A From_ line only if a header field follows it; else an unescaped body line.
          const end = buf.indexOf(LF, pos);
          const decision = end < 0 ? 'more' : headerFieldAt(buf, end + 1);
          if (decision === 'more' && buf.length - pos < MAX_LOOKAHEAD) {
            pending = buf.subarray(pos);
            return;
          }
          if (decision === 'yes') {
            startMessage();
            pos = end + 1;
            lineStart = true;
            continue;
          }
          if (end < 0) {
            keep(buf.subarray(pos));
            lineStart = false;
            return;
          }
          keep(buf.subarray(pos, end + 1));
          pos = end + 1;
          lineStart = true;
          continue;
        }
      }
      const next = buf.indexOf(NL_FROM_, pos);
      if (next >= 0) {
        keep(buf.subarray(pos, next + 1));
        pos = next + 1;
        lineStart = true;
        continue;
      }
      // No From_ line in the rest, unless one begins in the last few bytes: hold those back.
      const lastNl = buf.lastIndexOf(LF);
      if (lastNl >= pos && buf.length - (lastNl + 1) < FROM_.length) {
        keep(buf.subarray(pos, lastNl + 1));
        if (lastNl + 1 < buf.length) pending = buf.subarray(lastNl + 1);
        lineStart = true;
      } else {
        keep(buf.subarray(pos));
        lineStart = false;
      }
      return;
    }
  };

  for await (const chunk of chunks) {
    consume(chunk);
    while (ready.length > 0) yield ready.shift() as MboxMessage;
  }
  if (pending && !skipping) keep(pending);
  if (current) yield (current as Builder).finish();
}

/** Drops the one empty line (LF or CRLF) a mailbox puts after each message. */
function withoutSeparatorBlankLine(raw: Buffer): Buffer {
  const n = raw.length;
  if (n >= 2 && raw[n - 1] === LF && raw[n - 2] === LF) return raw.subarray(0, n - 1);
  if (n >= 4 && raw[n - 1] === LF && raw[n - 2] === CR && raw[n - 3] === LF && raw[n - 4] === CR) return raw.subarray(0, n - 2);
  return raw;
}

/**
 * Un-escapes mboxrd/mboxo quoting: a line matching /^>+From / loses one `>`. (In mboxo a body line
 * that really began with `>From ` is not told apart; only headers are read from it here, and no
 * header line begins with `>`.)
 */
export function unescapeFromLines(raw: Buffer): Buffer {
  const cuts: number[] = [];
  let at = raw.indexOf(QUOTED_FROM_);
  while (at >= 0) {
    let start = at;
    while (start > 0 && raw[start - 1] === GT) start--;
    if (start === 0 || raw[start - 1] === LF) cuts.push(start);
    at = raw.indexOf(QUOTED_FROM_, at + QUOTED_FROM_.length);
  }
  if (cuts.length === 0) return raw;
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of cuts) {
    parts.push(raw.subarray(from, cut));
    from = cut + 1;
  }
  parts.push(raw.subarray(from));
  return Buffer.concat(parts, raw.length - cuts.length);
}
