import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { Interrupts, type CliIo, type OutStream } from '../../src/cli/io/io.js';
import { main } from '../../src/cli/program/main.js';

export const BIN = fileURLToPath(new URL('../../bin/jsm-provision.js', import.meta.url));

export interface CliResult {
  /** The exit code; 137 when killed by SIGKILL. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  timeoutMs?: number;
  /** A command the CLI runs under, e.g. `['unshare', '--pid', '--fork', '--mount-proc', '--kill-child']`. */
  wrap?: string[];
}

/** The user's variables that would point a run at a real target or SMTP server are never inherited. */
const INHERITED_OUT = ['JSM_TARGET', 'JSM_PROJECT', 'JSM_TOKEN', 'JSM_TOKEN_FILE', 'JSM_USER', 'JSM_PASSWORD', 'JSM_PASSWORD_FILE', 'JSM_CONFIG', 'JSM_PROFILE', 'JSM_SMTP_URL', 'JSM_SMTP_PASSWORD', 'JSM_SMTP_PASSWORD_FILE', 'JSM_SMTP_NAME', 'JSM_MAIL_FROM', 'JSM_OUTBOX', 'JSM_STATE_DIR', 'JSM_TEMPLATE_DIR', 'JSM_PORTAL_URL', 'FORCE_COLOR',
  'http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY', 'JSM_MATCH_ACCOUNTS'];

/** The environment a run gets: this one's, with NO_COLOR, without the user's JSM settings, with `extra`. */
function envFor(extra: CliOptions['env']): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  for (const name of INHERITED_OUT) delete env[name];
  Object.assign(env, extra ?? {});
  // A variable given as undefined is not set (as in a spawned process's environment).
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  return env;
}

/**
 * Starts the built CLI (dist/, built by the suite's global setup) as a user's shell would, with no
 * terminal: pipes for stdin, stdout and stderr. Only for what only a process shows: signals, kill -9,
 * ptys, pid namespaces, processes racing for the lock, bin/ itself.
 */
export function spawnCli(args: string[], options: CliOptions): { child: ChildProcessWithoutNullStreams; done: Promise<CliResult> } {
  const env = envFor(options.env);
  // JSM_TEST_SPAWN_LOG=<file>: one line per CLI start (the test file and its args), to count spawns.
  const log = process.env.JSM_TEST_SPAWN_LOG;
  if (log) appendFileSync(log, `${expect.getState().testPath ?? '?'}\t${args.slice(0, 2).join(' ')}\n`);
  const [command, ...before] = [...(options.wrap ?? []), process.execPath, BIN, ...args] as [string, ...string[]];
  const child = spawn(command, before, { cwd: options.cwd, env: env as NodeJS.ProcessEnv, stdio: 'pipe' });
  return { child, done: collect(child, options.input, options.timeoutMs) };
}

/** @deprecated the same as spawnCli: the name says that a process is started. */
export const startCli = spawnCli;

function collect(child: ChildProcessWithoutNullStreams, input: CliOptions['input'], timeoutMs: number | undefined): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => undefined);
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs ?? 50_000);
  return new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve(result(code ?? (signal === 'SIGKILL' ? 137 : null), stdout, stderr));
    });
  });
}

function result(code: number | null, stdout: string, stderr: string): CliResult {
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(`stdout is not one JSON object:\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

/** A pipe's end the CLI writes into (not a terminal), holding what was written. */
export class Collected implements OutStream {
  readonly isTTY = false;
  readonly chunks: Buffer[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return true;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface InProcessRun {
  /** Interrupts the run as SIGINT would (the first: it winds down; the next: it stops at once). */
  interrupt(signal?: string): void;
  stdout: Collected;
  stderr: Collected;
  done: Promise<CliResult>;
}

/** Starts a command in this process (src/, no build): its own io, so runs never share streams, variables or folder. */
export function startInProcess(args: string[], options: CliOptions): InProcessRun {
  if (options.wrap !== undefined) throw new Error('a wrapped run (unshare, …) needs a process: use spawnCli');
  const stdout = new Collected();
  const stderr = new Collected();
  const interrupts = new Interrupts();
  const input = options.input ?? '';
  const io: CliIo = {
    stdin: Object.assign(Readable.from([typeof input === 'string' ? Buffer.from(input) : input]), { isTTY: false }),
    stdout,
    stderr,
    env: envFor(options.env),
    cwd: options.cwd,
    now: () => Date.now(),
    interrupts,
  };
  const timeoutMs = options.timeoutMs ?? 50_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`jsm-provision ${args.join(' ')} did not end within ${timeoutMs} ms\nstdout:\n${stdout.text()}\nstderr:\n${stderr.text()}`)), timeoutMs);
  });
  const done = Promise.race([main(args, io), timedOut])
    .then((code) => result(code, stdout.text(), stderr.text()))
    .finally(() => clearTimeout(timer));
  return { interrupt: (signal = 'SIGINT') => void interrupts.deliver(signal, stderr), stdout, stderr, done };
}

/** Runs a command to its end, in this process (src/, no build). */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  const log = process.env.JSM_TEST_SPAWN_LOG;
  if (options.wrap !== undefined) return spawnCli(args, options).done;
  if (log) appendFileSync(log.replace(/$/, '.inproc'), `${expect.getState().testPath ?? '?'}\t${args.slice(0, 2).join(' ')}\n`);
  return startInProcess(args, options).done;
}

/** Runs the built CLI to its end, in a process of its own. */
export function runSpawned(args: string[], options: CliOptions): Promise<CliResult> {
  return spawnCli(args, options).done;
}
