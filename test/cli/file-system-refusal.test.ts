import { describe, expect, it } from 'vitest';
import { fileSystemRefusal } from '../../src/cli/program/action.js';

/** The errors Node gives for a file system's refusal: an errno code, the call, the file. */
function refusal(code: string, path = '/home/admin/.local/state/jsm-provision/ledger.json'): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: refused, write '${path}'`), { code, syscall: 'write', path });
}

describe('a file system refusal no layer below named', () => {
  it('is named by its file and cause, never an internal error', () => {
    expect(fileSystemRefusal(refusal('ENOSPC'))).toMatchObject({ code: 'disk-full', exitCode: 2, message: expect.stringContaining('ledger.json') });
    expect(fileSystemRefusal(refusal('EDQUOT'))).toMatchObject({ code: 'disk-full' });
    expect(fileSystemRefusal(refusal('EACCES'))).toMatchObject({ code: 'not-writable', message: expect.stringContaining('permission denied') });
    expect(fileSystemRefusal(refusal('EROFS'))).toMatchObject({ code: 'disk-read-only' });
    expect(fileSystemRefusal(refusal('EIO'))).toMatchObject({ code: 'disk-error' });
  });

  it('leaves what is not a file system refusal, or names no file, to the internal-error path', () => {
    expect(fileSystemRefusal(new Error('boom'))).toBeUndefined();
    expect(fileSystemRefusal(Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'write' }))).toBeUndefined();
    expect(fileSystemRefusal(refusal('ECONNRESET'))).toBeUndefined();
  });
});
