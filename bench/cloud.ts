/**
 * Cloud target throughput against the Cloud double: one burst limit for the account (`perSecond`
 * requests a second, the bucket as deep), 20 ms latency on every answer, the whole pipeline in
 * process (plan, provision, organizations; no mail, no CLI start-up). The create is the look-up:
 * a new row costs one request plus its share of a membership call (50 accountIds a call).
 * Figures: requests per second against the limit (429s waited out by Retry-After), requests per
 * new row (everything counted: pages, the setting, organizations).
 *
 *   tsc -p tsconfig.bench.json && node .bench-build/bench/cloud.js [--rows 3000] [--rate 100] [--latency 20] [--concurrency 8]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { runImport } from '../src/core/run.js';
import type { CandidateRow } from '../src/core/types.js';
import { openCloudTarget } from '../src/targets/cloud/index.js';
import { checkBaseUrl } from '../src/targets/http/deployment.js';
import { startJsmCloudDouble } from '../test/support/jsm-cloud-double/server.js';
import { fmt, type Figure } from './harness.js';

export interface CloudBenchOptions {
  rows?: number;
  rate?: number;
  latencyMs?: number;
  concurrency?: number;
}

export async function cloudBench(options: CloudBenchOptions = {}): Promise<Figure[]> {
  const o: Required<CloudBenchOptions> = { rows: 3000, rate: 100, latencyMs: 20, concurrency: 8, ...options };
  const double = await startJsmCloudDouble({ latencyMs: o.latencyMs, rateLimit: { perSecond: o.rate, scope: 'account' }, desks: 3 });
  const state = await mkdtemp(join(tmpdir(), 'jsm-bench-cloud-'));
  const target = await openCloudTarget(checkBaseUrl(double.url), { env: { JSM_USER: 'admin@example.com', JSM_TOKEN: 'cloud-api-token', JSM_STATE_DIR: state }, concurrency: o.concurrency });
  try {
    const started = performance.now();
    const project = await target.getProject('ITH');
    async function* rows(): AsyncIterable<CandidateRow> {
      for (let i = 0; i < o.rows; i++) yield { line: i + 2, email: `cloud${i}@example.com`, fullName: `Customer ${i}`, organizations: [`Company ${i % 3}`] };
    }
    const quiet = { info: () => undefined, warn: () => undefined, reading: () => undefined, progress: () => undefined, sending: () => undefined };
    const outcome = await runImport(rows(), { command: 'import-csv', project, kind: 'welcome', invitations: 'none', dryRun: false }, {
      target, mailer: () => Promise.reject(new Error('no mail in this bench')), outbox: null, messageId: () => 'x@example', reporter: quiet, runId: `bench-${Date.now()}`,
    });
    const seconds = (performance.now() - started) / 1000;
    const calls = double.calls.length;
    const answered = double.calls.filter((c) => c.status !== 429).length;
    const throttled = calls - answered;
    const created = outcome.summary.totals.created;
    const requestRate = answered / seconds;
    const perRow = calls / Math.max(1, created);
    const where = `${o.rate} req/s burst limit, ${o.latencyMs} ms latency`;
    return [
      {
        bench: `Cloud: ${o.rows.toLocaleString('en-US')} new customers in 3 organizations (${where})`,
        figure: `${fmt(requestRate, 1)} requests/s answered, ${fmt(created / seconds, 1)} rows/s (${created}/${o.rows} created; ${throttled} answered 429)`,
        yardstick: `the limit: 0.85 × ${o.rate} = ${fmt(0.85 * o.rate, 0)} requests/s`,
        ratio: requestRate / o.rate,
        target: '≥ 0.85 × the limit',
        ok: requestRate >= 0.85 * o.rate && created === o.rows,
        data: { seconds, calls, answered, throttled, created, requestRate },
      },
      {
        bench: 'Cloud: requests per new row',
        figure: `${fmt(perRow, 3)} (${calls} requests for ${created} new rows, 429s included)`,
        yardstick: '1 create per row + its share of the batched adds',
        ratio: perRow,
        target: '≤ 1.15',
        ok: perRow <= 1.15,
        data: { perRow },
      },
    ];
  } finally {
    await target.close();
    await double.close();
    await rm(state, { recursive: true, force: true });
  }
}

// Run alone: node .bench-build/bench/cloud.js --rows 600
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, rate: { type: 'string' }, latency: { type: 'string' }, concurrency: { type: 'string' } } });
  const figures = await cloudBench({
    ...(values.rows ? { rows: Number(values.rows) } : {}),
    ...(values.rate ? { rate: Number(values.rate) } : {}),
    ...(values.latency ? { latencyMs: Number(values.latency) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
  });
  for (const f of figures) process.stdout.write(`${f.bench}: ${f.figure} [${f.target}: ${f.ok ? 'met' : 'NOT MET'}]\n`);
}
