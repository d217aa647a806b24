import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, readAll, streamOf } from './helpers.js';

describe('fixtures as real tools write them', () => {
  it('reads an Excel "CSV UTF-8" export: BOM, CRLF, a quoted comma, accents, a ",," row', async () => {
    const { reader, records } = await readAll(fixture('excel-utf8-bom.csv'));
    expect(reader.encoding).toBe('utf-8');
    expect(reader.delimiter).toBe(',');
    expect(reader.headers).toEqual(['Email', 'Full Name', 'Department']);
    expect(reader.columns).toEqual({ email: 0, fullName: 1 });
    expect(records).toStrictEqual([
      { line: 2, email: 'ana.silva@example.com', fullName: 'Ana Silva' },
      { line: 3, email: 'jose.nunez@example.com', fullName: 'José Núñez' },
      { line: 4, email: 'lee.chen@example.com', fullName: 'Chen, Lee' },
      { line: 5, email: 'maria.garcia@example.com', fullName: 'María García' },
    ]);
  });

  it('reads a German Excel export: semicolons, E-Mail/Vorname/Nachname, no BOM', async () => {
    const { reader, records } = await readAll(fixture('excel-semicolon.csv'));
    expect(reader.encoding).toBe('utf-8');
    expect(reader.delimiter).toBe(';');
    expect(reader.columns).toEqual({ email: 0, firstName: 1, lastName: 2 });
    expect(records).toStrictEqual([
      { line: 2, email: 'jonas.becker@example.de', fullName: 'Jonas Becker' },
      { line: 3, email: 'lea.hoffmann@example.de', fullName: 'Lea Hoffmann' },
      { line: 4, email: 'anna-lena.koch@example.de', fullName: 'Anna-Lena Koch' },
      { line: 5, email: 'felix.schulz@example.de', fullName: 'Felix' },
    ]);
  });

  it('reads Excel "Unicode Text": UTF-16LE with BOM, tabs, a quoted cell', async () => {
    const { reader, records } = await readAll(fixture('unicode-text.txt'));
    expect(reader.encoding).toBe('utf-16le');
    expect(reader.delimiter).toBe('\t');
    expect(reader.headers).toEqual(['Email', 'Name', 'Company']);
    expect(records).toStrictEqual([
      { line: 2, email: 'zoe.brooks@example.com', fullName: 'Zoë Brooks' },
      { line: 3, email: 'lukasz.nowak@example.pl', fullName: 'Łukasz Nowak' },
      { line: 4, email: 'taro.yamada@example.jp', fullName: '山田 太郎' },
    ]);
  });

  it('reads UTF-16LE handed over one byte at a time (characters and CRLFs cut in two)', async () => {
    const bytewise = await readAll(streamOf(readFileSync(fixture('unicode-text.txt')), 1));
    const whole = await readAll(fixture('unicode-text.txt'));
    expect(bytewise.reader.delimiter).toBe('\t');
    expect(bytewise.records).toStrictEqual(whole.records);
  });

  it('reads UTF-16BE with BOM, first + last name and passwords', async () => {
    const { reader, records } = await readAll(fixture('utf16be.csv'));
    expect(reader.encoding).toBe('utf-16be');
    expect(reader.delimiter).toBe(',');
    expect(reader.columns).toEqual({ email: 0, firstName: 1, lastName: 2, password: 3 });
    expect(records).toStrictEqual([
      { line: 2, email: 'sven.olsen@example.no', fullName: 'Sven Ølsen', password: 'Winter-2024!' },
      { line: 3, email: 'ines.muller@example.ch', fullName: 'Inès Müller' },
      { line: 4, email: 'omar.haddad@example.com', fullName: 'Omar Haddad', password: 's3cret"pass' },
    ]);
  });

  it('reads windows-1252 with --encoding windows-1252 (€ is 0x80, é is 0xE9)', async () => {
    const { reader, records } = await readAll(fixture('windows-1252.csv'), { encoding: 'windows-1252' });
    expect(reader.encoding).toBe('windows-1252');
    expect(records).toStrictEqual([
      { line: 2, email: 'rene.dubois@example.fr', fullName: 'René Dubois' },
      { line: 3, email: 'accounts@example.com', fullName: 'Accounts (€) Desk' },
      { line: 4, email: 'chloe.lefevre@example.fr', fullName: 'Chloé Lefèvre' },
    ]);
  });

  it('reads quoted cells, counts quoted and blank lines, and flags a row with too many cells', async () => {
    const { reader, records } = await readAll(fixture('quoted.csv'));
    expect(reader.delimiter).toBe(',');
    expect(records).toStrictEqual([
      { line: 2, email: 'ann.lee@example.com', fullName: 'Lee, Ann' },
      { line: 3, email: 'bob@example.com', fullName: 'Robert "Bob" Stone' },
      { line: 4, email: 'carol@example.com', fullName: 'Carol\nDanvers' },
      {
        line: 7,
        email: '',
        fullName: '',
        error: `line 7 has 4 cells but the header has 3 (email, name, notes): a name or other cell probably contains an unquoted ","; put that cell in double quotes (the row's cells are not shown)`,
      },
      { line: 8, email: '', fullName: 'Erin Empty' },
      { line: 9, email: 'frank@example.com', fullName: 'Frank Ocean' },
    ]);
  });

  it('reads a pipe-delimited file with a password column', async () => {
    const { reader, records } = await readAll(fixture('pipe.csv'));
    expect(reader.delimiter).toBe('|');
    expect(reader.columns).toEqual({ email: 0, fullName: 1, password: 2 });
    expect(records).toStrictEqual([
      { line: 2, email: 'grace.hopper@example.com', fullName: 'Grace Hopper', password: 'Cobol#1959' },
      { line: 3, email: 'alan.turing@example.com', fullName: 'Alan Turing' },
      {
        line: 4,
        email: '',
        fullName: '',
        error:
          'line 4 has 4 cells but the header has 3 (Email Address, Display Name, Password): a name or other cell probably contains an unquoted "|"; put that cell in double quotes (the row\'s cells are not shown)',
      },
    ]);
  });
});
