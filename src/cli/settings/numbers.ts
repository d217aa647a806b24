/**
 * The options that take a whole number, with their bounds: checked alike from a flag (settings.ts,
 * through zod) and from the config file (config.ts, loaded by every command: no zod here).
 */
export const WHOLE_NUMBERS = { concurrency: [1, 64], maxRowChars: [1_000, 100_000_000] } as const satisfies Record<string, readonly [number, number]>;

export type WholeNumberKey = keyof typeof WHOLE_NUMBERS;

export function isWholeNumberKey(key: string): key is WholeNumberKey {
  return Object.hasOwn(WHOLE_NUMBERS, key);
}

/** Why a value is not a whole number within an option's bounds, in the words the flags' check uses. */
export function wholeNumberProblem(key: WholeNumberKey, value: unknown): string | undefined {
  const [min, max] = WHOLE_NUMBERS[key];
  return wholeNumberIssue(value, min, max);
}

/** Why a value (an option's text, or a config file's number) is not a whole number from min to max. */
export function wholeNumberIssue(value: unknown, min: number, max: number): string | undefined {
  const text = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : undefined;
  if (text !== undefined && /^-\d+$/.test(text)) return `must be at least ${min}`;
  if (text === undefined || !/^\d+$/.test(text)) return 'must be a whole number';
  const n = Number(text);
  if (n < min) return `must be at least ${min}`;
  if (n > max) return `must be at most ${max}`;
  return undefined;
}
