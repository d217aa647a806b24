import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Forks, not threads: the suite spawns and signals real processes, changes process.env in
    // places and reads JSM_PROVISION_TEST_HOOKS at import; each file gets a process of its own.
    pool: 'forks',
    // Two workers on a 2-core machine (vitest's default there is one): most of the suite's time is
    // spent waiting on the CLI processes it spawns, the SMTP sink and the JSM double, not in the worker.
    maxWorkers: 2,
    // Long files first (vitest sorts by the durations it cached on the last run), so that the two
    // workers end together rather than one waiting on the slowest file at the end.
    sequence: { shuffle: false },
    // A hung test fails, naming itself, after 60 s; the slowest test takes about 10 s on a busy
    // 2-core machine. Hooks start servers and write stores: 30 s.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    slowTestThreshold: 5_000,
  },
});
