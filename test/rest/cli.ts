/** Set-up of the REST end-to-end tests: a JSM double and a temp folder per test, the built CLI pointed at them. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { startJsmDouble, type JsmDouble, type JsmDoubleOptions } from '../support/jsm-double.js';
import { useTempDirs } from '../support/tmp.js';

export interface RestRun {
  jsm: JsmDouble;
  /** The working folder; the ledger goes to its `state/` (JSM_STATE_DIR). */
  dir: string;
  /** Runs the CLI with JSM_TARGET and JSM_TOKEN set; `env` adds or overrides (undefined removes). */
  cli(args: string[], options?: { env?: Record<string, string | undefined>; input?: string }): Promise<CliResult>;
  /** The ledger files in the state folder. */
  ledgerFiles(): Promise<string[]>;
}

/**
 * `env` is given to every run of this file (a test setting such as
 * `JSM_PROVISION_TEST_HOOKS: 'backoff-ms=5'`, as the in-process target tests pass `backoffMs: 5`);
 * a run's own `env` still overrides it.
 */
export function useRestCli(defaults: { env?: Record<string, string | undefined> } = {}): (options?: JsmDoubleOptions) => Promise<RestRun> {
  const tempDir = useTempDirs();
  const doubles: JsmDouble[] = [];
  afterEach(async () => {
    await Promise.all(doubles.splice(0).map((d) => d.close()));
  });
  return async (options = {}) => {
    const jsm = await startJsmDouble(options);
    doubles.push(jsm);
    const dir = await tempDir();
    const state = join(dir, 'state');
    return {
      jsm,
      dir,
      cli: (args, opts = {}) =>
        runCli(args, {
          cwd: dir,
          env: { JSM_TARGET: jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: state, ...defaults.env, ...opts.env },
          ...(opts.input !== undefined ? { input: opts.input } : {}),
        }),
      ledgerFiles: async () => (await readdir(state).catch(() => [])).filter((f) => f.endsWith('.ledger.json')),
    };
  };
}

/** A CSV of `n` customers `<prefix><i>@example.com`; with `passwordEvery`, every so many rows carry a password. */
export function csv(n: number, prefix = 'c', passwordEvery = 0): string {
  const line = (i: number) => `${prefix}${i}@example.com,Customer ${i},${passwordEvery > 0 && i % passwordEvery === 0 ? `Pw-${i}-secret` : ''}`;
  return ['email,full name,password', ...Array.from({ length: n }, (_, i) => line(i))].join('\n') + '\n';
}
