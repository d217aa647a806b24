/** Shared set-up of the REST target tests: a JSM double, a temp state folder, the target on it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ProvisionRequest } from '../../src/core/target.js';
import { Secret } from '../../src/core/secret.js';
import { openRestTarget, type RestTarget, type RestTargetOptions } from '../../src/targets/rest/index.js';
import { mulberry32, startJsmDouble, type JsmDouble, type JsmDoubleOptions } from '../support/jsm-double.js';

export const TOKEN_ENV = { JSM_TOKEN: 'test-token' };

/** Doubles, targets and folders made in a test, closed and removed after it. */
export function useRest(): {
  double: (options?: JsmDoubleOptions) => Promise<JsmDouble>;
  target: (double: JsmDouble, options?: Partial<RestTargetOptions>) => Promise<RestTarget>;
} {
  const doubles: JsmDouble[] = [];
  const targets: RestTarget[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(targets.splice(0).map((t) => t.close().catch(() => undefined)));
    await Promise.all(doubles.splice(0).map((d) => d.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    async double(options = {}) {
      const d = await startJsmDouble(options);
      doubles.push(d);
      return d;
    },
    async target(double, options = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'jsm-rest-'));
      dirs.push(dir);
      const t = await openRestTarget(double.url, {
        backoffMs: 5,
        random: mulberry32(7),
        ...options,
        // Variables given are added to the token and the state folder (JSM_TOKEN: '' means none).
        env: { ...TOKEN_ENV, JSM_STATE_DIR: dir, ...options.env },
      });
      targets.push(t);
      return t;
    },
  };
}

/** Rows to provision: `n` new customers, with a password when asked. */
export function rows(n: number, prefix = 'c', password?: string): ProvisionRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    email: `${prefix}${i}@example.com`,
    key: `${prefix}${i}@example.com`,
    fullName: `Customer ${i}`,
    exists: null,
    ...(password ? { password: new Secret(password) } : {}),
  }));
}
