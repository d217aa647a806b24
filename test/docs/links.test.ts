import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));


async function filesUnder(dir: string, ext: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && ext.test(entry.name)) found.push(relative(ROOT, join(entry.parentPath, entry.name)));
  }
  return found.sort();
}

async function pages(): Promise<string[]> {
  return ['README.md', 'CHANGELOG.md', ...(await filesUnder('docs', /\.md$/))];
}

/** GitHub's anchor for a heading: lower case, markup and punctuation left out, spaces as `-`. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings (a repeated heading gets -1, -2 ... as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(match[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

/** The relative links of a Markdown file (outside code blocks): [text](target). */
function links(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((target) => !/^[a-z]+:/i.test(target));
}

describe('links in README.md and docs/', () => {
  it('every relative link names a file the repo has, and a heading that file has', async () => {
    const broken: string[] = [];
    for (const page of await pages()) {
      const markdown = await readFile(join(ROOT, page), 'utf8');
      for (const link of links(markdown)) {
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? page : relative(ROOT, resolve(ROOT, dirname(page), path));
        if (!existsSync(join(ROOT, target))) {
          broken.push(`${page}: (${link}): no ${target}`);
          continue;
        }
        if (anchor !== undefined && target.endsWith('.md') && !anchors(await readFile(join(ROOT, target), 'utf8')).has(anchor)) {
          broken.push(`${page}: (${link}): ${target} has no heading #${anchor}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('every file or folder of the repo a page names in `code` (src/…, test/…, fixtures/…) is there', async () => {
    const missing: string[] = [];
    for (const page of await pages()) {
      if (page === 'CHANGELOG.md') continue; // history: it may name what is gone
      const markdown = await readFile(join(ROOT, page), 'utf8');
      for (const match of markdown.matchAll(/`((?:src|test|bench|scripts|fixtures|bin|templates)\/[^`\s]*)`/g)) {
        const path = match[1] ?? '';
        // Patterns (`test/support/jsm-double*`, `welcome.<lang>.txt`) name no one file.
        if (/[*<{]/.test(path)) continue;
        if (!existsSync(join(ROOT, path))) missing.push(`${page}: ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('the README links to at least four pages of docs/', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const docs = new Set(links(readme).map((l) => l.split('#')[0]).filter((l) => /^docs\/[\w-]+\.md$/.test(l ?? '')));
    expect(docs.size).toBeGreaterThanOrEqual(4);
  });
});

// Files named in comments: test/docs/cited-files.test.ts.
