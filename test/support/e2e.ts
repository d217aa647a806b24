import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { LocalTarget } from '../../src/targets/local/target.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { useTempDirs } from './tmp.js';

export interface SinkHandle {
  /** The SMTP server on loopback: started once per file, emptied and fault-free before each test. */
  readonly sink: SmtpSink;
  /** `--smtp <sink> --mail-from help@example.com` */
  mail(): string[];
}

export function useSmtpSink(): SinkHandle {
  let sink: SmtpSink | null = null;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink?.close();
  });
  beforeEach(() => {
    if (!sink) return;
    sink.messages.length = 0;
    sink.mailFrom.length = 0;
    sink.setFaults({ refuse: null, dropAfterData: false, acceptDelayMs: 0, dropOnMailFrom: 0 });
  });
  return {
    get sink(): SmtpSink {
      if (!sink) throw new Error('the SMTP sink is not started yet');
      return sink;
    },
    mail: () => ['--smtp', sink?.url ?? '', '--mail-from', 'help@example.com'],
  };
}

/**
 * dir/jsm-store.json with the project ITH ("IT Help"), made in process: the store `project create`
 * writes (test/e2e/foundation.cases.ts spawns `project create` itself for that contract).
 */
export async function createProjectStore(dir: string, name = 'jsm-store.json'): Promise<string> {
  const path = join(dir, name);
  const target = await LocalTarget.open(path);
  await target.createProject('ITH', 'IT Help');
  await target.close();
  return path;
}

/** A fresh folder per test holding a local store with the project ITH ("IT Help"). */
export function useProjectDir(prepare?: (dir: string) => Promise<void>): () => string {
  const tempDir = useTempDirs();
  let dir = '';
  beforeEach(async () => {
    dir = await tempDir();
    await prepare?.(dir);
    await createProjectStore(dir);
  });
  return () => dir;
}
