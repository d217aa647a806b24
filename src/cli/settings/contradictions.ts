/**
 * Every contradiction between options, in one place. Two kinds:
 * - flags given together on one command line (commander keeps the last of `--verification
 *   --no-verification`, so only the words show both): FLAG_CONTRADICTIONS, checked by main.ts
 *   before any command runs (this module loads nothing, so `--version` stays fast);
 * - settings whose values contradict, wherever they came from (flags, environment, config file):
 *   VALUE_CONTRADICTIONS, checked by every command's schema (settings.ts refuseContradictions).
 * Both are refused as `conflicting-options` (exit 2), before anything is read or written.
 */

/** Flags that contradict each other: giving two of a group is a usage error, whatever their order. */
export const FLAG_CONTRADICTIONS: readonly (readonly string[])[] = [
  ['--verification', '--no-verification'],
  ['--no-invite', '--defer-invites'],
  ['--password-stdin', '--password-file', '--generate-password'],
  ['--json', '--html'],
];

/** The settings a value rule reads (each command's schema has some of them; absent ones never fire). */
export interface ContradictionInput {
  invite?: boolean;
  deferInvites?: boolean;
  passwordStdin?: boolean;
  passwordFile?: string | undefined;
  generatePassword?: boolean;
  again?: boolean;
  email?: unknown;
  failed?: boolean;
  sync?: boolean;
  maxRemovals?: number | undefined;
}

export interface Contradiction {
  /** The setting whose presence makes the rule apply (a flag: always there in the schemas that take it). */
  trigger: keyof ContradictionInput;
  when: (s: ContradictionInput) => boolean;
  message: string;
  hint?: string;
}

/** Settings whose values contradict each other, in the order they are checked (the first found is said). */
export const VALUE_CONTRADICTIONS: readonly Contradiction[] = [
  {
    trigger: 'passwordStdin',
    when: (s) => [s.passwordStdin, s.passwordFile !== undefined, s.generatePassword].filter(Boolean).length > 1,
    message: 'give one of --password-stdin, --password-file and --generate-password',
  },
  {
    trigger: 'deferInvites',
    when: (s) => s.invite === false && s.deferInvites === true,
    message: '--no-invite and --defer-invites contradict each other: give one',
  },
  {
    // A second sending is asked for one person at a time, never for a whole project.
    trigger: 'again',
    when: (s) => s.again === true && s.email === undefined,
    message: "--again sends one person's invitation once more: give --email with it",
    hint: 'jsm-provision invitations send --email <address> --again',
  },
  {
    trigger: 'failed',
    when: (s) => s.email !== undefined && s.failed === true,
    message: '--failed is for the whole project: with --email, a failed invitation is sent without it',
    hint: 'leave out --failed',
  },
  {
    trigger: 'sync',
    when: (s) => s.maxRemovals !== undefined && s.sync !== true,
    message: '--max-removals is for --sync (a run without it removes nobody)',
    hint: 'add --sync, or leave out --max-removals',
  },
];

/** The flag groups of `argv` given together (before `--`): the first such group, or undefined. */
export function contradictoryFlags(argv: readonly string[]): string[] | undefined {
  const given = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg.startsWith('--')) given.add(arg.split('=')[0] as string);
  }
  for (const group of FLAG_CONTRADICTIONS) {
    const both = group.filter((flag) => given.has(flag));
    if (both.length > 1) return both;
  }
  return undefined;
}
