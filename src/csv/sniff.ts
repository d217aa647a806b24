import { UsageError } from '../core/errors.js';

export type Delimiter = ',' | ';' | '\t' | '|';

/** In order of preference when two are equally frequent. */
const CANDIDATES: readonly Delimiter[] = [',', ';', '\t', '|'];

const NAMES: Record<string, Delimiter> = {
  ',': ',',
  comma: ',',
  ';': ';',
  semicolon: ';',
  '\t': '\t',
  '\\t': '\t',
  tab: '\t',
  '|': '|',
  pipe: '|',
};

/** Parses `--delimiter`: `,` `;` `|`, and tab as a real tab, `\t` or `tab`. */
export function parseDelimiterOption(value: string): Delimiter {
  const delimiter = NAMES[value.toLowerCase()];
  if (delimiter !== undefined) return delimiter;
  throw new UsageError(
    'bad-delimiter',
    `--delimiter "${value}" is not a delimiter jsm-provision reads.`,
    'Use one of: , ; | tab (tab may also be written \\t).',
  );
}

/** How a delimiter is named in messages. */
export function delimiterName(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : `"${delimiter}"`;
}

/**
 * Picks the delimiter that occurs most often in the header line, counting only outside quotes
 * (a quoted "Name, Surname" header must not vote for the comma). Defaults to a comma.
 * csv-parse's delimiter_auto is not used: it counts quoted commas.
 */
export function sniffDelimiter(text: string): Delimiter {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0, '|': 0 };
  let inQuotes = false;
  let started = false; // leading blank lines are skipped, as the parser skips them
  for (const char of text) {
    if (char === '"') {
      inQuotes = !inQuotes; // a doubled quote toggles twice: no change, as it should
      started = true;
    } else if (!inQuotes && (char === '\n' || char === '\r')) {
      if (started) break;
    } else if (isDelimiter(char)) {
      if (!inQuotes) counts[char] += 1;
    } else if (char.trim() !== '') {
      started = true;
    }
  }
  let best: Delimiter = ',';
  for (const candidate of CANDIDATES) if (counts[candidate] > counts[best]) best = candidate;
  return best;
}

function isDelimiter(char: string): char is Delimiter {
  return (CANDIDATES as readonly string[]).includes(char);
}
