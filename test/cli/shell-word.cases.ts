import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellWord } from '../../src/core/printable.js';

describe('shellWord (the unlock command a lock message shows, pasted as it is)', () => {
  it('leaves a plain path alone and quotes one a shell would split or change', () => {
    expect(shellWord('/srv/jsm/jsm-store.json')).toBe('/srv/jsm/jsm-store.json');
    for (const path of ['my store.json', "it's here.json", 'a$HOME`x`.json', 'semi;colon.json', 'say "hi"\\now.csv']) {
      for (const quotes of ["'", '"'] as const) {
        const word = shellWord(path, quotes);
        expect(word).not.toBe(path);
        // What the shell makes of it is the path, one word, in either quotes.
        expect(spawnSync('sh', ['-c', `printf '%s\\n' ${word}`], { encoding: 'utf8' }).stdout).toBe(`${path}\n`);
      }
    }
    expect(shellWord('Fred Jones', '"')).toBe('"Fred Jones"');
  });
});
