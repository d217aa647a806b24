import { describe, expect, it } from 'vitest';
import { openCsv } from '../../src/csv/index.js';
import { validateRow } from '../../src/core/validate.js';
import { fixture, readAll, streamOf, usageError } from './helpers.js';

describe('address-book and CRM exports, recognised by themselves', () => {
  it('Google Contacts (current layout): E-mail 1 - Value, not its Label; first address of a ::: cell', async () => {
    const { reader, records } = await readAll(fixture('google-contacts.csv'));
    expect(reader.headers[reader.columns.email]).toBe('E-mail 1 - Value');
    expect(records).toStrictEqual([
      { line: 2, email: 'ana.ruiz@initech.example', fullName: 'Ana Ruiz' },
      { line: 3, email: 'reza.tehrani@example.ir', fullName: 'Reza Tehrani' },
      { line: 4, email: 'kim@example.org', fullName: 'Kim' },
    ]);
  });

  it('Google Contacts (legacy layout): E-mail 1 - Type / E-mail 1 - Value, Name; a punycode TLD', async () => {
    const { reader, records } = await readAll(fixture('google-contacts-legacy.csv'));
    expect(reader.headers[reader.columns.email]).toBe('E-mail 1 - Value');
    expect(reader.headers[reader.columns.fullName as number]).toBe('Name');
    expect(records).toStrictEqual([
      { line: 2, email: 'taro.yamada@example.jp', fullName: 'Taro Yamada' },
      { line: 3, email: 'olga@xn--e1afmkfd.xn--p1ai', fullName: 'Olga Ivanova' },
    ]);
    expect(records.every((r) => validateRow({ line: r.line, email: r.email, fullName: r.fullName }).ok)).toBe(true);
  });

  it.each([
    ['outlook-contacts.csv', 'E-mail Address', ['bill&ted@wyld-stallyns.example', 'Bill Preston'], ['chloe.dubois@contoso.example', 'Chloé Dubois']],
    ['thunderbird-contacts.csv', 'Primary Email', ['lena.vogel@example.de', 'Lena Vogel'], ['sam.okafor@example.ng', 'Sam Okafor']],
    ['salesforce-contacts.csv', 'Email', ['priya.nair@globex.example', 'Priya Nair'], ["tom.o'neil@globex.example", "Tom O'Neil"]],
    ['hubspot-contacts.csv', 'Email', ['mia.wong@example.hk', 'Mia Wong'], ['a=b@example.mx', 'Luis Herrera']],
    ['zendesk-users.csv', 'email', ['noor.haddad@example.jo', 'Noor Haddad'], ['{jo}@example.kr', 'Jo Park']],
  ])('%s: email from "%s", names, every row valid', async (name, emailHeader, first, second) => {
    const { reader, records } = await readAll(fixture(name));
    expect(reader.headers[reader.columns.email]).toBe(emailHeader);
    expect(records.map((r) => [r.email, r.fullName])).toEqual([first, second]);
    expect(records.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(records.every((r) => validateRow({ line: r.line, email: r.email, fullName: r.fullName }).ok)).toBe(true);
  });

  it('Salesforce Data Loader and Yahoo style headers (FirstName/LastName, First/Last)', async () => {
    for (const header of ['FirstName,LastName,Email', 'First,Last,Email']) {
      const { records } = await readAll(streamOf(`${header}\nAda,Lovelace,ada@example.com\n`));
      expect(records, header).toStrictEqual([{ line: 2, email: 'ada@example.com', fullName: 'Ada Lovelace' }]);
    }
  });

  it('the --map hint picks the column whose values look like addresses, not the one named like it', async () => {
    const csv = 'Name,Mail type,Contact\nAnn Lee,* Work,ann@example.com\nBob Roe,Home,bob@example.com ::: b@example.org\n';
    const error = await usageError(() => openCsv(streamOf(csv)));
    expect(error.code).toBe('no-email-column');
    expect(error.hint).toBe('Name the column that holds the email addresses, e.g. --map email="Contact".');
  });
});

describe("Excel's sep= line", () => {
  it('names the delimiter, is not the header, and lines stay file lines', async () => {
    const { reader, records } = await readAll(fixture('excel-sep-line.csv'));
    expect(reader.sepLine).toBe(true);
    expect(reader.delimiter).toBe(';');
    expect(reader.headers).toEqual(['E-Mail', 'Vorname', 'Nachname']);
    expect(records).toStrictEqual([
      { line: 3, email: 'jonas.becker@example.de', fullName: 'Jonas Becker' },
      { line: 4, email: 'lea.hoffmann@example.de', fullName: 'Lea Hoffmann' },
    ]);
  });

  it('also quoted, and with a delimiter the header alone would not choose', async () => {
    const { reader, records } = await readAll(streamOf('"sep=|"\nemail|full name\na@example.com|Ann, CEO\n'));
    expect(reader.delimiter).toBe('|');
    expect(records).toStrictEqual([{ line: 3, email: 'a@example.com', fullName: 'Ann, CEO' }]);
  });
});

describe('spreadsheets that are not CSV, told by their bytes', () => {
  it.each([
    ['customers.xlsx', 'an Excel workbook (.xlsx'],
    ['customers.ods', 'an OpenDocument spreadsheet (.ods)'],
  ])('%s is named as %s, with how to save it as CSV UTF-8', async (name, what) => {
    const error = await usageError(() => openCsv(fixture(name)));
    expect(error.code).toBe('spreadsheet-not-csv');
    expect(error.message).toContain(what);
    expect(error.hint).toContain('CSV UTF-8');
  });

  it('a legacy .xls (OLE2) is named as such, not as UTF-16 text, even with --encoding', async () => {
    const xls = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(504)]);
    for (const options of [{}, { encoding: 'utf-16le' }]) {
      const error = await usageError(() => openCsv(streamOf(xls), options));
      expect(error.code).toBe('spreadsheet-not-csv');
      expect(error.message).toContain('Excel 97-2003 workbook (.xls');
      expect(error.hint).toContain('"CSV UTF-8 (Comma delimited) (*.csv)"');
    }
  });

  it('an Apple Numbers document is named as one', async () => {
    const numbers = Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x00\x00\x08\x00', 'latin1'), Buffer.from('Index/Document.iwa', 'latin1'), Buffer.alloc(64)]);
    const error = await usageError(() => openCsv(streamOf(numbers)));
    expect(error.code).toBe('spreadsheet-not-csv');
    expect(error.message).toContain('Apple Numbers');
    expect(error.hint).toContain('Unicode (UTF-8)');
  });

  it('an HTML "report" saved as .xls is named as a page', async () => {
    const error = await usageError(() => openCsv(streamOf('<html><body><table><tr><td>Email</td></tr></table></body></html>')));
    expect(error.code).toBe('spreadsheet-not-csv');
    expect(error.message).toContain('HTML');
  });
});

