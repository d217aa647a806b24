/**
 * REST target throughput against the JSM double: a per-user token bucket (300 req/s, capacity 300)
 * and 20 ms latency on every answer, the REST target in process (no CLI start-up, no mail).
 * Every row is looked up by email before it is created (directories: usernames are not emails), so
 * a new row costs two requests (look up, create) plus its share of a membership call.
 * Figures: requests per second against the limit (chunks of 500, as import-csv does; the second
 * half of the run, when the bucket's first fill is spent), requests per new row, 429s, and a
 * one-row-at-a-time loop (what a script calling add-customer per person gets, less start-up).
 *
 *   tsc -p tsconfig.bench.json && node .bench-build/bench/rest.js [--rows 9000] [--rate 300] [--latency 20] [--concurrency 8]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProvisionRequest } from '../src/core/target.js';
import { runImport } from '../src/core/run.js';
import type { CandidateRow } from '../src/core/types.js';
import { openRestTarget } from '../src/targets/rest/index.js';
import { requestsPer, startJsmDouble } from '../test/support/jsm-double.js';
import { fmt, type Figure } from './harness.js';

export interface RestBenchOptions {
  rows?: number;
  single?: number;
  rate?: number;
  latencyMs?: number;
  concurrency?: number;
}

interface RunFigures {
  seconds: number;
  created: number;
  calls: number;
  throttled: number;
  memberships: number;
  /** Rows per second over the second half of the run. */
  sustained: number;
  /** Requests per second over the second half of the run. */
  sustainedRequests: number;
}

const rowsOf = (n: number, prefix: string): ProvisionRequest[] =>
  Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, key: `${prefix}${i}@example.com`, fullName: `Customer ${i}`, exists: null }));

async function run(n: number, chunk: number, o: Required<RestBenchOptions>): Promise<RunFigures> {
  const double = await startJsmDouble({ latencyMs: o.latencyMs, rateLimit: { capacity: o.rate, refillPerSecond: o.rate } });
  const state = await mkdtemp(join(tmpdir(), 'jsm-bench-rest-'));
  const target = await openRestTarget(double.url, { env: { JSM_TOKEN: 'test-token', JSM_STATE_DIR: state }, concurrency: o.concurrency });
  try {
    const started = performance.now();
    const project = await target.getProject('ITH');
    const all = rowsOf(n, chunk === 1 ? 'one' : 'bulk');
    let created = 0;
    for (let i = 0; i < all.length; i += chunk) {
      const outcomes = await target.provision(project, all.slice(i, i + chunk));
      created += outcomes.filter((x) => x.status === 'created').length;
    }
    const seconds = (performance.now() - started) / 1000;
    const calls = double.calls.length;
    const times = double.calls.map((c) => c.time);
    const mid = Math.floor(times.length / 2);
    const span = ((times[times.length - 1] ?? 0) - (times[mid] ?? 0)) / 1000;
    return {
      seconds,
      created,
      calls,
      throttled: double.calls.filter((c) => c.status === 429).length,
      memberships: requestsPer(double, `POST /rest/servicedeskapi/servicedesk/${project.deskId}/customer`),
      sustained: span > 0 ? (times.length - 1 - mid) / span / (calls / n) : Number.NaN,
      sustainedRequests: span > 0 ? (times.length - 1 - mid) / span : Number.NaN,
    };
  } finally {
    await target.close();
    await double.close();
    await rm(state, { recursive: true, force: true });
  }
}

/**
 * Requests of `n` new rows through the whole pipeline (plan, provision, organizations), with each
 * row in one of `orgs` organizations (none when 0), against a fresh double: what organizations add.
 */
