import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { colors } from '../../src/cli/io/colors.js';
import { Output } from '../../src/cli/io/output.js';

const ESC = '\u001b';

describe('colours', () => {
  it('writes SGR codes on a terminal, and a style inside another re-opens the outer one', () => {
    const c = colors(true);
    expect(c.red('x')).toBe(`${ESC}[31mx${ESC}[39m`);
    // y after the inner close stays bold: the inner close is followed by bold again.
    expect(c.bold(`${c.dim('x')}y`)).toBe(`${ESC}[1m${ESC}[2mx${ESC}[22m${ESC}[1my${ESC}[22m`);
    expect(c.yellow(c.green('g') + 'y')).toBe(`${ESC}[33m${ESC}[32mg${ESC}[39m${ESC}[33my${ESC}[39m`);
  });

  it('leaves text as it is without a terminal, or under NO_COLOR', () => {
    expect(colors(false).bold('x')).toBe('x');
    const tty = Object.assign(new PassThrough(), { isTTY: true }) as never;
    const saved = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(new Output({ json: false, quiet: false }, tty, tty, process.env).errColor.level).toBe(1);
      process.env.NO_COLOR = '1';
      expect(new Output({ json: false, quiet: false }, tty, tty, process.env).errColor.level).toBe(0);
      const pipe = new PassThrough() as never;
      delete process.env.NO_COLOR;
      expect(new Output({ json: false, quiet: false }, pipe, pipe, process.env).color.level).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });
});
