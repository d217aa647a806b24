import type { Ora } from 'ora';
import type { Reporter } from '../../core/types.js';
import type { Output } from './output.js';
import { fmt } from './render.js';
import { io } from './io.js';
import { testSetting } from '../../util/test-hooks.js';

/** How often a plain progress line is printed where a spinner cannot be drawn. */
export const PLAIN_LINE_MS = 2_000;

/**
 * How progress is shown: an ora spinner line on a terminal we can draw on; plain periodic lines on a
 * terminal that reports 0 or unknown columns (a pty nobody sized: `script`, some CI runners), or
 * TERM=dumb, where ora's cursor arithmetic would print escape codes without end and starve the
 * event loop (and with it the SIGTERM handler); nothing without a terminal, under --json or --quiet.
 */
export type ProgressMode = 'spinner' | 'lines' | 'none';

export function progressMode(tty: boolean, columns: number | undefined, term: string | undefined, json: boolean, quiet: boolean): ProgressMode {
  if (!tty || json || quiet) return 'none';
  if (columns === undefined || !Number.isFinite(columns) || columns < 20 || term === 'dumb') return 'lines';
  return 'spinner';
}

/**
 * The core's progress, for people: see ProgressMode. Drawing never waits: a plain line is skipped
 * while stderr is still writing the last one (a paused terminal), and the spinner is dropped for
 * plain lines if the terminal shrinks to nothing.
 */
export class TerminalReporter implements Reporter {
  #spinner: Ora | null = null;
  #started = 0;
  #lastText = 0;
  #lastLine = 0;
  #lastFinal = '';
  #label: string;
  #mode: ProgressMode;
  /** PLAIN_LINE_MS, or the test setting plain-line-ms (JSM_PROVISION_TEST_HOOKS) of a process a test starts. */
  readonly #lineMs = testSetting('plain-line-ms') ?? PLAIN_LINE_MS;

  #ora: typeof import('ora').default | null = null;

  /** The run's stderr, where progress is drawn. */
  readonly #stderr = io().stderr;

  constructor(private readonly out: Output, label = 'provisioning') {
    this.#label = label;
    this.#mode = progressMode(out.stderrIsTTY, io().stderr.columns, io().env.TERM, out.json, out.quiet);
    // Loaded only where something will spin; until it is there, progress is simply not shown.
    if (this.#mode === 'spinner') {
      void import('ora').then((module) => {
        this.#ora = module.default;
      });
    }
  }

  get animated(): boolean {
    return this.#mode === 'spinner';
  }

  get mode(): ProgressMode {
    return this.#mode;
  }

  reading(count: number): void {
    if (this.#mode === 'none') return;
    const text = `reading and checking rows: ${fmt(count)}`;
    if (this.#mode === 'lines') this.#plain(text, false);
    else if (this.#drawable()) this.#spin().text = text;
  }

  progress(done: number, total: number): void {
    this.#show(this.#label, done, total);
  }

  sending(done: number, total: number): void {
    if (this.#label !== 'sending invitations') {
      this.#label = 'sending invitations';
      this.#started = 0;
    }
    this.#show(this.#label, done, total);
  }

  #show(label: string, done: number, total: number): void {
    if (this.#mode === 'none') return;
    if (this.#started === 0) this.#started = performance.now();
    const now = performance.now();
    if (this.#mode === 'lines') {
      const last = done >= total && total > 0;
      // Called for every row: the line is only made when it will be printed.
      if (!last && this.#lastLine !== 0 && now - this.#lastLine < this.#lineMs) return;
      this.#plain(progressLine(label, done, total, (now - this.#started) / 1000), last);
      return;
    }
    if (!this.#drawable()) return;
    // ora renders on its own timer; setting the text more than ~20 times a second is wasted work.
    if (done < total && now - this.#lastText < 50) return;
    this.#lastText = now;
    this.#spin().text = progressLine(label, done, total, (now - this.#started) / 1000);
    if (done >= total) this.stop();
  }

  /** A plain line: the first at once, then at most one every PLAIN_LINE_MS, and the last one. */
  #plain(text: string, last: boolean): void {
    const now = performance.now();
    if (!last && this.#lastLine !== 0 && now - this.#lastLine < this.#lineMs) return;
    if (!last && this.#stderr.writableNeedDrain) return;
    // The core reports the end of a phase more than once: one line for it.
    const final = last ? text.replace(/ · .*$/, '') : '';
    if (last && final === this.#lastFinal) return;
    this.#lastFinal = final;
    this.#lastLine = now;
    this.out.note(text);
  }

  /** Whether the spinner may draw; a terminal that shrank to nothing switches to plain lines. */
  #drawable(): boolean {
    const columns = this.#stderr.columns;
    if (columns !== undefined && columns >= 20) return true;
    this.stop();
    this.#mode = 'lines';
    return false;
  }

  #spin(): Ora | { text: string } {
    // ora draws its frames in cyan unless told not to: no colour where the rest has none (NO_COLOR).
    if (!this.#spinner && this.#ora) this.#spinner = this.#ora({ stream: this.#stderr as NodeJS.WritableStream, discardStdin: false, ...(this.out.errColor.level > 0 ? {} : { color: false }) }).start();
    return this.#spinner ?? { text: '' };
  }

  stop(): void {
    this.#spinner?.stop();
    this.#spinner = null;
  }
}

/** "provisioning 1,200/5,000 rows · 850 rows/s · ETA 4 s" */
export function progressLine(label: string, done: number, total: number, seconds: number, unit = label.startsWith('sending') ? 'invitations' : 'rows'): string {
  // A rate over less than a second says more about the clock than the work (one row in 1 µs).
  const rate = seconds >= 1 ? done / seconds : 0;
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : null;
  const parts = [`${label} ${fmt(done)}/${fmt(total)}${unit === 'rows' ? ' rows' : ''}`];
  if (rate > 0) parts.push(`${fmt(rate)} ${unit === 'rows' ? 'rows' : 'sent'}/s`);
  if (eta !== null && done < total) parts.push(`ETA ${formatSeconds(eta)}`);
  return parts.join(' · ');
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}
