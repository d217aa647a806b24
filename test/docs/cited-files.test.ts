/**
 * Every file a comment names is in the repo: the comments of src/, test/, bench/ and scripts/, and
 * the pages of docs/ and the README. A name is a path under one of the repo's folders
 * (`src/core/plan.ts`, `test/support/jsm-double.ts`, `docs/contract.md`), a path relative to the
 * file (`../support/tmp.ts`; comments only), a Markdown file (`docs/reliability.md`, or a page of
 * docs/ by its name), or a source file by its name alone (`run-rows.ts`: one somewhere in the
 * repo). Built paths (`dist/cli/program/main.js`) name their source. Comments are read with TypeScript's
 * own parser, so a `//` inside a string or a URL is not taken for one.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FOLDERS = 'src|test|docs|bench|scripts|fixtures|templates|bin|dist';

async function filesUnder(dir: string, ext: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && ext.test(entry.name)) found.push(relative(ROOT, join(entry.parentPath, entry.name)));
  }
  return found.sort();
}

/** The comments of a source file, as its parser sees them (each once). */
function commentsOf(file: string, code: string): string[] {
  const kind = /\.m?js$|\.cjs$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, false, kind);
  const seen = new Map<number, string>();
  const take = (ranges: readonly ts.CommentRange[] | undefined): void => {
    for (const r of ranges ?? []) if (!seen.has(r.pos)) seen.set(r.pos, code.slice(r.pos, r.end));
  };
  const visit = (node: ts.Node): void => {
    // Before and after every node, on its line (trailing) and on the lines up to the next token
    // (leading): a comment on its own line before a closing brace too.
    for (const at of [node.pos, node.end]) {
      take(ts.getTrailingCommentRanges(code, at));
      take(ts.getLeadingCommentRanges(code, at));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
}

/** The file names a text cites: repo paths, `*.md`, and (when `relativeToo`) `./` and `../` paths. */
function citedIn(text: string, relativeToo: boolean): string[] {
  // URLs name other places; placeholders and patterns (`welcome.<lang>.txt`, `jsm-double*`) name no one file.
  const plain = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ');
  const names = new Set<string>();
  const path = String.raw`(?:[\w.@-]+\/)*[\w.@-]*[\w@-]\.[a-z]{1,5}\b(?![\w*<{/-])`;
  const patterns = [
    new RegExp(String.raw`(?<![\w./~$<*-])((?:${FOLDERS})\/${path})`, 'g'),
    new RegExp(String.raw`(?<![\w./~$<*-])([\w.-]*[\w-]\.md)\b(?![\w*<{/-])`, 'g'),
    ...(relativeToo ? [new RegExp(String.raw`(?<![\w.~$<*-])((?:\.\.?\/)+${path})`, 'g')] : []),
  ];
  for (const pattern of patterns) for (const m of plain.matchAll(pattern)) names.add(m[1] ?? '');
  return [...names].filter((n) => n !== '');
}

/** Source files named by their name alone (`run-rows.ts`): each must be a file somewhere in the repo. */
function sourceNamesIn(text: string): string[] {
  const plain = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, ' ');
  return [...plain.matchAll(/(?<![\w./~$<*-])([\w.-]*[\w-]\.(?:ts|mts|mjs|cjs|py))\b(?![\w*<{/-])/g)].map((m) => m[1] ?? '');
}

/** The names of the repo's own files (not node_modules, dist or .git). */
async function repoFileNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const entry of await readdir(ROOT, { withFileTypes: true })) if (entry.isFile()) names.add(entry.name);
  for (const dir of FOLDERS.split('|').filter((d) => d !== 'dist')) {
    if (!existsSync(join(ROOT, dir))) continue;
    for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true })) if (entry.isFile()) names.add(entry.name);
  }
  return names;
}

/** Whether a cited name is a file of the repo: from the root, from the citing file's folder, or a page of docs/. */
function exists(cited: string, file: string): boolean {
  const source = cited.replace(/^dist\/(.*)\.js$/, 'src/$1.ts').replace(/^dist\/(.*)\.d\.ts$/, 'src/$1.ts');
  const candidates = [resolve(ROOT, source), resolve(ROOT, dirname(file), source), ...(/^[\w.-]+\.md$/.test(source) ? [resolve(ROOT, 'docs', source)] : [])];
  return candidates.some((c) => c.startsWith(ROOT) && existsSync(c));
}

describe('files named in comments and docs', () => {
  it('finds the names it should, and not what is not a file name', () => {
    const comments = commentsOf('x.ts', [
      "const url = 'http://example.com/src/nope.ts'; // see src/core/plan.ts and docs/contract.md",
      '/* ../support/tmp.ts, reliability.md; not https://github.com/a/b/blob/main/src/gone.ts */',
      "const s = '// src/in-a-string.ts';",
    ].join('\n'));
    expect(comments).toHaveLength(2);
    expect(citedIn(comments.join('\n'), true).sort()).toEqual(['../support/tmp.ts', 'docs/contract.md', 'reliability.md', 'src/core/plan.ts']);
    expect(citedIn('`welcome.<lang>.txt`, test/support/jsm-double*, ~/.local/state/x.md, $XDG_STATE_HOME/y.md', false)).toEqual([]);
    expect(sourceNamesIn('run-rows.ts (see https://example.com/x.ts), vitest.config.ts, not.a.ts*')).toEqual(['run-rows.ts', 'vitest.config.ts']);
  });

  it('every file a comment in src/, test/, bench/ or scripts/ names is in the repo', async () => {
    const missing: string[] = [];
    const sources = [
      ...(await filesUnder('src', /\.ts$/)),
      ...(await filesUnder('test', /\.(m?ts|mjs|cjs)$/)),
      ...(await filesUnder('bench', /\.ts$/)),
      ...(await filesUnder('scripts', /\.(m?[jt]s|d\.mts)$/)),
    ];
    const names = await repoFileNames();
    for (const file of sources) {
      const code = await readFile(join(ROOT, file), 'utf8');
      const comments = commentsOf(file, code).join('\n');
      for (const cited of citedIn(comments, true)) {
        if (!exists(cited, file)) missing.push(`${file}: ${cited}`);
      }
      for (const name of sourceNamesIn(comments)) if (!names.has(name)) missing.push(`${file}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it('every repo file a page of docs/ (and the README) names is in the repo', async () => {
    const missing: string[] = [];
    const names = await repoFileNames();
    for (const page of ['README.md', ...(await filesUnder('docs', /\.md$/))]) {
      const text = await readFile(join(ROOT, page), 'utf8');
      for (const cited of citedIn(text, false)) if (!exists(cited, page)) missing.push(`${page}: ${cited}`);
      for (const name of sourceNamesIn(text)) if (!names.has(name)) missing.push(`${page}: ${name}`);
    }
    expect(missing).toEqual([]);
  });
});
