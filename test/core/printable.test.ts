import { describe, expect, it } from 'vitest';
import { hasUnprintable, printable } from '../../src/core/printable.js';

describe('printable', () => {
  it('shows controls, separators and bidi controls as U+XXXX', () => {
    expect(printable('a\u001b]0;pwned\u0007b')).toBe('aU+001B]0;pwnedU+0007b');
    expect(printable('x\u202Egnp.exe')).toBe('xU+202Egnp.exe');
    expect(printable('l\u2028m\u2069')).toBe('lU+2028mU+2069');
    expect(printable('\u009b2J')).toBe('U+009B2J');
  });
  it('shows characters that take no room as U+XXXX: a shown address hides nothing', () => {
    expect(printable('zw\u200bs@example.com')).toBe('zwU+200Bs@example.com');
    expect(printable('a\u2060b\ufeffc')).toBe('aU+2060bU+FEFFc');
  });
  it('keeps the format characters real names need', () => {
    expect(printable('👩\u200d💻 Ana')).toBe('👩\u200d💻 Ana');
    expect(printable('می\u200cخواهم')).toBe('می\u200cخواهم');
    expect(printable('Zu\u00adsam\u00admen')).toBe('Zu\u00adsam\u00admen');
  });
  it('cuts long values', () => {
    expect(printable('abcdef', 3)).toBe('abc…');
    expect(hasUnprintable('ok')).toBe(false);
    expect(hasUnprintable('no\u0000')).toBe(true);
    expect(hasUnprintable('no\u0000')).toBe(true);
  });
});
