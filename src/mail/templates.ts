/**
 * Invitation templates: `welcome.txt` (+ `welcome.html`) and `verify.txt` (+ `verify.html`), with
 * `welcome.<language>.txt` ... beside them, in Mustache syntax. A `.txt` starts with the line
 * `Subject: ...`, then a blank line, then the body. Every file of a folder is read and checked when
 * the folder is opened, before anything is written or sent: a template that could fail later
 * (unknown field, no subject, a value put into HTML unescaped) stops the command there.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type MustacheModule from 'mustache';
import { UsageError } from '../core/errors.js';
import { languageFallbacks, LANGUAGE_HINT, normaliseLanguage } from '../core/language.js';
import { codePointName, printable } from '../core/printable.js';
import type { InvitationKind } from '../core/types.js';

/** The fields a template may use; nothing else reaches a template (never a password). */
export const TEMPLATE_FIELDS = ['name', 'email', 'project', 'portalUrl', 'from', 'passwordSet'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** What a template is rendered with. Strings are single-line; `portalUrl` is '' or an http(s) URL. */
export interface TemplateView {
  name: string;
  email: string;
  project: string;
  portalUrl: string;
  from: string;
  passwordSet: boolean;
}

/**
 * The templates shipped in the package: `templates/` at its root, two levels above this file in
 * src/ and dist/ (three in the benchmark's build folder).
 */
export const BUILT_IN_TEMPLATE_DIR = ['../../templates/', '../../../templates/']
  .map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  // stat, not existsSync: access() asks with the real user's rights and no capabilities, which can
  // differ from what the process may read (a wrapper that changes users keeps the code readable).
  .find((dir, i, all) => i === all.length - 1 || statSync(path.join(dir, 'welcome.txt'), { throwIfNoEntry: false }) !== undefined) as string;

/** The language of the built-in default templates (welcome.txt, verify.txt). */
export const BUILT_IN_LANGUAGE = 'en';

export interface RenderedMessage {
  subject: string;
  /** CRLF line ends. */
  text: string;
  /** CRLF line ends; absent when the chosen language has no `.html` template. */
  html?: string;
  /** The language of the template used, or null for the default one. */
  language: string | null;
  textFile: string;
  htmlFile?: string;
}

interface TextTemplate {
  file: string;
  subject: string;
  body: string;
}

interface HtmlTemplate {
  file: string;
  body: string;
}

// Loaded on first use: commands that never open templates do not pay for it.
let mustache: typeof MustacheModule | undefined;
function mustacheModule(): typeof MustacheModule {
  mustache ??= createRequire(import.meta.url)('mustache') as typeof MustacheModule;
  return mustache;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const asIs = (value: unknown): string => String(value);
const htmlEscape = (value: unknown): string => escapeHtml(String(value));

/** CR LF, LF or a lone CR become CR LF: what RFC 5322 wants of every line of a message. */
export function toCrlf(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

// C0 and C1 controls other than tab and line ends have no place in a template.
const TEMPLATE_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u;
const LINE_BREAKS = /[\p{Cc}\u2028\u2029]+/gu;
const FILE_NAME = /^(welcome|verify)(?:\.([^.]+))?\.(txt|html)$/;
const FIELD_LIST = 'name, email, project, portalUrl, from, and the section {{#passwordSet}}...{{/passwordSet}}';

function badTemplate(file: string, line: number | null, why: string, hint?: string): UsageError {
  const where = line === null ? printable(file) : `${printable(file)} line ${line}`;
  return new UsageError('bad-template', `the template ${where}: ${why}`, hint ?? 'fix the template and run again: nothing was written and nothing was sent');
}

/** The closest known field to a mistyped one, for "did you mean". */
function nearestField(name: string): TemplateField | undefined {
  let best: TemplateField | undefined;
  let bestDistance = 3;
  for (const field of TEMPLATE_FIELDS) {
    const d = editDistance(name.toLowerCase(), field.toLowerCase());
    if (d < bestDistance) {
      best = field;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

type Token = [string, string, number, number, ...unknown[]];

interface CheckContext {
  file: string;
  source: string;
  /** Lines of the file before `source` starts. */
  firstLine: number;
  html: boolean;
}

function lineAt(ctx: CheckContext, index: number): number {
  let line = ctx.firstLine;
  for (let i = 0; i < index && i < ctx.source.length; i++) if (ctx.source.charCodeAt(i) === 10) line++;
  return line;
}

/** Parses a template with Mustache and walks every token: only known fields, nothing unescaped into HTML. */
function checkTemplate(ctx: CheckContext): void {
  let tokens: Token[];
  try {
    tokens = mustacheModule().parse(ctx.source) as unknown as Token[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /\bat (\d+)\s*$/.exec(message);
    const line = at ? lineAt(ctx, Number(at[1])) : null;
    throw badTemplate(ctx.file, line, `it is not valid Mustache: ${message.replace(/\s*\bat \d+\s*$/, '')}`);
  }
  walk(tokens, ctx);
}

function walk(tokens: Token[], ctx: CheckContext): void {
  for (const token of tokens) {
    const [type, value, start] = token;
    const line = () => lineAt(ctx, start);
    if (type === 'text' || type === '!' || type === '=') continue;
    if (type === '>') {
      throw badTemplate(ctx.file, line(), `{{> ${printable(value)}}} includes another template, which is not supported`, 'write that text into this template');
    }
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(value)) {
      const near = nearestField(value);
      throw badTemplate(
        ctx.file,
        line(),
        `{{${printable(value)}}} is not a field the tool knows`,
        `${near ? `did you mean {{${near}}}? ` : ''}the fields are ${FIELD_LIST}`,
      );
    }
    if (ctx.html && type === '&') {
      throw badTemplate(
        ctx.file,
        line(),
        `{{{${value}}}} (or {{&${value}}}) would put the value into the HTML without escaping it, so a name could add markup or links`,
        `write {{${value}}}: values are escaped for HTML`,
      );
    }
    if (ctx.html && type === 'name' && unquotedAttribute(ctx.source, start)) {
      throw badTemplate(ctx.file, line(), `{{${value}}} is the value of an HTML attribute without quotes, where a space in it would start another attribute`, `put it in double quotes, e.g. href="{{${value}}}"`);
    }
    if (type === '#' || type === '^') walk(token[4] as Token[], ctx);
  }
}

/** True when the text just before `index` is inside a tag and ends with `=`. */
function unquotedAttribute(source: string, index: number): boolean {
  const before = source.slice(0, index);
  return before.lastIndexOf('<') > before.lastIndexOf('>') && /=\s*$/.test(before);
}

function readTemplateFile(file: string, cwd: string | undefined): string {
  let raw: string;
  try {
    raw = readFileSync(cwd === undefined ? file : path.resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new UsageError('bad-template', `the template ${printable(file)} cannot be read (${code || String(error)})`, 'check that the file exists and is readable');
  }
  const text = raw.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const bad = TEMPLATE_CONTROL.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split('\n').length;
    throw badTemplate(file, line, `it contains the control character ${codePointName(bad[0])}`, 'remove it (templates are plain UTF-8 text)');
  }
  return text;
}

function parseText(file: string, cwd: string | undefined): TextTemplate {
  const text = readTemplateFile(file, cwd);
  const newline = text.indexOf('\n');
  const first = newline < 0 ? text : text.slice(0, newline);
  const subject = /^Subject:[ \t]*(.*)$/i.exec(first);
  const hint = 'start the file with the line "Subject: ...", then a blank line, then the body';
  if (!subject) throw badTemplate(file, 1, 'the first line is not a subject line', hint);
  if (subject[1]!.trim() === '') throw badTemplate(file, 1, 'the subject is empty', hint);
  const rest = newline < 0 ? '' : text.slice(newline + 1);
  const secondEnd = rest.indexOf('\n');
  const second = secondEnd < 0 ? rest : rest.slice(0, secondEnd);
  if (second.trim() !== '') {
    throw badTemplate(file, 2, 'it must be blank: only the subject is read from the head of a template, the body starts after one blank line', hint);
  }
  const body = secondEnd < 0 ? '' : rest.slice(secondEnd + 1);
  if (body.trim() === '') throw badTemplate(file, 3, 'the body is empty', hint);
  const template: TextTemplate = { file, subject: subject[1]!.trim(), body };
  checkTemplate({ file, source: template.subject, firstLine: 1, html: false });
  checkTemplate({ file, source: body, firstLine: 3, html: false });
  return template;
}

function parseHtml(file: string, cwd: string | undefined): HtmlTemplate {
  const body = readTemplateFile(file, cwd);
  if (body.trim() === '') throw badTemplate(file, 1, 'it is empty', 'write the HTML part, or remove the file to send text only');
  checkTemplate({ file, source: body, firstLine: 1, html: true });
  return { file, body };
}

const keyOf = (kind: InvitationKind, language: string | null) => (language === null ? kind : `${kind}.${language}`);

/** The templates of one folder, all checked; renders invitations and remembers languages that fell back. */
export class TemplateSet {
  private readonly writer = new (mustacheModule().Writer)();
  private readonly fellBack = new Map<string, { kind: InvitationKind; requested: string; used: string; count: number }>();

  constructor(
    readonly dir: string,
    readonly builtIn: boolean,
    private readonly texts: ReadonlyMap<string, TextTemplate>,
    private readonly htmls: ReadonlyMap<string, HtmlTemplate>,
    /** For messages that name no language (`--language`). */
    readonly defaultLanguage: string | undefined,
  ) {}

  /** The languages with a template of this kind, besides the default. */
  languages(kind: InvitationKind): string[] {
    return [...this.texts.keys()].filter((k) => k.startsWith(`${kind}.`)).map((k) => k.slice(kind.length + 1)).sort();
  }

  has(kind: InvitationKind): boolean {
    return this.texts.has(kind);
  }

  /** This set, when it has the default template of each kind; else UsageError naming the missing file. */
  need(kinds: readonly InvitationKind[]): this {
    for (const kind of kinds) {
      if (this.texts.has(kind)) continue;
      throw new UsageError(
        'missing-template',
        `the template folder ${printable(this.dir)} has no ${kind}.txt, which ${kind === 'verify' ? "import-mail's verification messages need" : 'invitations need'}`,
        `add ${kind}.txt (first line "Subject: ...", a blank line, the body); languages fall back to it`,
      );
    }
    return this;
  }

  /** The template for a language: itself, then less specific (pt-BR -> pt), then the default. */
  choose(kind: InvitationKind, language: string | undefined): { text: TextTemplate; html: HtmlTemplate | undefined; language: string | null } {
    const wanted = language ?? this.defaultLanguage;
    for (const code of wanted ? languageFallbacks(wanted) : []) {
      const text = this.texts.get(keyOf(kind, code));
      if (text) return { text, html: this.htmls.get(keyOf(kind, code)), language: code };
    }
    const text = this.texts.get(kind);
    if (!text) {
      throw new UsageError('missing-template', `the template folder ${printable(this.dir)} has no ${kind}.txt`, `add ${kind}.txt, or leave out --template-dir to use the built-in texts`);
    }
    return { text, html: this.htmls.get(kind), language: null };
  }

  /** Renders one message. `view` holds single-line values only; the subject is folded to one line anyway. */
  render(kind: InvitationKind, language: string | undefined, view: TemplateView): RenderedMessage {
    const chosen = this.choose(kind, language);
    const wanted = language ?? this.defaultLanguage;
    if (wanted !== undefined && chosen.language !== wanted && !(chosen.language === null && this.defaultSpeaks(wanted))) {
      this.noteFallback(kind, wanted, chosen.text.file);
    }
    const subject = this.writer.render(chosen.text.subject, view, undefined, { escape: asIs }).replace(LINE_BREAKS, ' ').replace(/ {2,}/g, ' ').trim();
    const out: RenderedMessage = {
      subject,
      text: toCrlf(this.writer.render(chosen.text.body, view, undefined, { escape: asIs })),
      language: chosen.language,
      textFile: chosen.text.file,
    };
    if (chosen.html) {
      out.html = toCrlf(this.writer.render(chosen.html.body, view, undefined, { escape: htmlEscape }));
      out.htmlFile = chosen.html.file;
    }
    return out;
  }

  /**
   * Whether the default template (`welcome.txt`) is written in this language: the built-in ones are
   * English, so `en` and `en-GB` are served as asked, with no note. A folder of one's own says
   * nothing of its default's language: every fallback to it is noted.
   */
  private defaultSpeaks(language: string): boolean {
    return this.builtIn && languageFallbacks(language).includes(BUILT_IN_LANGUAGE);
  }

  private noteFallback(kind: InvitationKind, requested: string, used: string): void {
    const key = `${kind}|${requested}`;
    const seen = this.fellBack.get(key);
    if (seen) seen.count++;
    else this.fellBack.set(key, { kind, requested, used, count: 1 });
  }

  /** One sentence per language that had no template of its own in this run: not an error, said once. */
  notes(): string[] {
    return [...this.fellBack.values()].map(
      (f) =>
        `${f.count} ${f.kind === 'verify' ? 'verification message(s)' : 'invitation(s)'} in ${f.requested} used ${path.basename(f.used)}: ` +
        `${this.builtIn ? 'the built-in templates have' : `${printable(this.dir)} has`} no ${f.kind}.${f.requested}.txt`,
    );
  }
}

export interface LoadTemplatesOptions {
  /** `--template-dir` / `JSM_TEMPLATE_DIR` (or a config value); absent: the built-in templates. */
  dir?: string;
  /** The folder a relative `dir` is in (the run's working directory). */
  cwd?: string;
  /** The kinds this command may send: each needs its `<kind>.txt`. */
  kinds?: readonly InvitationKind[];
  /** `--language`: for messages that name none. Checked here (exit 2 when it is not a code). */
  language?: string;
  /** Whose built-in texts (without `dir`): JSM Cloud's (`templates/cloud/`: no password is ever set there). */
  builtIn?: 'cloud';
}

/** Checks `--language` (or a config value): the canonical code, or UsageError. */
export function checkLanguageOption(value: string, option = '--language'): string {
  const code = normaliseLanguage(value);
  if (!code) throw new UsageError('bad-language', `${option} ${JSON.stringify(printable(value, 40))} is not a language code`, LANGUAGE_HINT);
  return code;
}

/**
 * Reads and checks every template of a folder (synchronously: a handful of small files, read once
 * per run, before anything is written). Throws UsageError (exit 2) naming the file, line and field.
 */
export function loadTemplates(opts: LoadTemplatesOptions = {}): TemplateSet {
  const language = opts.language === undefined ? undefined : checkLanguageOption(opts.language);
  const builtIn = opts.dir === undefined || opts.dir.trim() === '';
  const dir = builtIn ? (opts.builtIn === 'cloud' ? path.join(BUILT_IN_TEMPLATE_DIR, 'cloud') : BUILT_IN_TEMPLATE_DIR) : (opts.dir as string).trim();
  // A relative folder is in the run's working directory; messages name it as given.
  const at = (p: string): string => (opts.cwd === undefined ? p : path.resolve(opts.cwd, p));
  const hint = 'give --template-dir (or JSM_TEMPLATE_DIR) a folder holding welcome.txt (and verify.txt for import-mail)';
  let names: string[];
  try {
    if (!statSync(at(dir)).isDirectory()) throw new UsageError('missing-template-dir', `the template folder ${printable(dir)} is not a folder`, hint);
    names = readdirSync(at(dir)).sort();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
    throw new UsageError('missing-template-dir', `the template folder ${printable(dir)} ${why}`, hint);
  }
  const texts = new Map<string, TextTemplate>();
  const htmls = new Map<string, HtmlTemplate>();
  const fileOf = new Map<string, string>();
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match) continue;
    const [, kindName, code, ext] = match;
    const kind = kindName as InvitationKind;
    const file = path.join(dir, name);
    let lang: string | null = null;
    if (code !== undefined) {
      const canonical = normaliseLanguage(code);
      if (!canonical) throw badTemplate(file, null, `"${printable(code)}" in its name is not a language code`, `name it ${kind}.<language>.${ext}, e.g. ${kind}.de.${ext} or ${kind}.pt-BR.${ext}`);
      lang = canonical;
    }
    const key = `${keyOf(kind, lang)}.${ext}`;
    const twin = fileOf.get(key);
    if (twin) throw badTemplate(file, null, `it is the same template as ${printable(path.basename(twin))}`, 'keep one of the two files');
    fileOf.set(key, file);
    if (ext === 'txt') texts.set(keyOf(kind, lang), parseText(file, opts.cwd));
    else htmls.set(keyOf(kind, lang), parseHtml(file, opts.cwd));
  }
  let layout: string | undefined;
  for (const [key, html] of htmls) {
    const text = texts.get(key);
    if (!text) {
      throw badTemplate(html.file, null, `there is no ${key}.txt beside it, which gives the subject and the text part`, `add ${key}.txt, or remove ${path.basename(html.file)}`);
    }
    if (builtIn) htmls.set(key, inBuiltInLayout((layout ??= readTemplateFile(path.join(BUILT_IN_TEMPLATE_DIR, BUILT_IN_LAYOUT), undefined)), html, text, key));
  }
  return new TemplateSet(dir, builtIn, texts, htmls, language).need(opts.kinds ?? []);
}

/**
 * The page every built-in HTML part is put into (`templates/layout.html`, for Data Center's and
 * Cloud's alike): the head, the styles, the card, the heading. A built-in `.html` holds only what
 * goes under the heading. `[[lang]]` is the template's language (the default ones are English),
 * `[[heading]]` its subject as written (a Mustache template itself, escaped for HTML when rendered),
 * `[[body]]` the part. Folders of one's own are not touched: their `.html` files are whole pages.
 */
const BUILT_IN_LAYOUT = 'layout.html';

function inBuiltInLayout(layout: string, html: HtmlTemplate, text: TextTemplate, key: string): HtmlTemplate {
  const language = key.includes('.') ? key.slice(key.indexOf('.') + 1) : BUILT_IN_LANGUAGE;
  // Functions as replacements: a `$` in a subject or a part is taken as it is.
  const body = layout
    .replace('[[lang]]', () => language)
    .replaceAll('[[heading]]', () => text.subject)
    .replace('[[body]]\n', () => html.body);
  checkTemplate({ file: html.file, source: body, firstLine: 1, html: true });
  return { file: html.file, body };
}

/** The built-in templates, checked like any folder; read once per call (a run calls it once). */
export function builtInTemplates(language?: string): TemplateSet {
  return loadTemplates({ kinds: ['welcome', 'verify'], ...(language !== undefined ? { language } : {}) });
}

/**
 * The templates a JSM Cloud run uses: the set given, unless it is the built-in one of Data Center
 * (a custom domain is known to be Cloud only once the target opens): then Cloud's built-in texts.
 */
export function templatesForCloud(templates: TemplateSet): TemplateSet {
  const cloudDir = path.join(BUILT_IN_TEMPLATE_DIR, 'cloud');
  if (!templates.builtIn || templates.dir === cloudDir) return templates;
  return loadTemplates({ builtIn: 'cloud', ...(templates.defaultLanguage !== undefined ? { language: templates.defaultLanguage } : {}) });
}
