/** Colour only where it can be shown: a terminal, not under NO_COLOR, not on a TERM=dumb terminal. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Output } from '../../src/cli/io/output.js';

/** A stream that says it is a terminal and keeps what is written. */
function terminal(): { isTTY: true; text: string; write(chunk: string): boolean } {
  return { isTTY: true, text: '', write(chunk: string) { this.text += chunk; return true; } };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('colour', () => {
  it('a terminal gets it; TERM=dumb and NO_COLOR do not', () => {
    vi.stubEnv('NO_COLOR', '');
    vi.stubEnv('TERM', 'xterm-256color');
    const colourful = terminal();
    new Output({ json: false, quiet: false }, process.stdout, colourful as never, process.env).warn('careful');
    expect(colourful.text).toContain('\u001b[');

    vi.stubEnv('TERM', 'dumb');
    const dumb = terminal();
    const out = new Output({ json: false, quiet: false }, dumb as never, dumb as never, process.env);
    out.warn('careful');
    expect(dumb.text).toBe('warning: careful\n');
    expect([out.color.level, out.errColor.level]).toEqual([0, 0]);
  });
});
