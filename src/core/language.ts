/**
 * Language codes of invitations: the BCP 47 shapes real address books and CRMs export
 * (`de`, `pt-BR`, `pt_BR`, `zh-Hant-TW`, `es-419`), written one canonical way so that the code of a
 * row and the name of a template file compare equal. Nothing else passes: a code becomes part of a
 * file name, so `../`, slashes, dots and spaces can never get through.
 */
const LANGUAGE = /^([a-z]{2,3})(?:[-_]([a-z]{4}))?(?:[-_]([a-z]{2}|[0-9]{3}))?$/i;

/** The canonical form (`pt-BR`, `zh-Hant-TW`), or undefined when the text is not a language code. */
export function normaliseLanguage(code: string): string | undefined {
  const match = LANGUAGE.exec(code.trim());
  if (!match) return undefined;
  const [, language, script, region] = match;
  let out = language!.toLowerCase();
  if (script) out += `-${script[0]!.toUpperCase()}${script.slice(1).toLowerCase()}`;
  if (region) out += `-${region.toUpperCase()}`;
  return out;
}

/** Where to look, most specific first: `zh-Hant-TW` -> `zh-Hant-TW`, `zh-Hant`, `zh`. */
export function languageFallbacks(code: string): string[] {
  const parts = code.split('-');
  const chain: string[] = [];
  for (let n = parts.length; n > 0; n--) chain.push(parts.slice(0, n).join('-'));
  return chain;
}

/** The words a message uses for a code that is refused (one row's cell or an option). */
export const LANGUAGE_HINT = 'write a language code such as de, fr, pt or pt-BR (a language, optionally a script and a region)';
