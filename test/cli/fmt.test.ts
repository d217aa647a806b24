import { describe, expect, it } from 'vitest';
import { fmt } from '../../src/cli/io/render.js';

describe('numbers in words for people', () => {
  it.each([0, 7, 999, 1000, 12345, 999999, 1000000, 1234567890, -4321, 86999.6])('%d is written as toLocaleString("en-US") writes it', (n) => {
    expect(fmt(n)).toBe(Math.round(n).toLocaleString('en-US'));
  });
});
