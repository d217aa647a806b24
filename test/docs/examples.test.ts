import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program/main.js';
import { runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The README and the written pages of docs/ (docs/commands.md is made from the commands themselves). */
async function pages(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md') && f !== 'commands.md');
  return ['README.md', ...docs.sort().map((f) => `docs/${f}`)];
}

/** The shell lines of a page's sh and console blocks: `$ ` lines when a block has them, else every line. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const block of markdown.matchAll(/^```(?:sh|console)\n([\s\S]*?)^```/gm)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, ' ').split('\n');
    const prompted = joined.filter((l) => l.startsWith('$ '));
    lines.push(...(prompted.length > 0 ? prompted.map((l) => l.slice(2)) : joined));
  }
  return lines;
}

/** Shell words, quotes removed (enough for the examples: no expansions are checked). */
function words(line: string): string[] {
  const result: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'" || c === '"') {
      // An unmatched quote (an apostrophe in a comment) runs to the end of the line, as in a shell.
      const found = line.indexOf(c, i + 1);
      const end = found === -1 ? line.length : found;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (word !== null) result.push(word);
      word = null;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) result.push(word);
  return result;
}

/** Each `jsm-provision ...` a line runs (after a pipe, `&&`, or variables), up to its comment or the next command. */
function invocations(line: string): string[][] {
  const found: string[][] = [];
  const all = words(line);
  for (let i = 0; i < all.length; i++) {
    if (all[i] !== 'jsm-provision') continue;
    const args: string[] = [];
    for (let j = i + 1; j < all.length; j++) {
      const w = all[j] as string;
      if (w.startsWith('#') || ['|', '||', '&&', ';', '>', '<', '2>'].includes(w) || /^[<>]/.test(w)) break;
      args.push(w);
    }
    found.push(args);
  }
  return found;
}

/** What is wrong with one example, by the commander tree: its command and every option it gives. */
function problemsOf(program: Command, args: string[]): string[] {
  let command = program;
  let i = 0;
  for (; i < args.length; i++) {
    const sub = command.commands.find((c) => c.name() === args[i]);
    if (!sub) break;
    command = sub;
  }
  if (command === program) return [`no command ${args[0] ?? ''}`];
  if (command.commands.length > 0) return [`${args.slice(0, i).join(' ')} needs one of ${command.commands.map((c) => c.name()).join(', ')}`];
  const known = new Set(['--help', '-h', ...command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)))]);
  const problems: string[] = [];
  for (const arg of args.slice(i)) {
    if (!arg.startsWith('-') || arg === '-') continue;
    const flag = arg.split('=')[0] as string;
    if (!known.has(flag)) problems.push(`${command.name()} takes no ${flag}`);
  }
  return problems;
}

/** Options whose value is a file or folder the command reads (so it must be there to copy-paste the line). */
const READS = ['--file', '--template-dir', '--password-file', '--config'];
/** Options whose value is a file the command writes (a later example may read it). */
const WRITES = ['--output', '--report'];

/**
 * The files an example reads that neither the repo ships nor an earlier example of the page
 * writes: the CSV or mail of an import, `--file`, `--template-dir`. A reader copies the line and it
 * must run; a placeholder belongs in a sentence, not in the example.
 */
function missingInputs(args: string[], made: Set<string>): string[] {
  const missing: string[] = [];
  const command = args.slice(0, 2).join(' ');
  const inputs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (READS.includes(word) && args[i + 1] !== undefined) inputs.push(args[i + 1] as string);
    if (WRITES.includes(word) && args[i + 1] !== undefined) made.add(args[i + 1] as string);
  }
  if (command.startsWith('import-csv ') || command.startsWith('import-mail ')) {
    for (let i = 1; i < args.length && !(args[i] as string).startsWith('-'); i++) inputs.push(args[i] as string);
  }
  for (const input of inputs) {
    if (input === '-' || made.has(input) || /^[$~<]|^\/(etc|home|tmp)\//.test(input)) continue;
    if (!existsSync(join(ROOT, input))) missing.push(input);
  }
  return missing;
}

describe('the examples of README.md and docs/', () => {
  it('read only files the repo ships, or that an earlier example of the page wrote', async () => {
    const problems: string[] = [];
    for (const page of await pages()) {
      const made = new Set<string>();
      for (const line of shellLines(await readFile(join(ROOT, page), 'utf8'))) {
        for (const written of line.match(/>\s*(\S+)/g) ?? []) made.add(written.replace(/^>\s*/, ''));
        for (const args of invocations(line)) {
          for (const input of missingInputs(args, made)) problems.push(`${page}: jsm-provision ${args.join(' ')}: ${input} is not in the repo`);
        }
      }
    }
    expect(problems).toEqual([]);
  });


  it('run commands that exist, with options those commands take, on fixtures the repo ships', async () => {
    const program = await buildProgram([], true);
    const problems: string[] = [];
    let checked = 0;
    for (const page of await pages()) {
      for (const line of shellLines(await readFile(join(ROOT, page), 'utf8'))) {
        for (const args of invocations(line)) {
          checked++;
          for (const problem of problemsOf(program, args)) problems.push(`${page}: jsm-provision ${args.join(' ')}: ${problem}`);
        }
        for (const fixture of line.match(/(?<![\w/])fixtures\/[\w./-]+/g) ?? []) {
          if (!existsSync(join(ROOT, fixture))) problems.push(`${page}: ${fixture} is not in the repo`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The pages hold dozens of examples: a parser that found none would pass anything.
    expect(checked).toBeGreaterThan(40);
  });
});

/** The words that name `command` and every command under it (`[]` for the program itself). */
function commandPaths(command: Command, path: string[] = []): string[][] {
  return [path, ...command.commands.flatMap((c) => commandPaths(c, [...path, c.name()]))];
}

describe('the examples of the built-in --help', () => {
  it('read files the package ships (fixtures/), or say the file is the user\'s (your-…)', async () => {
    const program = await buildProgram([], true);
    const problems: string[] = [];
    let inputs = 0;
    for (const path of commandPaths(program)) {
      const text = (await runCli([...path, '--help'], { cwd: ROOT })).stdout;
      for (const line of text.split('\n').filter((l) => l.trim().startsWith('$ ')).map((l) => l.trim().slice(2))) {
        for (const args of invocations(line)) {
          for (const [n, arg] of args.entries()) {
            if (!/\.(csv|tsv|txt|mbox|eml)$/.test(arg) || ['--report', '--output'].includes(args[n - 1] ?? '')) continue;
            inputs++;
            if (!arg.startsWith('your-') && !existsSync(join(ROOT, arg))) problems.push(`jsm-provision ${args.join(' ')}: ${arg} is neither shipped nor said to be the user's (your-…)`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(inputs).toBeGreaterThan(3);
  });
});
