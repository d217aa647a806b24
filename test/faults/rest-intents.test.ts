/**
 * Intents left by a killed REST run, resolved from the accounts: created by it -> owed (pending);
 * never created -> nothing owed, but kept while the killed run's create may still land; existed
 * before (settled) -> nothing. In process, against the JSM double, with files as a killed run leaves them.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvitationRecord } from '../../src/core/types.js';
import { IntentLog, readLeftIntents } from '../../src/store/intents.js';
import { useRest } from '../rest/helpers.js';

const rest = useRest();

const record = (email: string, extra: Partial<InvitationRecord> = {}): InvitationRecord => ({
  project: 'ITH', key: email, email, fullName: `Name ${email}`, kind: 'welcome', status: 'pending', deferred: false,
  mustChangePassword: false, updatedAt: new Date().toISOString(), ...extra,
});

/** The file a killed process (a pid that cannot be alive) leaves on this host. */
async function leaveIntents(ledgerPath: string, lines: unknown[], torn = ''): Promise<string> {
  const dir = `${ledgerPath}.intents`;
  await mkdir(dir, { recursive: true });
  const file = `${dir}/${hostname().replace(/[^a-zA-Z0-9.]/g, '_')}-4194999-0badc0de.jsonl`;
  await writeFile(file, lines.map((l) => `${JSON.stringify(l)}\n`).join('') + torn);
  return file;
}
const intent = (r: InvitationRecord, username = r.email) => ({ t: 'intent', record: r, username, at: new Date().toISOString() });

describe('intents left by a killed REST run', () => {
  it('an account made by the killed run is owed its invitation; a settled one and a missing one are not', async () => {
    const jsm = await rest.double({ existingUsers: [
      { name: 'made@example.com' },
      { name: 'unproven@example.com' },
      { name: 'before@example.com' },
      { name: 'jsmith', emailAddress: 'sue@example.com' },
    ] });
    const target = await rest.target(jsm);
    const file = await leaveIntents(target.ledgerPath, [
      { ...intent(record('made@example.com')), made: 'answered' },
      // Its create was under way at the kill: the account exists, but another run may have made it.
      intent(record('unproven@example.com')),
      intent(record('deferred@example.com', { deferred: true })),
      intent(record('before@example.com')),
      { t: 'settled', p: 'ITH', k: 'before@example.com' },
      intent(record('never@example.com')),
      // An account with this email under another username is not the one the killed run was creating.
      intent(record('sue@example.com')),
    ], '{"t":"intent","rec');
    await target.getProject('ITH');
    expect(target.ledger.get('ITH', 'made@example.com')).toMatchObject({ status: 'pending', deferred: false });
    expect(target.ledger.get('ITH', 'unproven@example.com')).toMatchObject({ status: 'sending', reason: expect.stringContaining('invitations send --in-doubt') });
    expect(target.ledger.get('ITH', 'before@example.com')).toBeUndefined();
    expect(target.ledger.get('ITH', 'never@example.com')).toBeUndefined();
    expect(target.ledger.get('ITH', 'sue@example.com')).toBeUndefined();
    // Only the intents whose account may still appear (no account under the username meant) are kept.
    const kept = (await readFile(file, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { record: InvitationRecord }).record.email);
    expect(kept.sort()).toEqual(['deferred@example.com', 'never@example.com', 'sue@example.com']);
  });

  it("a create the killed run sent that lands after the re-run started is still owed, found at the re-run's end", async () => {
    const jsm = await rest.double();
    const target = await rest.target(jsm);
    // (Sent and never answered: the killed run had said so.)
    await leaveIntents(target.ledgerPath, [{ ...intent(record('late@example.com')), made: 'unanswered' }]);
    await target.getProject('ITH');
    expect(target.ledger.get('ITH', 'late@example.com')).toBeUndefined();
    // The straggler lands on the server now.
    jsm.users.set('late@example.com', { name: 'late@example.com', key: 'JIRAUSER1', emailAddress: 'late@example.com', displayName: 'Late', active: true, createdVia: 'customer', applicationKeys: [] });
    await target.flush();
    expect(target.ledger.get('ITH', 'late@example.com')).toMatchObject({ status: 'pending' });
    expect(await readdir(`${target.ledgerPath}.intents`)).toEqual([]);
  });
});

