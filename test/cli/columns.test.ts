import { describe, expect, it } from 'vitest';
import { columns } from '../../src/cli/io/render.js';

describe('columns (customers list, invitations list)', () => {
  it('pads every column but the last to its widest cell, at most 40', () => {
    expect(columns([['sent', 'ann@example.com', 'Ann'], ['in-doubt', 'bartholomew@example.com', 'Bart']])).toEqual([
      'sent      ann@example.com          Ann',
      'in-doubt  bartholomew@example.com  Bart',
    ]);
    const long = `${'x'.repeat(50)}@example.com`;
    expect(columns([[long, 'Long'], ['a@b.co', 'Short']])).toEqual([`${long}  Long`, `a@b.co${' '.repeat(34)}  Short`]);
    expect(columns([['only', '']])).toEqual(['only']);
  });
});
