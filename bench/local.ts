import { join } from 'node:path';
import { startSmtpSink } from '../test/support/smtp-sink.js';
import { mkdir } from 'node:fs/promises';
import { expectCode, fmt, measureCli, measureNode, memoryFigure, scratch, type Figure, type Measured } from './harness.js';
import { writeCustomersCsv } from './inputs.js';

const HERE = new URL('.', import.meta.url).pathname;
const REPEAT = 3;

/** The fastest of several runs; its peak RSS is the highest seen in any of them. */
function best(runs: Measured[]): Measured {
  const fastest = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...fastest, maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)) };
}

async function newProject(dir: string): Promise<void> {
  expectCode(await measureCli(['project', 'create', 'ITH', '--name', 'IT Help'], dir), [0], 'project create');
}

/** 100,000 rows into a fresh store, against bare csv-parse; then 100,000 more into the full store. */
export async function localImport(rows = 100_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('local');
  try {
    await writeCustomersCsv(join(dir, 'first.csv'), rows, { prefix: 'first' });
    await writeCustomersCsv(join(dir, 'second.csv'), rows, { prefix: 'second' });
    // This machine's timings wander by tens of per cent from one run to the next: each side is
    // measured REPEAT times, interleaved, and the best of each is compared.
    const bares: Measured[] = [];
    const firsts: Measured[] = [];
    const seconds: Measured[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const store = join(dir, `store-${i}`);
      await mkdir(store);
      await newProject(store);
      const bare = await measureNode(join(HERE, 'bare-csv.js'), [join(dir, 'first.csv')], { cwd: dir });
      expectCode(bare, [0], 'bare csv-parse');
      bares.push(bare);
      const first = await measureCli(['import-csv', '../first.csv', '--project', 'ITH', '--no-invite', '--json'], store);
      expectCode(first, [0], 'first import');
      firsts.push(first);
      const second = await measureCli(['import-csv', '../second.csv', '--project', 'ITH', '--no-invite', '--json'], store);
      expectCode(second, [0], 'second import');
      seconds.push(second);
    }
    const bare = best(bares);
    const first = best(firsts);
    const second = best(seconds);
    const ratio = first.seconds / bare.seconds;
    const growth = second.seconds / first.seconds;
    return [
      {
        bench: `local: ${rows.toLocaleString('en-US')} rows, fresh store (best of ${REPEAT})`,
        figure: `${fmt(first.seconds)} s, ${Math.round(rows / first.seconds).toLocaleString('en-US')} rows/s, peak RSS ${Math.round(first.maxRssMb)} MB`,
        yardstick: `bare csv-parse ${fmt(bare.seconds)} s`,
        ratio,
        target: '≤ 3× csv-parse; RSS ≤ 300 MB',
        ok: ratio <= 3 && first.maxRssMb <= 300,
        data: { seconds: first.seconds, rowsPerSecond: rows / first.seconds, peakRssMb: first.maxRssMb, bareSeconds: bare.seconds },
      },
      {
        bench: `local: ${rows.toLocaleString('en-US')} rows into a store of ${rows.toLocaleString('en-US')} (best of ${REPEAT})`,
        figure: `${fmt(second.seconds)} s, peak RSS ${Math.round(second.maxRssMb)} MB`,
        yardstick: `the first import ${fmt(first.seconds)} s`,
        ratio: growth,
        target: '≤ 1.5× the first',
        ok: growth <= 1.5,
        data: { seconds: second.seconds, peakRssMb: second.maxRssMb, firstSeconds: first.seconds },
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

/** 2,000 new customers with invitations to an SMTP server on loopback, against a bare nodemailer pool. */
export async function invitations(rows = 2_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('mail');
  const sink = await startSmtpSink();
  try {
    await writeCustomersCsv(join(dir, 'new.csv'), rows);
    await newProject(dir);
    const bare = await measureNode(join(HERE, 'bare-mail.js'), [sink.url, String(rows)], { cwd: dir });
    expectCode(bare, [0], 'bare nodemailer');
    const bareSpan = span(sink.accepted().map((m) => m.at));
    sink.messages.length = 0;
    const run = await measureCli(['import-csv', 'new.csv', '--project', 'ITH', '--json', '--smtp', sink.url, '--mail-from', 'help@example.com'], dir);
    expectCode(run, [0], 'import with invitations');
    const received = sink.accepted();
    if (received.length !== rows) throw new Error(`expected ${rows} invitations, the server accepted ${received.length}`);
    const ours = rows / span(received.map((m) => m.at));
    const theirs = rows / bareSpan;
    const ratio = ours / theirs;
    return [
      {
        bench: `invitations: ${rows.toLocaleString('en-US')} by SMTP (loopback)`,
        figure: `${Math.round(ours)} /s while sending (whole run ${fmt(run.seconds)} s)`,
        yardstick: `bare nodemailer pool ${Math.round(theirs)} /s`,
        ratio,
        target: '≥ 0.8× and ≥ 500/s',
        ok: ratio >= 0.8 && ours >= 500,
        data: { perSecond: ours, barePerSecond: theirs, seconds: run.seconds },
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
