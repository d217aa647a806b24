import { describe, expect, it } from 'vitest';
import { readEmailList } from '../../src/csv/email-list.js';

describe('readEmailList (customers remove --file)', () => {
  it('a CSV whose header names the email column anywhere, any delimiter, a BOM, quoted cells over lines', () => {
    const text = '\uFEFFName;E-Mail Address;Org\r\n"Baker; Bob";bob@example.com;Acme\r\n"Ann\r\nArcher";ann@example.com;\r\n\r\n;cid@example.com;\r\n';
    expect(readEmailList(text)).toEqual([
      { line: 2, email: 'bob@example.com' },
      { line: 3, email: 'ann@example.com' },
      { line: 6, email: 'cid@example.com' },
    ]);
  });

  it('an export of this tool', () => {
    expect(readEmailList('email,full name,organization,language\r\nann@acme.example,"Archer, Ann",Acme;Globex,de\r\n')).toEqual([{ line: 2, email: 'ann@acme.example' }]);
  });

  it('a plain list without header, one address a line; blank lines skipped, cells trimmed', () => {
    expect(readEmailList('fred@example.com\n\n  ann@example.com \nnot-an-email\n')).toEqual([
      { line: 1, email: 'fred@example.com' },
      { line: 3, email: 'ann@example.com' },
      { line: 4, email: 'not-an-email' },
    ]);
  });
});
