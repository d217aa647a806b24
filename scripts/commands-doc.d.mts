import type { Command } from 'commander';

/** The page docs/commands.md for the whole commander tree (the program with all its commands). */
export function commandsMarkdown(program: Command): string;
