/**
 * Everything printed that came from input (CSV cells and headers, mail headers, file names, answers
 * of a target) passes through `printable` first: control characters could retitle or clear the
 * admin's terminal, and bidirectional controls disguise what they surround. Each is shown as
 * `U+XXXX`, never raw. Format characters that real text needs (zero-width joiner in emoji, zero-width
 * non-joiner in Persian words, the soft hyphen) are left as they are.
 */
// C0, DEL and C1 controls; line and paragraph separators; bidirectional marks, embeddings,
// overrides and isolates; characters that take no room at all (zero-width space, word joiner,
// invisible operators, zero-width no-break space), which would hide inside a shown address.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff]/gu;

/** `U+XXXX` for one character (at least four hex digits). */
export function codePointName(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The text with every unprintable character shown as `U+XXXX`; cut to `max` characters when given. */
export function printable(value: string, max?: number): string {
  const cut = max !== undefined && value.length > max ? `${value.slice(0, max)}…` : value;
  return cut.replace(UNPRINTABLE, codePointName);
}

/** Whether the text holds a character `printable` would rewrite. */
export function hasUnprintable(value: string): boolean {
  UNPRINTABLE.lastIndex = 0;
  const found = UNPRINTABLE.test(value);
  UNPRINTABLE.lastIndex = 0;
  return found;
}

/**
 * A word (a path, an option's value) as one shell word, to paste as it is shown: as it is when it
 * holds only plain characters, else quoted: in '…' (nothing inside is special), or in "…" where a
 * hint reads better so (`--name "Fred Jones"`), with what is special inside "…" escaped.
 */
export function shellWord(text: string, quotes: "'" | '"' = "'"): string {
  if (/^[\w./@%+=:,-]+$/.test(text)) return text;
  return quotes === "'" ? `'${text.replace(/'/g, `'\\''`)}'` : `"${text.replace(/(["\\$`])/g, '\\$1')}"`;
}