describe('whose intent file is whose', () => {
  it("a live process's file is never read as left; once its owner has closed (the same pid still running), it is", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jsm-intents-'));
    try {
      const ledger = join(dir, 'x.ledger.json');
      const owner = new IntentLog(ledger);
      await owner.write([{ record: record('open@example.com'), username: 'open@example.com' }]);
      // The same pid as the reader (as pid 1 in two containers): not a proof of anything.
      expect(owner.file).not.toContain(`-${process.pid}-`);
      const reader = new IntentLog(ledger);
      expect(await readLeftIntents(reader)).toEqual([]);
      // The owner ends with its intent unresolved (a create whose fate it never learned).
      const file = owner.file;
      await owner.close(() => false);
      const left = await readLeftIntents(reader);
      expect(left).toMatchObject([{ file, ended: true, intents: [{ username: 'open@example.com' }] }]);
      // Anything it writes after goes to a file of its own, never to one another run may be rewriting.
      expect(owner.file).not.toBe(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a create whose fate is unknown', () => {
  it('(sent, never answered, retries refused with 503, no account yet) stays owed: the re-run that finds the account invites it', async () => {
    const jsm = await rest.double({ faults: { failNext: [{ method: 'POST', path: '/rest/servicedeskapi/customer', kind: 'cut-before-write' }], status503Rate: 1 } });
    const first = await rest.target(jsm);
    const project = await first.getProject('ITH');
    const owed = record('late@example.com');
    const [outcome] = await first.provision(project, [{ email: 'late@example.com', key: 'late@example.com', fullName: 'Late', exists: null, invitation: owed }]);
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('its invitation stays owed') });
    await first.close();
    // The create lands on the server after the run gave up on it.
    jsm.setFaults({ status503Rate: 0 });
    jsm.users.set('late@example.com', { name: 'late@example.com', key: 'JIRAUSER7', emailAddress: 'late@example.com', displayName: 'Late', active: true, createdVia: 'customer', applicationKeys: [] });
    const again = await rest.target(jsm, { env: { JSM_STATE_DIR: join(first.ledgerPath, '..') } });
    await again.getProject('ITH');
    expect(again.ledger.get('ITH', 'late@example.com')).toMatchObject({ status: 'pending' });
  });
});

describe('intents whose create can no longer land', () => {
  const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const user = (email: string) => ({ name: email, key: `JIRAUSER-${email}`, emailAddress: email, displayName: email, active: true, createdVia: 'seed' as const, applicationKeys: [] });

  it('one still missing long after the cut-off run is dropped: who becomes a customer another way later is never invited', async () => {
    const jsm = await rest.double();
    const first = await rest.target(jsm);
    const file = await leaveIntents(first.ledgerPath, [{ ...intent(record('elsewhere@example.com')), at: ago(20) }]);
    await first.getProject('ITH');
    await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    await first.close();
    // Days later, an agent makes them a customer from JSM's own screens.
    jsm.users.set('elsewhere@example.com', user('elsewhere@example.com'));
    const later = await rest.target(jsm, { env: { JSM_STATE_DIR: join(first.ledgerPath, '..') } });
    await later.getProject('ITH');
    expect(later.ledger.get('ITH', 'elsewhere@example.com')).toBeUndefined();
  });

  it('one seen missing and found only after its create could have landed is listed in doubt, not sent; one never looked for is owed', async () => {
    const jsm = await rest.double({ existingUsers: [{ name: 'maybe@example.com' }, { name: 'made@example.com' }] });
    const target = await rest.target(jsm);
    await leaveIntents(target.ledgerPath, [
      { ...intent(record('maybe@example.com')), at: ago(30), absent: true },
      // A run killed after its create was answered, re-run the next day: nothing says it was made another way.
      { ...intent(record('made@example.com')), at: ago(24 * 60), made: 'answered' },
    ]);
    await target.getProject('ITH');
    expect(target.ledger.get('ITH', 'maybe@example.com')).toMatchObject({ status: 'sending', reason: expect.stringContaining('invitations send --in-doubt') });
    expect(target.ledger.inDoubt('ITH')).toBe(1);
    expect(target.ledger.get('ITH', 'made@example.com')).toMatchObject({ status: 'pending' });
  });

  it('one missing within that time is kept, marked as looked for', async () => {
    const jsm = await rest.double();
    const target = await rest.target(jsm);
    const file = await leaveIntents(target.ledgerPath, [{ ...intent(record('soon@example.com')), at: ago(2) }]);
    await target.getProject('ITH');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ record: { email: 'soon@example.com' }, absent: true });
  });
});
