import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root (bench files run from .bench-build/bench/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'jsm-provision.js');
const PROBE = fileURLToPath(new URL('./rss-probe.js', import.meta.url));

/** One line of the table: a figure, the yardstick measured in the same run, their ratio, the target. */
export interface Figure {
  bench: string;
  figure: string;
  yardstick: string;
  ratio: number | null;
  target: string;
  ok: boolean | null;
  /** Raw numbers for --json. */
  data: Record<string, number>;
}

export interface Measured {
  seconds: number;
  maxRssMb: number;
  /** CPU seconds the process itself used (user + system): less disturbed by busy neighbours than wall time. */
  cpuSeconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Node script in a child process and measures its wall time and peak RSS (read by a probe
 * that the child loads first and that writes process.resourceUsage().maxRSS at exit).
 */
export async function measureNode(script: string, args: string[], options: { cwd: string; env?: Record<string, string>; input?: string } = { cwd: ROOT }): Promise<Measured> {
  const rssFile = join(options.cwd, `.rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const env = { ...process.env, NO_COLOR: '1', BENCH_RSS_FILE: rssFile, ...(options.env ?? {}) };
  const started = performance.now();
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', PROBE, script, ...args], { cwd: options.cwd, env, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(options.input ?? '');
  });
  const seconds = (performance.now() - started) / 1000;
  const [maxRssKb, cpuMicros] = (await readFile(rssFile, 'utf8').catch(() => 'NaN NaN')).split(' ').map(Number);
  await rm(rssFile, { force: true });
  return { seconds, maxRssMb: (maxRssKb ?? NaN) / 1024, cpuSeconds: (cpuMicros ?? NaN) / 1e6, ...result };
}

/** Runs the built CLI, measured. */
export function measureCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Measured> {
  return measureNode(BIN, args, { cwd, env });
}

/** A throwaway folder. */
export async function scratch(name: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `jsm-bench-${name}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Fails loudly: a benchmark whose run went wrong must not print a figure as if it were fine. */
export function expectCode(m: Measured, codes: number[], what: string): void {
  if (m.code === null || !codes.includes(m.code)) {
    throw new Error(`${what} exited with ${m.code}\n${m.stderr.slice(0, 2000)}`);
  }
}

/** A figure whose target is peak memory (no yardstick): a streaming run of a large input. */
export function memoryFigure(bench: string, run: Measured, rate: string): Figure {
  return {
    bench,
    figure: `${fmt(run.seconds)} s, ${rate}peak RSS ${Math.round(run.maxRssMb)} MB`,
    yardstick: '—',
    ratio: null,
    target: 'RSS ≤ 300 MB',
    ok: run.maxRssMb <= 300,
    data: { seconds: run.seconds, peakRssMb: run.maxRssMb },
  };
}

export const fmt = (n: number, digits = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "min–max" of a list, formatted. */
export function spread(values: readonly number[], digits = 2): string {
  return `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;
}

/** The 1-minute load average, to print next to timings taken on a shared machine. */
export function loadAverage(): string {
  return fmt(loadavg()[0] ?? 0);
}
