import { join } from 'node:path';
import { startSmtpSink } from '../test/support/smtp-sink.js';
import { mkdir } from 'node:fs/promises';
import { expectCode, fmt, loadAverage, measureCli, measureNode, median, memoryFigure, scratch, spread, type Figure, type Measured } from './harness.js';
import { writeCustomersCsv } from './inputs.js';

const HERE = new URL('.', import.meta.url).pathname;
/** Rounds of interleaved runs (A B C A B C …): every local figure is the median of these. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

async function newProject(dir: string): Promise<void> {
  expectCode(await measureCli(['project', 'create', 'ITH', '--name', 'IT Help'], dir), [0], 'project create');
}

const secondsOf = (runs: Measured[]): number[] => runs.map((r) => r.seconds);
const rssOf = (runs: Measured[]): number[] => runs.map((r) => r.maxRssMb);
const cpuOf = (runs: Measured[]): number[] => runs.map((r) => r.cpuSeconds);

/**
 * 100,000 rows into a fresh store, against bare csv-parse on the same file (both ordinary ways of
 * streaming it, `.on('data')` and `for await`; the faster median is the yardstick); then 100,000
 * more into that store of 100,000. ROUNDS rounds, each running every side once in turn, so a busy
 * neighbour slows all sides alike; figures are medians, with the spread (min–max) beside them.
 */
export async function localImport(rows = 100_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('local');
  try {
    await writeCustomersCsv(join(dir, 'first.csv'), rows, { prefix: 'first' });
    await writeCustomersCsv(join(dir, 'second.csv'), rows, { prefix: 'second' });
    const runs: Record<'data' | 'await' | 'first' | 'second', Measured[]> = { data: [], await: [], first: [], second: [] };
    const loads: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      loads.push(Number(loadAverage()));
      const store = join(dir, `store-${i}`);
      await mkdir(store);
      await newProject(store);
      // The two yardstick variants swap places every round.
      for (const mode of i % 2 ? (['await', 'data'] as const) : (['data', 'await'] as const)) {
        const bare = await measureNode(join(HERE, 'bare-csv.js'), [join(dir, 'first.csv'), mode], { cwd: dir });
        expectCode(bare, [0], `bare csv-parse (${mode})`);
        runs[mode].push(bare);
      }
      const first = await measureCli(['import-csv', '../first.csv', '--project', 'ITH', '--no-invite', '--json'], store);
      expectCode(first, [0], 'first import');
      runs.first.push(first);
      const second = await measureCli(['import-csv', '../second.csv', '--project', 'ITH', '--no-invite', '--json'], store);
      expectCode(second, [0], 'second import');
      runs.second.push(second);
    }
    const dataMedian = median(secondsOf(runs.data));
    const awaitMedian = median(secondsOf(runs.await));
    const yardMode = dataMedian <= awaitMedian ? 'data' : 'await';
    const yard = Math.min(dataMedian, awaitMedian);
    const yardLabel = yardMode === 'data' ? ".on('data')" : 'for await';
    const otherLabel = yardMode === 'data' ? 'for await' : ".on('data')";
    const first = median(secondsOf(runs.first));
    const second = median(secondsOf(runs.second));
    const secondRss = median(rssOf(runs.second));
    const ratio = first / yard;
    // CPU seconds, beside wall time: what each process used itself, whatever its neighbours did.
    const cpuFirst = median(cpuOf(runs.first));
    const cpuSecond = median(cpuOf(runs.second));
    const cpuYard = median(cpuOf(runs[yardMode]));
    const growth = second / first;
    const n = rows.toLocaleString('en-US');
    const load = `load ${spread(loads)}`;
    return [
      {
        bench: `local: ${n} rows, fresh store (median of ${ROUNDS}, interleaved; ${load})`,
        figure: `${fmt(first)} s (${spread(secondsOf(runs.first))}), ${Math.round(rows / first).toLocaleString('en-US')} rows/s, peak RSS ${Math.round(median(rssOf(runs.first)))} MB; CPU ${fmt(cpuFirst)} s (${fmt(cpuFirst / cpuYard)}×)`,
        yardstick: `bare csv-parse ${yardLabel} ${fmt(yard)} s (${spread(secondsOf(runs[yardMode]))}), CPU ${fmt(cpuYard)} s; ${otherLabel} ${fmt(Math.max(dataMedian, awaitMedian))} s`,
        ratio,
        target: '≤ 3× csv-parse',
        ok: ratio <= 3,
        data: { seconds: first, cpuSeconds: cpuFirst, bareCpuSeconds: cpuYard, rowsPerSecond: rows / first, peakRssMb: median(rssOf(runs.first)), bareSeconds: yard, bareDataSeconds: dataMedian, bareAwaitSeconds: awaitMedian, rounds: ROUNDS },
      },
      {
        bench: `local: ${n} rows into a store of ${n} (median of ${ROUNDS})`,
        figure: `${fmt(second)} s (${spread(secondsOf(runs.second))}); CPU ${fmt(cpuSecond)} s (${fmt(cpuSecond / cpuFirst)}×)`,
        yardstick: `the fresh import ${fmt(first)} s, CPU ${fmt(cpuFirst)} s`,
        ratio: growth,
        target: '≤ 1.3× the fresh import',
        ok: growth <= 1.3,
        data: { seconds: second, firstSeconds: first, cpuSeconds: cpuSecond, rounds: ROUNDS },
      },
      {
        bench: `local: peak RSS, ${n} rows into a store of ${n} (median of ${ROUNDS})`,
        figure: `${Math.round(secondRss)} MB (${spread(rssOf(runs.second), 0)})`,
        yardstick: '—',
        ratio: null,
        target: '≤ 300 MB',
        ok: secondRss <= 300,
        data: { peakRssMb: secondRss },
      },
    ];
  } finally {
    await remove();
  }
}

