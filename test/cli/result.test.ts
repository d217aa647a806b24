import { Readable } from 'node:stream';
import { describe, expect, it as base } from 'vitest';
import { Interrupts, withIo, type CliIo } from '../../src/cli/io/io.js';

/** Each case runs as code under main() does: with a run's io bound (an empty environment, this folder). */
function it(name: string, fn: () => void | Promise<void>): void {
  const io: CliIo = { stdin: Object.assign(Readable.from([]), { isTTY: false }), stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd(), now: () => Date.now(), interrupts: new Interrupts() };
  base(name, () => withIo(io, [], async () => fn()));
}
import { TargetError, UsageError } from '../../src/core/errors.js';
import { Output } from '../../src/cli/io/output.js';
import { exitCodeOf, render, renderError } from '../../src/cli/io/result.js';

/** An Output writing into strings, as a pipe (no terminal, no colour). */
function recorded(options: { json: boolean; quiet?: boolean }) {
  const written = { stdout: '', stderr: '' };
  const stream = (key: 'stdout' | 'stderr') => ({ isTTY: false, write: (text: string) => ((written[key] += text), true) }) as never;
  return { out: new Output({ json: options.json, quiet: options.quiet ?? false }, stream('stdout'), stream('stderr')), written };
}

describe('the one result path: a command returns its result, render adds ok and command', () => {
  it('--json: one object, ok and command first, ok true exactly when the exit code is 0', () => {
    const { out, written } = recorded({ json: true });
    expect(render(out, 'customers list', { outcome: 'done', json: { target: 'local', project: 'ITH', count: 0 }, text: 'ITH has no customers yet' })).toBe(0);
    expect(Object.keys(JSON.parse(written.stdout))).toEqual(['ok', 'command', 'target', 'project', 'count']);
    expect(JSON.parse(written.stdout)).toEqual({ ok: true, command: 'customers list', target: 'local', project: 'ITH', count: 0 });
    const failed = recorded({ json: true });
    expect(render(failed.out, 'customers remove', { outcome: 'problems', json: { problems: [1] } })).toBe(1);
    expect(JSON.parse(failed.written.stdout)).toEqual({ ok: false, command: 'customers remove', problems: [1] });
  });

  it('words: the text on stdout; --quiet keeps only the words of a failed result, on stderr; errors are said after', () => {
    const words = recorded({ json: false });
    render(words.out, 'invitations send', { outcome: 'done', json: {}, text: 'all sent', notes: ['a note'] });
    expect(words.written).toEqual({ stdout: 'all sent\n', stderr: 'a note\n' });
    const quiet = recorded({ json: false, quiet: true });
    const stopped = new UsageError('store-full', 'the disk is full');
    expect(render(quiet.out, 'invitations send', { outcome: 'problems', json: {}, text: 'one failed', quietWords: () => 'one failed', notes: ['not said'], errors: [stopped] })).toBe(1);
    expect(quiet.written).toEqual({ stdout: '', stderr: 'one failed\nerror: the disk is full\n' });
    const quietOk = recorded({ json: false, quiet: true });
    render(quietOk.out, 'invitations send', { outcome: 'done', json: {}, text: 'all sent', quietWords: () => 'all sent' });
    expect(quietOk.written).toEqual({ stdout: '', stderr: '' });
  });

  it('outcomes map to the exit codes of docs/contract.md in one table', () => {
    expect((['done', 'problems', 'unusable', 'refused', 'stopped'] as const).map(exitCodeOf)).toEqual([0, 1, 2, 3, 130]);
  });

  it('an error that stopped a command: its words on stderr, the error object under --json, its exit code', () => {
    const { out, written } = recorded({ json: true });
    expect(renderError(out, 'project show', new TargetError('unknown-project', 'no project XYZ', 'check --project'))).toBe(3);
    expect(JSON.parse(written.stdout)).toEqual({ ok: false, command: 'project show', error: { code: 'unknown-project', message: 'no project XYZ', hint: 'check --project' } });
    expect(written.stderr).toBe('error: no project XYZ\n  → check --project\n');
  });
});