describe('lines and limits', () => {
  it('a stray bare CR inside a CRLF file does not shift later line numbers', async () => {
    const csv = 'email,name\r\na@example.com,Ann\rLee\r\nb@example.com,"Bob\rRoe"\r\n\r\nc@example.com,Cy\r\n';
    const { records } = await readAll(streamOf(csv));
    expect(records.map((r) => [r.line, r.email])).toEqual([
      [2, 'a@example.com'],
      [3, 'b@example.com'],
      [5, 'c@example.com'],
    ]);
  });

  it('a row longer than the limit names the limit and the option, and --max-row-chars raises it', async () => {
    const long = 'x'.repeat(2_000);
    const csv = `email,name\na@example.com,Ann\nb@example.com,${long}\nc@example.com,Cy\n`;
    const reader = await openCsv(streamOf(csv), { maxRowChars: 1_000 });
    const seen: number[] = [];
    const error = await usageError(async () => {
      for await (const record of reader.records) seen.push(record.line);
    });
    expect(seen).toEqual([2]);
    expect(error.code).toBe('row-too-long');
    expect(error.message).toContain('line 3: the row starting here is longer than 1,000 characters');
    expect(error.message).toContain('--max-row-chars 1000');
    expect(error.hint).toMatch(/larger --max-row-chars.*otherwise a quote opened on line 3/);
    const { records } = await readAll(streamOf(csv), { maxRowChars: 5_000 });
    expect(records.map((r) => r.fullName.length)).toEqual([3, 2_000, 2]);
  });
});

describe('a row with the wrong number of cells', () => {
  it('is reported by its cell count and the expected columns, and passes none of its cells on', async () => {
    const csv = 'Email,Name,Password\nann@example.com,Lee, Ann,Sup3r$ecret-pw\nbob@example.com,Bob Roe\nok@example.com,Ok,longenough1\n';
    const { records } = await readAll(streamOf(csv));
    expect(records[0]).toStrictEqual({
      line: 2,
      email: '',
      fullName: '',
      error:
        'line 2 has 4 cells but the header has 3 (Email, Name, Password): a name or other cell probably contains an unquoted ","; put that cell in double quotes (the row\'s cells are not shown)',
    });
    expect(records[1]).toStrictEqual({
      line: 3,
      email: '',
      fullName: '',
      error: 'line 3 has 2 cells but the header has 3 (Email, Name, Password): a cell or a "," between two cells is missing (the row\'s cells are not shown)',
    });
    expect(JSON.stringify(records)).not.toContain('Sup3r$ecret-pw');
    expect(records[2]).toMatchObject({ line: 4, email: 'ok@example.com', password: 'longenough1' });
  });
});
