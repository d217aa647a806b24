// npm run bench [-- --json] [-- --only local,hashing,...]: every figure next to its yardstick, measured in one run.
import { availableParallelism, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { fmt, loadAverage, type Figure } from './harness.js';
import { mailBench } from './import-mail.js';
import { dryRunMillion, hashing, invitations, localImport, startup } from './local.js';
import { restBench } from './rest.js';
import { cloudBench } from './cloud.js';
import { templatesBench } from './templates.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, only: { type: 'string' } } });
const benches: Record<string, () => Promise<Figure[]>> = {
  local: () => localImport(),
  startup: () => startup(),
  hashing: () => hashing(),
  invitations: () => invitations(),
  templates: () => templatesBench(),
  'dry-run': () => dryRunMillion(),
  rest: () => restBench(),
  cloud: () => cloudBench(),
  'import-mail': () => mailBench(),
};
const chosen = values.only ? values.only.split(',') : Object.keys(benches);
const figures: Figure[] = [];
const started = performance.now();
for (const name of chosen) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown bench ${name}: one of ${Object.keys(benches).join(', ')}`);
  if (!values.json) process.stderr.write(`running ${name}…\n`);
  figures.push(...(await bench()));
}
const seconds = (performance.now() - started) / 1000;

if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine: machine(), seconds, figures }, null, 2)}\n`);
} else {
  const rows = figures.map((f) => [f.bench, f.figure, f.yardstick, f.ratio === null ? '—' : `${fmt(f.ratio)}×`, f.target, f.ok === null ? '' : f.ok ? 'met' : 'NOT MET']);
  const head = ['what', 'figure', 'yardstick (same run)', 'ratio', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n');
  process.stdout.write(`\n${machine()}; whole run ${fmt(seconds, 0)} s\n`);
}

function machine(): string {
  return `Node ${process.version}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}, load average ${loadAverage()} at the end`;
}
