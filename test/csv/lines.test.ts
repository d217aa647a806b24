import { describe, expect, it, vi } from 'vitest';
import { openCsv } from '../../src/csv/index.js';
import { PREFIX_BYTES } from '../../src/csv/source.js';
import { sniffDelimiter, parseDelimiterOption } from '../../src/csv/sniff.js';
import { fixture, readAll, streamOf } from './helpers.js';

const lineOf = async (text: string): Promise<number[]> =>
  (await readAll(streamOf(text))).records.map((record) => record.line);

describe('line numbers: where each row starts', () => {
  it('counts a CRLF inside quotes once (csv-parse info.lines counts it twice)', async () => {
    expect(await lineOf('email,name\r\na@x.io,"Ann\r\nLee"\r\n\r\nb@x.io,Bob\r\nc@x.io,"C\r\n\r\nD"\r\ne@x.io,E\r\n')).toEqual([
      2, 5, 6, 9,
    ]);
  });

  it('counts leading blank lines, whitespace-only lines and rows of empty cells', async () => {
    expect(await lineOf('\n\nemail,name\n  \na@x.io,Ann\n,\nb@x.io,Bob')).toEqual([5, 7]);
  });

  it('counts old Mac CR line ends', async () => {
    expect(await lineOf('email,name\ra@x.io,Ann\r\rb@x.io,"B\rC"\rc@x.io,Cy\r')).toEqual([2, 4, 6]);
  });

  it('keeps counting across chunk boundaries far into the file', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => (i % 100 === 0 ? `u${i}@x.io,"Multi\r\nline"` : `u${i}@x.io,N${i}`));
    const text = `email,name\r\n${rows.join('\r\n')}\r\n`;
    const lines = (await readAll(streamOf(text, 777))).records.map((record) => record.line);
    expect(lines).toHaveLength(5000);
    expect(lines[100]).toBe(2 + 100 + 1); // row 0 took two lines
    expect(lines.at(-1)).toBe(2 + 4999 + 50);
  });
});

describe('row shape', () => {
  it('flags a row with too few cells, and one with too many even when the extra cells are empty', async () => {
    // Line 4: "Archer, Annabelle" unquoted before an empty password cell: the extra cell is empty,
    // and " Annabelle" would be the password. Line 5: the same shape with nothing unquoted.
    const csv = 'email;name;password\na@x.io;Ann\nb@x.io;Bob;longenough1\nann@x.io;Archer; Annabelle;\nc@x.io;Cy;;;\n';
    const { records } = await readAll(streamOf(csv));
    const tooMany = (line: number, cells: number) =>
      `line ${line} has ${cells} cells but the header has 3 (email, name, password): a name or other cell probably contains an unquoted ";"; put that cell in double quotes, or take away the ";" the line ends with if nothing is unquoted (the row's cells are not shown)`;
    expect(records).toStrictEqual([
      {
        line: 2,
        email: '',
        fullName: '',
        error: 'line 2 has 2 cells but the header has 3 (email, name, password): a cell or a ";" between two cells is missing (the row\'s cells are not shown)',
      },
      { line: 3, email: 'b@x.io', fullName: 'Bob', password: 'longenough1' },
      { line: 4, email: '', fullName: '', error: tooMany(4, 4) },
      { line: 5, email: '', fullName: '', error: tooMany(5, 5) },
    ]);
  });

  it('takes a row short of cells only under unnamed columns (Excel pads its first 16 rows only; a header ending in a delimiter)', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => (i < 15 ? `u${i}@x.io,U ${i},,` : `u${i}@x.io,U ${i}`));
    const { records } = await readAll(streamOf(`email,name,,\n${rows.join('\n')}\n`));
    expect(records.filter((r) => r.error !== undefined)).toEqual([]);
    expect(records).toHaveLength(20);
    // A named column missing is still a short row: it may be shifted.
    const named = await readAll(streamOf('email,name,password\na@x.io,Ann\n'));
    expect(named.records[0]?.error).toMatch(/has 2 cells but the header has 3/);
  });

  it('takes a full name, falling back to first + last, trimming only the parts', async () => {
    const text = 'Full Name,E-mail Address,Given Name,Surname\n" Ann  Lee ",a@x.io,X,Y\n,b@x.io, Bob ,\n,c@x.io,, Cy \n';
    const { reader, records } = await readAll(streamOf(text));
    expect(reader.columns).toEqual({ email: 1, fullName: 0, firstName: 2, lastName: 3 });
    expect(records.map((record) => record.fullName)).toEqual([' Ann  Lee ', 'Bob', 'Cy']);
  });

  it('lets --map override the aliases and matches it like a header', async () => {
    const text = 'Email,Name,Contact E-Mail\nold@x.io,Ann,ann@x.io\n';
    const { reader, records } = await readAll(streamOf(text), { map: { email: 'contact_email' } });
    expect(reader.columns).toEqual({ email: 2, fullName: 1 });
    expect(records[0]?.email).toBe('ann@x.io');
  });

  it('marks rows with bytes that are not UTF-8 past the first 64 KiB, and reads on', async () => {
    const filler = 'a@x.io,Ann\n'.repeat(Math.ceil(PREFIX_BYTES / 11) + 10);
    const bytes = Buffer.concat([
      Buffer.from(`email,name\n${filler}`),
      Buffer.from([0x72, 0x40, 0x78, 0x2c, 0x52, 0x65, 0x6e, 0xe9, 0x0a]), // r@x,Ren\xE9
      Buffer.from('z@x.io,Zed\n'),
    ]);
    const { records } = await readAll(streamOf(bytes));
    const bad = records.at(-2);
    expect(bad?.fullName).toBe('Ren\uFFFD');
    expect(bad?.error).toBe(
      `line ${bad?.line} has bytes that are not valid utf-8 (shown as "\uFFFD"): if the file is not UTF-8, run again with --encoding windows-1252 (or the encoding it was saved in)`,
    );
    expect(records.at(-1)).toStrictEqual({ line: (bad?.line ?? 0) + 1, email: 'z@x.io', fullName: 'Zed' });
  });

  it('ends the records when the caller stops early, and can close without reading', async () => {
    const early = await openCsv(fixture('quoted.csv'));
    for await (const record of early.records) {
      expect(record.line).toBe(2);
      break;
    }
    const after: number[] = [];
    for await (const record of early.records) after.push(record.line);
    expect(after).toEqual([]);
    const unread = await openCsv(fixture('quoted.csv'));
    expect(unread.headers).toEqual(['email', 'name', 'notes']);
    unread.close();
  });
});

