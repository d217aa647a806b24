import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that start processes (signals, kill -9, ptys, namespaces, racing processes) take the
 * longest; most others run commands in process in milliseconds. The slow ones
 * start first, longest first by the durations vitest cached on the last run (by size on a fresh
 * clone), so that the workers end together instead of one waiting on a slow file at the end.
 */
class SpawningFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const weight = (f: TestSpecification): number => {
      const key = `${f.project.name}:${relative(config.root, f.moduleId)}`;
      const known = cache.getFileTestResults(key)?.duration ?? cache.getFileStats(key)?.size ?? 0;
      return (/[\\/]test[\\/](e2e|faults|progress|contract)[\\/]|[\\/]test[\\/]store[\\/]store\.test/.test(f.moduleId) ? 1e9 : 0) + known;
    };
    return [...files].sort((a, b) => weight(b) - weight(a));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Commands run in process against src/; the few files that start the CLI as a process run
    // dist/, built here once when src/ is newer (test/support/build-once.ts).
    globalSetup: ['test/support/build-once.ts'],
    setupFiles: ['test/support/spawn-count.ts'],
    // Forks, not threads: some files spawn, stop and signal real processes, and each file gets a
    // process of its own (threads measured a little faster, but share one process's signals).
    // Threads for the files that start no process alone (vitest projects) gained nothing sure:
    // those 107 files took 35.5 s of CPU in threads and 36.5 s in forks, 5 runs each, interleaved,
    // on a shared 2-core machine (runs spread over 4 s either way).
    pool: 'forks',
    // One more worker than cores (vitest's default is one fewer: a single worker on 2 cores): the
    // files that start processes spend much of their time waiting on them (and on the SMTP sink and
    // the JSM double), not in the worker. Measured on 2 cores under load, when every file spawned the
    // CLI: 1 worker 53 s, 2 workers 35 s, 3 workers 27 s for the same files.
    maxWorkers: Math.max(2, availableParallelism() + 1),
    // Files share a worker's module cache: measured on the in-process files (core, csv, mail,
    // mailbox, rest, store), 19.4 s -> 13.2 s of CPU. Every file closes what it opens (servers,
    // stores, fake timers, spies) in its own hooks.
    isolate: false,
    sequence: { sequencer: SpawningFirst },
    // A hung test fails, naming itself, after 60 s (the slowest test takes about 10 s on a busy
    // 2-core machine); hooks start servers and write stores.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    slowTestThreshold: 5_000,
  },
});
