import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { commandsMarkdown } from '../../scripts/commands-doc.mjs';
import { buildProgram } from '../../src/cli/program/main.js';

const PAGE = new URL('../../docs/commands.md', import.meta.url);

describe('docs/commands.md', () => {
  it('is what `npm run docs` makes from the commander tree (run it after changing a command or option)', async () => {
    const made = commandsMarkdown(await buildProgram([], true));
    const committed = await readFile(PAGE, 'utf8');
    // One assertion on the whole page: its diff names the lines that drifted.
    expect(committed, 'docs/commands.md is out of date: run `npm run docs` and commit it').toBe(made);
  });

  it('has a section for every command and subcommand', async () => {
    const program = await buildProgram([], true);
    const page = commandsMarkdown(program);
    const paths: string[] = [];
    const walk = (command: typeof program, prefix: string): void => {
      for (const sub of command.commands) {
        paths.push(`${prefix} ${sub.name()}`);
        walk(sub, `${prefix} ${sub.name()}`);
      }
    };
    walk(program, 'jsm-provision');
    expect(paths).toContain('jsm-provision invitations send');
    for (const path of paths) expect(page).toContain(`\n## ${path}\n`);
  });
});