describe('other inputs', () => {
  it("reads standard input for '-' and names it so in messages", async () => {
    const from = (text: string) => ({ cwd: process.cwd(), stdin: streamOf(text) });
    expect((await readAll('-', { from: from('email,name\na@x.io,Ann\n') })).records).toStrictEqual([{ line: 2, email: 'a@x.io', fullName: 'Ann' }]);
    await expect(openCsv('-', { from: from('mail address,name\n') })).rejects.toThrow('standard input has no email column.');
  });

  it('reads a file with a header and no rows as no records', async () => {
    const { reader, records } = await readAll(streamOf('Email,Name\r\n'));
    expect(reader.headers).toEqual(['Email', 'Name']);
    expect(records).toEqual([]);
  });
});

describe('delimiter', () => {
  it('is sniffed from the header line, outside quotes', () => {
    expect(sniffDelimiter('"Name, full";Email;Phone\na,b,c,d,e,f\n')).toBe(';');
    expect(sniffDelimiter('\r\n\r\nEmail\tName\tA,B\n')).toBe('\t');
    expect(sniffDelimiter('"Email|Name"|"x,""y"""|Pw\n')).toBe('|');
    expect(sniffDelimiter('email;name;notes,more,extra\n')).toBe(','); // a tie goes to the comma
    expect(sniffDelimiter('"Na\nme";x,y;z\n')).toBe(';');
    expect(sniffDelimiter('Email\n')).toBe(',');
  });

  it('--delimiter accepts , ; | tab \\t and overrides sniffing', async () => {
    expect(['\\t', 'tab', 'TAB', '\t', ',', ';', '|', 'pipe'].map(parseDelimiterOption)).toEqual([
      '\t', '\t', '\t', '\t', ',', ';', '|', '|',
    ]);
    const { reader, records } = await readAll(streamOf('email;name;notes,more,extra\na@x.io;Ann, Lee;n,m,e\n'), { delimiter: ';' });
    expect(reader.delimiter).toBe(';');
    expect(records).toStrictEqual([{ line: 2, email: 'a@x.io', fullName: 'Ann, Lee' }]);
  });
});
