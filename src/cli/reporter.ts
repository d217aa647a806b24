import type { Ora } from 'ora';
import type { Reporter } from '../core/types.js';
import type { Output } from './output.js';

/**
 * The core's progress, for people. On a terminal (stderr), an ora line with rows done, rate and
 * ETA; otherwise, under --json or --quiet, nothing animated: notes are plain lines.
 */
export class TerminalReporter implements Reporter {
  #spinner: Ora | null = null;
  #started = 0;
  #lastText = 0;
  #label: string;

  #ora: typeof import('ora').default | null = null;

  constructor(private readonly out: Output, label = 'provisioning') {
    this.#label = label;
    // Loaded only where something will spin; until it is there, progress is simply not shown.
    if (this.animated) {
      void import('ora').then((module) => {
        this.#ora = module.default;
      });
    }
  }

  get animated(): boolean {
    return this.out.stderrIsTTY && !this.out.json && !this.out.quiet;
  }

  info(message: string): void {
    this.#around(() => this.out.note(message));
  }

  warn(message: string): void {
    this.#around(() => this.out.warn(message));
  }

  reading(count: number): void {
    if (!this.animated) return;
    this.#spin().text = `reading and checking rows: ${count.toLocaleString('en-US')}`;
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
    if (!this.animated) return;
    if (this.#started === 0) this.#started = performance.now();
    const now = performance.now();
    // ora renders on its own timer; setting the text more than ~20 times a second is wasted work.
    if (done < total && now - this.#lastText < 50) return;
    this.#lastText = now;
    this.#spin().text = progressLine(label, done, total, (now - this.#started) / 1000);
    if (done >= total) this.stop();
  }

  #spin(): Ora | { text: string } {
    if (!this.#spinner && this.#ora) this.#spinner = this.#ora({ stream: process.stderr, discardStdin: false }).start();
    return this.#spinner ?? { text: '' };
  }

  stop(): void {
    this.#spinner?.stop();
    this.#spinner = null;
  }

  /** Keeps the spinner from being torn by a line printed while it spins. */
  #around(print: () => void): void {
    const spinner = this.#spinner;
    if (spinner?.isSpinning) {
      spinner.clear();
      print();
      spinner.render();
    } else {
      print();
    }
  }
}

/** "provisioning 1,200/5,000 rows · 850 rows/s · ETA 4 s" */
export function progressLine(label: string, done: number, total: number, seconds: number, unit = label.startsWith('sending') ? 'invitations' : 'rows'): string {
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : null;
  const parts = [`${label} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${unit === 'rows' ? ' rows' : ''}`];
  if (rate > 0) parts.push(`${Math.round(rate).toLocaleString('en-US')} ${unit === 'rows' ? 'rows' : 'sent'}/s`);
  if (eta !== null && done < total) parts.push(`ETA ${formatSeconds(eta)}`);
  return parts.join(' · ');
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}
