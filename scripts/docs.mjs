#!/usr/bin/env node
// `npm run docs`: writes docs/commands.md from the built CLI's commander tree (run after the build).
import { writeFileSync } from 'node:fs';
import { buildProgram } from '../dist/cli/program/main.js';
import { commandsMarkdown } from './commands-doc.mjs';

const page = new URL('../docs/commands.md', import.meta.url);
writeFileSync(page, commandsMarkdown(await buildProgram([], true)));
process.stdout.write(`wrote ${page.pathname}\n`);
