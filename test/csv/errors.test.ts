import { mkdtemp } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nameColumnNote, openCsv, parseMapOption } from '../../src/csv/index.js';
import { fixture, readAll, streamOf, usageError } from './helpers.js';

describe('input the run must stop on', () => {
  it('names the headers and the --map that fixes a missing email column', async () => {
    const error = await usageError(() => openCsv(streamOf('Customer,Contact\nAnn Lee,ann@example.com\n')));
    expect(error.code).toBe('no-email-column');
    expect(error.message).toBe('the input has no email column. Its columns are: "Customer", "Contact".');
    expect(error.hint).toBe('Name the column that holds the email addresses, e.g. --map email="Contact".');
  });

  it('suggests the header that looks like an email column', async () => {
    const error = await usageError(() => openCsv(streamOf('Name,Work Mail Addr\nAnn,ann@example.com\n')));
    expect(error.code).toBe('no-email-column');
    expect(error.hint).toContain('--map email="Work Mail Addr"');
  });

  it('says when a title line (or a few) stands above the header, by the header\'s line', async () => {
    const title = await usageError(() => openCsv(streamOf('Customer list 2024\nEmail,Name\na@example.com,Ann A\n')));
    expect(title.code).toBe('no-email-column');
    expect(title.message).toBe('the input has no email column in its first line ("Customer list 2024"), but line 2 looks like the header: the lines above it are probably a title.');
    expect(title.hint).toBe('Delete the line above line 2, so that the header is the first line, and run again.');
    // Two title lines of a semicolon export: the delimiter was looked for in the title.
    const two = await usageError(() => openCsv(streamOf('Kunden;;\nStand: 1.1.2024;;\nE-Mail;Vorname;Nachname\na@example.com;Ann;Lee\n')));
    expect(two.message).toContain('but line 3 looks like the header');
    expect(two.hint).toBe('Delete the lines above line 3, so that the header is the first line, and run again.');
    // The header under the title names its email column in a way no alias knows: still a title.
    const unknown = await usageError(() => openCsv(streamOf('Customer list 2024\nname,contact\nA,a@example.com\n')));
    expect(unknown.message).toContain('its first line is one cell ("Customer list 2024"), and line 2 has 2, so the first line is probably a title');
    expect(unknown.hint).toContain('Delete the line above line 2');
  });

  it('reads a file without a name column (existing customers need none), and says once what it means, with the --map to a name column', async () => {
    const reader = await openCsv(streamOf('Email,Company,Contact Person Name\na@example.com,X,Ann\n'));
    const records = [];
    for await (const record of reader.records) records.push(record);
    expect(records).toEqual([{ line: 2, email: 'a@example.com', fullName: '' }]);
    expect(nameColumnNote(reader.columns, reader.headers, 'people.csv')).toBe(
      'people.csv has no name column: customers who exist are added (a name is needed only to create someone); rows of new customers are refused. Add a name column, or name the column that holds names with --map fullName="Contact Person Name".',
    );
    // email,organization: the note, and never a hint that takes the email column for names.
    const orgs = await openCsv(streamOf('email,organization\nmaria@example.com,Legal\n'));
    expect(nameColumnNote(orgs.columns, orgs.headers, 'join.csv')).toBe(
      'join.csv has no name column: customers who exist are added (a name is needed only to create someone); rows of new customers are refused. Add a name column.',
    );
    expect(nameColumnNote((await openCsv(streamOf('email,name\na@example.com,Ann\n'))).columns, ['email', 'name'], 'x.csv')).toBeUndefined();
  });

  it('refuses a --map naming a header that is not in the file, listing the headers found', async () => {
    const error = await usageError(() => openCsv(fixture('pipe.csv'), { map: { fullName: 'Customer Name' } }));
    expect(error.code).toBe('unknown-map-header');
    expect(error.message).toContain('--map fullName="Customer Name" names a column that is not in');
    expect(error.message).toContain('Its columns are: "Email Address", "Display Name", "Password".');
  });

  it('refuses a delimiter it does not read, before opening the file', async () => {
    const error = await usageError(() => openCsv('/nonexistent/file.csv', { delimiter: ':' }));
    expect(error.code).toBe('bad-delimiter');
    expect(error.message).toBe('--delimiter ":" is not a delimiter jsm-provision reads.');
    expect(error.hint).toContain(', ; | tab');
  });

  it('reports a missing file with its path and the OS reason', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'jsm-csv-')), 'missing.csv');
    const error = await usageError(() => openCsv(path));
    expect(error.code).toBe('unreadable-input');
    expect(error.message).toBe(`Cannot read ${path}: no such file or directory (ENOENT).`);
  });

  it('reports a directory given as the file', async () => {
    const error = await usageError(() => openCsv(tmpdir()));
    expect(error.code).toBe('unreadable-input');
    expect(error.message).toContain('is a folder, not a CSV file');
    expect(error.message).not.toContain('EISDIR');
  });

  it('refuses an empty file and a file of blank lines', async () => {
    expect((await usageError(() => openCsv(streamOf('')))).code).toBe('empty-input');
    expect((await usageError(() => openCsv(streamOf('\r\n\r\n,,\r\n')))).code).toBe('empty-input');
  });

  it('refuses windows-1252 bytes read as UTF-8, suggesting --encoding windows-1252', async () => {
    const error = await usageError(() => openCsv(fixture('windows-1252.csv')));
    expect(error.code).toBe('bad-encoding');
    expect(error.message).toContain('line 2 has bytes that are not valid UTF-8');
    expect(error.hint).toContain('--encoding windows-1252');
  });

  it('refuses an encoding iconv-lite does not know', async () => {
    const error = await usageError(() => openCsv(fixture('pipe.csv'), { encoding: 'klingon-8' }));
    expect(error.code).toBe('unknown-encoding');
  });

  it('refuses an --encoding that contradicts the BOM, and accepts one that agrees', async () => {
    const error = await usageError(() => openCsv(fixture('unicode-text.txt'), { encoding: 'windows-1252' }));
    expect(error.code).toBe('encoding-conflict');
    expect(error.message).toContain('UTF-16LE byte order mark');
    const { records } = await readAll(fixture('unicode-text.txt'), { encoding: 'UTF16LE' });
    expect(records).toHaveLength(3);
  });

  it('refuses a legacy --encoding for a file that is UTF-8 (no BOM), and takes it for one that is not', async () => {
    const utf8 = Buffer.from('Email,Full Name\nann@example.com,Ann Lee\njose@example.com,José Müller\n', 'utf8');
    const error = await usageError(() => openCsv(streamOf(utf8), { encoding: 'windows-1252' }));
    expect(error.code).toBe('encoding-conflict');
    expect(error.message).toContain('is UTF-8 (line 3 has a character written as UTF-8), but the encoding windows-1252 was asked for');
    expect(error.hint).toContain('--encoding utf-8');
    // The same names saved as windows-1252, and a file in plain ASCII, are read with it.
    const legacy = await readAll(streamOf(Buffer.from(utf8.toString('utf8'), 'latin1')), { encoding: 'windows-1252' });
    expect(legacy.records.map((r) => r.fullName)).toEqual(['Ann Lee', 'José Müller']);
    const ascii = await readAll(streamOf(Buffer.from('Email,Name\na@example.com,Ann\n')), { encoding: 'latin1' });
    expect(ascii.records).toHaveLength(1);
  });

  it('recognises UTF-16 without BOM and an .xlsx workbook', async () => {
    const utf16 = Buffer.from('Email,Name\r\na@example.com,Ann\r\n', 'utf16le');
    const noBom = await usageError(() => openCsv(streamOf(utf16)));
    expect(noBom.code).toBe('bad-encoding');
    expect(noBom.hint).toBe('If it is text, run again with --encoding utf-16le.');
    const xlsx = await usageError(() => openCsv(streamOf(Buffer.from('PK\x03\x04\x14\x00\x06\x00', 'latin1'))));
    expect(xlsx.message).toContain('zip archive');
  });

  it('stops with the line where a quote is opened and never closed, after the rows before it', async () => {
    const reader = await openCsv(streamOf('email,name\na@example.com,Ann\n\nb@example.com,"Bob\nc@example.com,Cy\n'));
    const seen: number[] = [];
    const error = await usageError(async () => {
      for await (const record of reader.records) seen.push(record.line);
    });
    expect(seen).toEqual([2]);
    expect(error.code).toBe('malformed-csv');
    expect(error.message).toBe(
      'the input, line 4: a quoted cell starts on this line and is never closed, so the rest of the file cannot be read.',
    );
  });

  it('reports a read that fails midway as unreadable input', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from(`email,name\n${'a@x.io,Ann\n'.repeat(7000)}`); // more than the 64 KiB prefix
      throw new Error('connection reset');
    }
    // The error destroys the parser, dropping rows it had parsed ahead: where it surfaces varies.
    const error = await usageError(async () => {
      const reader = await openCsv(Readable.from(failing()));
      for await (const record of reader.records) expect(record.error).toBeUndefined();
    });
    expect(error.code).toBe('unreadable-input');
    expect(error.message).toBe('Cannot read the input: connection reset.');
  });
});

describe('parseMapOption', () => {
  it('parses field=Header pairs, field names in any case, quotes a shell left in place', () => {
    expect(parseMapOption(['email=E-Mail Adresse', 'FullName="Customer Name"', 'first_name=Given'])).toEqual({
      email: 'E-Mail Adresse',
      fullName: 'Customer Name',
      firstName: 'Given',
    });
  });

  it('refuses unknown fields, naming the valid ones, and values without "="', () => {
    expect(() => parseMapOption(['mail=Email'])).toThrowError(
      expect.objectContaining({
        code: 'bad-map',
        message: '--map "mail=Email": "mail" is not a field. The fields are: email, fullName, firstName, lastName, password, language, username, organization.',
      }),
    );
    expect(() => parseMapOption(['email'])).toThrowError(expect.objectContaining({ code: 'bad-map' }));
    expect(() => parseMapOption(['email='])).toThrowError(expect.objectContaining({ code: 'bad-map' }));
    expect(() => parseMapOption(['email=A', 'email=B'])).toThrowError(/twice/);
  });
});
