import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startSmtpSink } from '../test/support/smtp-sink.js';
import { expectCode, fmt, measureCli, ROOT, scratch, type Figure } from './harness.js';
import { writeCustomersCsv } from './inputs.js';

const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The same 1,000 invitations sent by SMTP (loopback) with the built-in templates and with a custom
 * template folder (fixtures/templates: text and HTML), each into a fresh store, ROUNDS times,
 * interleaved and alternating which goes first; the medians of the sending rates are compared.
 */
export async function templatesBench(rows = 1_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('templates');
  const sink = await startSmtpSink();
  const custom = join(ROOT, 'fixtures', 'templates');
  try {
    await writeCustomersCsv(join(dir, 'new.csv'), rows);
    const rates: Record<'builtIn' | 'custom', number[]> = { builtIn: [], custom: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('builtIn' | 'custom')[] = round % 2 ? ['custom', 'builtIn'] : ['builtIn', 'custom'];
      for (const side of order) {
        const store = join(dir, `${side}-${round}`);
        await mkdir(store);
        expectCode(await measureCli(['project', 'create', 'ITH', '--name', 'IT Help'], store), [0], 'project create');
        sink.messages.length = 0;
        const args = ['import-csv', '../new.csv', '--project', 'ITH', '--json', '--smtp', sink.url, '--mail-from', 'help@example.com'];
        const run = await measureCli(side === 'custom' ? [...args, '--template-dir', custom] : args, store);
        expectCode(run, [0], `import with ${side} templates`);
        const times = sink.accepted().map((m) => m.at);
        if (times.length !== rows) throw new Error(`expected ${rows} invitations, the server accepted ${times.length}`);
        rates[side].push(rows / (Math.max(1, Math.max(...times) - Math.min(...times)) / 1000));
      }
    }
    const ours = median(rates.custom);
    const theirs = median(rates.builtIn);
    const spread = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
    return [
      {
        bench: `invitations: ${rows.toLocaleString('en-US')} by SMTP with --template-dir (median of ${ROUNDS}, interleaved)`,
        figure: `${Math.round(ours)} /s while sending (spread ${spread(rates.custom)})`,
        yardstick: `built-in templates ${Math.round(theirs)} /s (spread ${spread(rates.builtIn)})`,
        ratio: ours / theirs,
        target: '≥ 0.9× built-in',
        ok: ours / theirs >= 0.9,
        data: { perSecond: ours, builtInPerSecond: theirs, rounds: ROUNDS, ratio: Number(fmt(ours / theirs, 3)) },
      },
    ];
  } finally {
    await sink.close();
    await remove();
  }
}
