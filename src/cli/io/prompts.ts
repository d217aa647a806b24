import { closeSync, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { Secret } from '../../core/secret.js';
import { MIN_PASSWORD, passwordProblem, validateRow } from '../../core/validate.js';
import { io } from './io.js';

/** A terminal a person can answer in: never in CI, never without a TTY on stdin. */
export function canPrompt(): boolean {
  const ci = io().env.CI;
  return Boolean(io().stdin.isTTY) && Boolean(io().stderr.isTTY) && (ci === undefined || ci === '' || ci === 'false');
}

/**
 * Whether a confirmation can be asked: at a terminal (canPrompt), and also when the rows come
 * through a pipe typed at one (`printf … | jsm-provision import-csv -`): stdin is then the data,
 * but the person is at the terminal that shows stderr, and the answer is read from that terminal
 * (/dev/tty). A script (stderr not a terminal, or CI, or no controlling terminal) is never asked.
 */
export function canConfirm(): boolean {
  if (canPrompt()) return true;
  const ci = io().env.CI;
  if (!io().stderr.isTTY || !(ci === undefined || ci === '' || ci === 'false')) return false;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** The controlling terminal for reading an answer, or null when there is none. */
function openTerminal(): ReadStream | null {
  try {
    return new ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    return null;
  }
}

/** Loaded only when a question is asked: most runs never ask one. */
function inquirer() {
  return import('@inquirer/prompts');
}

// Questions go to stderr so that stdout keeps only the result (and --json stays one object).
const context = (): { output: NodeJS.WritableStream } => ({ output: io().stderr as NodeJS.WritableStream });

export async function askEmail(): Promise<string> {
  const { input } = await inquirer();
  return input(
    {
      message: 'Customer email:',
      validate: (value) => {
        const check = validateRow({ line: 0, email: value, fullName: 'x' });
        return check.ok || check.reason;
      },
    },
    context(),
  );
}

export async function askName(): Promise<string> {
  const { input } = await inquirer();
  return input({ message: 'Full name:', validate: (value) => value.trim() !== '' || 'a full name is needed' }, context());
}

export type PasswordChoice = 'none' | 'type' | 'generate';

export async function askPasswordChoice(): Promise<PasswordChoice> {
  const { select } = await inquirer();
  return select<PasswordChoice>(
    {
      message: 'Password:',
      choices: [
        { name: 'none: the customer sets one through the portal', value: 'none' },
        { name: 'type one (masked; they must change it at first login)', value: 'type' },
        { name: 'generate a strong one (shown once)', value: 'generate' },
      ],
    },
    context(),
  );
}

export async function askPassword(): Promise<Secret> {
  const { password } = await inquirer();
  for (;;) {
    const first = await password(
      {
        message: 'Password:',
        mask: '*',
        validate: (value) => (value !== '' && passwordProblem(value) === undefined) || `${passwordProblem(value) ?? 'no password given'} (at least ${MIN_PASSWORD} characters, no tabs or line breaks)`,
      },
      context(),
    );
    const again = await password({ message: 'Password again:', mask: '*' }, context());
    if (first === again) return new Secret(first);
    io().stderr.write('The two passwords differ; type them again.\n');
  }
}

export async function askConfirm(message: string): Promise<boolean> {
  const { confirm } = await inquirer();
  // stdin holds the rows when they are piped in: the answer comes from the terminal itself.
  const terminal = io().stdin.isTTY ? null : openTerminal();
  try {
    return await confirm({ message, default: false }, terminal ? { ...context(), input: terminal } : context());
  } finally {
    terminal?.destroy();
  }
}
