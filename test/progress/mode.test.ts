import { describe, expect, it } from 'vitest';
import { progressLine, progressMode } from '../../src/cli/io/reporter.js';

describe('how progress is shown', () => {
  it('spins only on a terminal with columns to draw in; 0, unknown or tiny columns and TERM=dumb get plain lines', () => {
    expect(progressMode(true, 80, 'xterm-256color', false, false)).toBe('spinner');
    expect(progressMode(true, 0, 'xterm', false, false)).toBe('lines');
    expect(progressMode(true, undefined, 'xterm', false, false)).toBe('lines');
    expect(progressMode(true, Number.NaN, 'xterm', false, false)).toBe('lines');
    expect(progressMode(true, 5, 'xterm', false, false)).toBe('lines');
    expect(progressMode(true, 120, 'dumb', false, false)).toBe('lines');
  });

  it('shows nothing without a terminal, under --json or --quiet', () => {
    expect(progressMode(false, 80, 'xterm', false, false)).toBe('none');
    expect(progressMode(true, 80, 'xterm', true, false)).toBe('none');
    expect(progressMode(true, 0, 'xterm', false, true)).toBe('none');
  });

  it('says rows done, rate and ETA in one line', () => {
    expect(progressLine('provisioning', 100, 300, 2)).toBe('provisioning 100/300 rows · 50 rows/s · ETA 4 s');
    // No rate (nor ETA) from less than a second of work.
    expect(progressLine('sending invitations', 1, 1, 0.000001)).toBe('sending invitations 1/1');
    expect(progressLine('provisioning', 10, 300, 0.5)).toBe('provisioning 10/300 rows');
  });
});
