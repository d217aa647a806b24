import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

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

/** Starts the built CLI as a user's shell would, with no terminal: pipes for stdin, stdout and stderr. */
export function startCli(args: string[], options: CliOptions): { child: ChildProcessWithoutNullStreams; done: Promise<CliResult> } {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  for (const name of INHERITED_OUT) delete env[name];
  Object.assign(env, options.env ?? {});
  // JSM_TEST_SPAWN_LOG=<file>: one line per CLI start (the test file and its args), to count spawns.
  const log = process.env.JSM_TEST_SPAWN_LOG;
  if (log) appendFileSync(log, `${expect.getState().testPath ?? '?'}\t${args.slice(0, 2).join(' ')}\n`);
  const [command, ...before] = [...(options.wrap ?? []), process.execPath, BIN, ...args] as [string, ...string[]];
  const child = spawn(command, before, { cwd: options.cwd, env: env as NodeJS.ProcessEnv, stdio: 'pipe' });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        code: code ?? (signal === 'SIGKILL' ? 137 : null),
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not one JSON object:\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      });
    });
  });
  return { child, done };
}

/** Runs the built CLI to its end. */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}
