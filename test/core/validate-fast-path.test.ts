import { describe, expect, it } from 'vitest';
import { addressProblem, emailProblem, foldName, forbiddenInName, isPlainAddress, validateRow } from '../../src/core/validate.js';

// The fast paths (one regular expression for plain addresses and names) must never accept what the
// named checks refuse, nor change a name the folding would change. Addresses and names are made
// from pieces chosen to sit on every edge of those checks, and compared both ways.
const LOCALS = ['a', 'Ann.Lee', 'x+tag', "o'brien", '.a', 'a.', 'a..b', 'a b', '"q"', 'é', 'a'.repeat(64), 'a'.repeat(65), '!#$%&*+-/=?^_`{|}~', 'a@b', ''];
const DOMAINS = ['example.com', 'EXAMPLE.org', 'x.co.uk', 'localhost', 'a-.com', '-a.com', 'a--b.com', 'a.b-', 'ex_ample.com', 'example.123', 'example.c0m', '1.2.3.4', `${'d'.repeat(63)}.com`, `${'d'.repeat(64)}.com`, 'a..com', '.a.com', 'a.com.', 'exämple.com', 'ex ample.com', ''];

function* addresses(): Iterable<string> {
  for (const local of LOCALS) for (const domain of DOMAINS) yield `${local}@${domain}`;
  yield 'no-at-sign';
  yield 'a@b@example.com';
  yield 'tab\t@example.com';
  yield 'a@example.com\u200b';
}

describe('the plain-address fast path', () => {
  it('accepts only what every named check accepts, and accepts the ordinary addresses', () => {
    let plain = 0;
    for (const email of addresses()) {
      if (isPlainAddress(email)) {
        plain++;
        expect(addressProblem(email), email).toBeUndefined();
      }
      // Whichever path answers, the answer is the named checks' own.
      expect(emailProblem(email), email).toBe(addressProblem(email));
    }
    expect(plain).toBeGreaterThan(20);
    expect(isPlainAddress('Ann.Lee+it@Example.co.uk')).toBe(true);
  });
});

describe('the plain-name fast path', () => {
  const NAMES = ['Ann Lee', 'Ann  Lee', ' Ann', 'Ann ', 'Ann\tLee', 'José Núñez', 'Łukasz Żak', 'Zoë', 'A\u00adB', 'A\u200bB', 'A\u202eB', 'Ann\u00a0Lee', "O'Brien-Smith", 'x\u0085y', 'Ann\nLee', '陳大文'];
  it.each(NAMES)('%j: validated as the full checks would', (name) => {
    const result = validateRow({ line: 2, email: 'ann@example.com', fullName: name });
    const folded = foldName(name);
    const refused = forbiddenInName(folded).length > 0;
    expect(result.ok).toBe(!refused && folded !== '');
    if (result.ok) expect(result.row.fullName).toBe(folded);
  });
});