async function organizationRun(n: number, orgs: number, o: Required<RestBenchOptions>): Promise<{ calls: number; created: number; memberships: number }> {
  const double = await startJsmDouble({ latencyMs: o.latencyMs, rateLimit: { capacity: o.rate, refillPerSecond: o.rate }, desks: 3 });
  const state = await mkdtemp(join(tmpdir(), 'jsm-bench-orgs-'));
  const target = await openRestTarget(double.url, { env: { JSM_TOKEN: 'test-token', JSM_STATE_DIR: state }, concurrency: o.concurrency });
  try {
    const project = await target.getProject('ITH');
    const before = double.calls.length;
    async function* rows(): AsyncIterable<CandidateRow> {
      for (let i = 0; i < n; i++) {
        yield { line: i + 2, email: `org${i}@example.com`, fullName: `Customer ${i}`, ...(orgs > 0 ? { organizations: [`Company ${i % orgs}`] } : {}) };
      }
    }
    const quiet = { info: () => undefined, warn: () => undefined, reading: () => undefined, progress: () => undefined, sending: () => undefined };
    const outcome = await runImport(rows(), { command: 'import-csv', project, kind: 'welcome', invitations: 'none', dryRun: false }, {
      target, mailer: () => Promise.reject(new Error('no mail in this bench')), outbox: null, messageId: () => 'x@example', reporter: quiet, runId: `bench-${Date.now()}`,
    });
    return { calls: double.calls.length - before, created: outcome.summary.totals.created, memberships: outcome.summary.organizations.memberships };
  } finally {
    await target.close();
    await double.close();
    await rm(state, { recursive: true, force: true });
  }
}

export async function restBench(options: RestBenchOptions = {}): Promise<Figure[]> {
  const o: Required<RestBenchOptions> = { rows: 3000, single: 50, rate: 300, latencyMs: 20, concurrency: 8, ...options };
  const bulk = await run(o.rows, 500, o);
  const single = await run(o.single, 1, o);
  const orgRows = 300;
  const plain = await organizationRun(orgRows, 0, o);
  const withOrgs = await organizationRun(orgRows, 3, o);
  const extraPerRow = (withOrgs.calls - plain.calls) / orgRows;
  const wanted = 0.9 * o.rate;
  const overall = bulk.created / bulk.seconds;
  const requestRate = bulk.calls / bulk.seconds;
  const perRow = bulk.calls / o.rows;
  const singleRate = single.created / single.seconds;
  const where = `${o.rate} req/s bucket, ${o.latencyMs} ms latency`;
  return [
    {
      bench: `REST: ${o.rows.toLocaleString('en-US')} new customers (${where})`,
      figure: `${fmt(requestRate, 1)} requests/s, ${fmt(overall, 1)} rows/s (${bulk.created}/${o.rows} created; second half ${fmt(bulk.sustainedRequests, 1)} requests/s)`,
      yardstick: `the limit: 0.9 × ${o.rate} = ${fmt(wanted, 0)} requests/s`,
      ratio: requestRate / o.rate,
      target: '≥ 0.9 × the limit',
      ok: requestRate >= wanted && bulk.created === o.rows,
      data: { ...bulk, rowsPerSecond: overall, requestsPerSecond: requestRate },
    },
    {
      bench: 'REST: bulk against a one-row-at-a-time loop',
      figure: `${fmt(overall, 1)} rows/s`,
      yardstick: `look-up-create-add loop ${fmt(singleRate, 1)} rows/s (${fmt(single.calls / Math.max(1, single.created), 2)} requests/row)`,
      ratio: overall / singleRate,
      target: '≥ 10×',
      ok: overall / singleRate >= 10,
      data: { loopRowsPerSecond: singleRate },
    },
    {
      bench: 'REST: requests per new row',
      figure: `${fmt(perRow, 3)} (${bulk.memberships} membership calls; ${bulk.throttled} answered 429)`,
      yardstick: '1 look-up + 1 create per row',
      ratio: perRow,
      target: '≤ 2.1',
      ok: perRow <= 2.1,
      data: { perRow, memberships: bulk.memberships, throttled: bulk.throttled },
    },
    {
      bench: `REST: requests per row with organizations (${orgRows} new rows in 3 organizations)`,
      figure: `${fmt(withOrgs.calls / orgRows, 3)} requests/row (${withOrgs.calls} requests, ${withOrgs.memberships} memberships; +${fmt(extraPerRow, 3)} per row)`,
      yardstick: `the same rows without organizations: ${fmt(plain.calls / orgRows, 3)} requests/row (${plain.calls} requests)`,
      ratio: extraPerRow,
      target: '≤ +0.15 requests/row',
      ok: extraPerRow <= 0.15 && withOrgs.created === orgRows && withOrgs.memberships === orgRows,
      data: { withOrganizations: withOrgs.calls, without: plain.calls, extraPerRow },
    },
  ];
}
