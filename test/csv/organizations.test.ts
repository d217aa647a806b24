/** The organization column: its header aliases, --map, several per cell, a `;`-separated file. */
import { describe, expect, it } from 'vitest';
import { splitOrganizations } from '../../src/core/organizations.js';
import { readAll, streamOf } from './helpers.js';

describe('the organization column', () => {
  it.each(['organization', 'Organisation', 'ORGANIZATIONS', 'organisations', 'Org'])('is found under the header %s', async (header) => {
    const { records } = await readAll(streamOf(`email,name,${header}\na@example.com,A,Acme\n`));
    expect(records[0]?.organization).toBe('Acme');
  });

  it('--map organization="Company" names another column; an empty cell names none', async () => {
    const { records } = await readAll(streamOf('Email,Name,Company\na@example.com,A,Acme; Globex\nb@example.com,B,\n'), { map: { organization: 'Company' } });
    expect(records.map((r) => r.organization)).toEqual(['Acme; Globex', undefined]);
    expect(splitOrganizations(records[0]?.organization ?? '')).toEqual(['Acme', 'Globex']);
  });

  it('in a ;-separated file, a cell naming several is quoted', async () => {
    const { records, reader } = await readAll(streamOf('email;name;organization\na@example.com;A;"Acme;Globex"\nb@example.com;B;Initech\n'));
    expect(reader.delimiter).toBe(';');
    expect(records.map((r) => splitOrganizations(r.organization ?? ''))).toEqual([['Acme', 'Globex'], ['Initech']]);
  });
});