/** `jsm-provision --version` against `node -e 0`: what every command pays before it starts. */
export async function startup(rounds = Math.max(10, ROUNDS * 2)): Promise<Figure[]> {
  const { dir, remove } = await scratch('startup');
  try {
    const cli: number[] = [];
    const bare: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < rounds; i++) {
      loads.push(Number(loadAverage()));
      for (const side of i % 2 ? (['cli', 'bare'] as const) : (['bare', 'cli'] as const)) {
        if (side === 'cli') {
          const run = await measureCli(['--version'], dir);
          expectCode(run, [0], '--version');
          cli.push(run.seconds);
        } else {
          const run = await measureNode('-e', ['0'], { cwd: dir });
          expectCode(run, [0], 'node -e 0');
          bare.push(run.seconds);
        }
      }
    }
    const ours = median(cli);
    const theirs = median(bare);
    return [
      {
        bench: `start-up: --version (median of ${rounds}, interleaved; load ${spread(loads)})`,
        figure: `${fmt(ours, 3)} s (${spread(cli, 3)})`,
        yardstick: `node -e 0 ${fmt(theirs, 3)} s (${spread(bare, 3)})`,
        ratio: ours / theirs,
        target: '≤ 2× node -e 0',
        ok: ours / theirs <= 2,
        data: { seconds: ours, bareSeconds: theirs, rounds },
      },
    ];
  } finally {
    await remove();
  }
}

/** 2,000 rows with passwords against 2,000 bare {PKCS5S2} hashes on all cores. */
export async function hashing(rows = 2_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('hash');
  try {
    await writeCustomersCsv(join(dir, 'pw.csv'), rows, { passwords: true });
    await newProject(dir);
    const bare = await measureNode(join(HERE, 'bare-hash.js'), [String(rows)], { cwd: dir });
    expectCode(bare, [0], 'bare hashing');
    const run = await measureCli(['import-csv', 'pw.csv', '--project', 'ITH', '--no-invite', '--json'], dir);
    expectCode(run, [0], 'import with passwords');
    const ratio = run.seconds / bare.seconds;
    return [
      {
        bench: `hashing: ${rows.toLocaleString('en-US')} rows with passwords`,
        figure: `${fmt(run.seconds)} s`,
        yardstick: `${rows.toLocaleString('en-US')} bare hashes ${fmt(bare.seconds)} s`,
        ratio,
        target: '≤ 1.2×',
        ok: ratio <= 1.2,
        data: { seconds: run.seconds, bareSeconds: bare.seconds },
      },
    ];
  } finally {
    await remove();
  }
}

/**
 * 2,000 new customers with invitations to an SMTP server on loopback, against a bare nodemailer
 * pool: three interleaved rounds (the two sides swap places each round; each import into a new
 * store), medians with their spread, as the local figures are.
 */
export async function invitations(rows = 2_000, rounds = 3): Promise<Figure[]> {
  const { dir, remove } = await scratch('mail');
  const sink = await startSmtpSink();
  try {
    await writeCustomersCsv(join(dir, 'new.csv'), rows);
    const ours: number[] = [];
    const theirs: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const side of i % 2 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const)) {
        sink.messages.length = 0;
        if (side === 'bare') {
          const bare = await measureNode(join(HERE, 'bare-mail.js'), [sink.url, String(rows)], { cwd: dir });
          expectCode(bare, [0], 'bare nodemailer');
          theirs.push(rows / span(sink.accepted().map((m) => m.at)));
        } else {
          const store = join(dir, `store-${i}`);
          await mkdir(store);
          await newProject(store);
          const run = await measureCli(['import-csv', '../new.csv', '--project', 'ITH', '--json', '--smtp', sink.url, '--mail-from', 'help@example.com'], store);
          expectCode(run, [0], 'import with invitations');
          const received = sink.accepted();
          if (received.length !== rows) throw new Error(`expected ${rows} invitations, the server accepted ${received.length}`);
          ours.push(rows / span(received.map((m) => m.at)));
          whole.push(run.seconds);
        }
      }
    }
    const perSecond = median(ours);
    const barePerSecond = median(theirs);
    const ratio = perSecond / barePerSecond;
    return [
      {
        bench: `invitations: ${rows.toLocaleString('en-US')} by SMTP (loopback; median of ${rounds}, interleaved)`,
        figure: `${Math.round(perSecond)} /s while sending (${spread(ours, 0)}; whole run ${fmt(median(whole))} s)`,
        yardstick: `bare nodemailer pool ${Math.round(barePerSecond)} /s (${spread(theirs, 0)})`,
        ratio,
        target: '≥ 0.8× and ≥ 500/s',
        ok: ratio >= 0.8 && perSecond >= 500,
        data: { perSecond, barePerSecond, seconds: median(whole), rounds },
      },
    ];
  } finally {
    await sink.close();
    await remove();
  }
}

/** First to last acceptance, in seconds (at least 1 ms). */
function span(times: number[]): number {
  return Math.max(1, Math.max(...times) - Math.min(...times)) / 1000;
}

/** A 1,000,000-row CSV with --dry-run: streaming must hold memory down. */
export async function dryRunMillion(rows = 1_000_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('dry');
  try {
    await writeCustomersCsv(join(dir, 'million.csv'), rows);
    await newProject(dir);
    const run = await measureCli(['import-csv', 'million.csv', '--project', 'ITH', '--dry-run', '--json'], dir);
    expectCode(run, [0], 'dry run');
    return [memoryFigure(`dry run: ${rows.toLocaleString('en-US')}-row CSV`, run, '')];
  } finally {
    await remove();
  }
}
