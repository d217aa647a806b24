import { Readable } from 'node:stream';
import { describe, expect, it as base } from 'vitest';
import { Interrupts, withIo, type CliIo } from '../../src/cli/io/io.js';

/** Each case runs as code under main() does: with a run's io bound (an empty environment, this folder). */
function it(name: string, fn: () => void | Promise<void>): void {
  const io: CliIo = { stdin: Object.assign(Readable.from([]), { isTTY: false }), stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd(), now: () => Date.now(), interrupts: new Interrupts() };
  base(name, () => withIo(io, [], async () => fn()));
}
import { UsageError } from '../../src/core/errors.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addCustomerSchema, classifyTarget, projectScopedSchema, importCsvSchema, importMailSchema, invitationsSendSchema, parseSettings, projectCreateSchema, setNotificationsSchema } from '../../src/cli/settings/settings.js';

/** What commander hands an import with no flags given (its defaults). */
const defaults = { invite: true, concurrency: '8', organization: [], createOrganizations: true, map: [] };

function failure(schema: Parameters<typeof parseSettings>[0], raw: Record<string, unknown>): { code: string; message: string } {
  try {
    parseSettings(schema, raw);
  } catch (error) {
    if (error instanceof UsageError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('parsed');
}

describe("an import's settings: commander's raw values parsed once into typed values", () => {
  it('types and defaults: numbers from text, booleans for absent flags', () => {
    const settings = parseSettings(importCsvSchema, { ...defaults, concurrency: ' 16 ', maxRowChars: '5000', noise: 'dropped' });
    expect(settings).toMatchObject({ concurrency: 16, maxRowChars: 5000, invitations: 'send', dryRun: false, yes: false, json: false, createOrganizations: true, map: {} });
    expect(settings).not.toHaveProperty('noise');
    // A config file gives numbers as numbers; an absent --concurrency is the default.
    expect(parseSettings(importMailSchema, { concurrency: 4 }).concurrency).toBe(4);
    expect(parseSettings(importMailSchema, {}).concurrency).toBe(8);
    expect(parseSettings(importMailSchema, { invite: false, includeCc: true })).toMatchObject({ invitations: 'none', includeCc: true, replyTo: false });
    expect(parseSettings(importMailSchema, { deferInvites: true }).invitations).toBe('defer');
  });

  it('a bad value: bad-option naming the option, its value and the rule in plain words, never zod texts', () => {
    expect(failure(importCsvSchema, { ...defaults, concurrency: 'abc' })).toEqual({ code: 'bad-option', message: '--concurrency "abc": must be a whole number' });
    expect(failure(importCsvSchema, { ...defaults, concurrency: '0' })).toEqual({ code: 'bad-option', message: '--concurrency "0": must be at least 1' });
    expect(failure(importCsvSchema, { ...defaults, concurrency: '65' })).toEqual({ code: 'bad-option', message: '--concurrency "65": must be at most 64' });
    // A negative number is a whole number: what is wrong is that it is below the least.
    expect(failure(importCsvSchema, { ...defaults, concurrency: '-1' })).toEqual({ code: 'bad-option', message: '--concurrency "-1": must be at least 1' });
    expect(failure(importCsvSchema, { ...defaults, maxRowChars: '1e6' })).toEqual({ code: 'bad-option', message: '--max-row-chars "1e6": must be a whole number' });
    expect(failure(importMailSchema, { exclude: 'x' })).toEqual({ code: 'bad-option', message: '--exclude "x": is not a valid value' });
  });

  it('checks across options keep their own codes: conflicting-options, bad-report', () => {
    expect(failure(importCsvSchema, { ...defaults, invite: false, deferInvites: true })).toEqual({
      code: 'conflicting-options',
      message: '--no-invite and --defer-invites contradict each other: give one',
    });
    expect(failure(importMailSchema, { report: 'out.txt' })).toMatchObject({ code: 'bad-report', message: expect.stringMatching(/^--report out\.txt: the file name must end in \.csv or \.json/) });
  });
});

describe('add-customer and invitations send: the same one parse', () => {
  it('add-customer: one password source, and --no-invite with --defer-invites, are conflicting-options', () => {
    expect(failure(addCustomerSchema, { passwordStdin: true, generatePassword: true })).toEqual({
      code: 'conflicting-options',
      message: 'give one of --password-stdin, --password-file and --generate-password',
    });
    expect(failure(addCustomerSchema, { invite: false, deferInvites: true })).toMatchObject({ code: 'conflicting-options' });
    expect(parseSettings(addCustomerSchema, { email: 'a@example.com', invite: true })).toMatchObject({ email: 'a@example.com', invitations: 'send', generatePassword: false, organization: [], createOrganizations: true });
  });

  it('invitations send: absent flags are false; --again needs --email, --failed refuses it (contradictions.ts)', () => {
    expect(parseSettings(invitationsSendSchema, { project: 'ITH', failed: true })).toMatchObject({ project: 'ITH', failed: true, inDoubt: false, yes: false });
    expect(failure(invitationsSendSchema, { again: true })).toMatchObject({ code: 'conflicting-options', message: expect.stringMatching(/^--again sends one person's invitation once more/) });
    expect(failure(invitationsSendSchema, { failed: true, email: 'a@example.com' })).toMatchObject({ code: 'conflicting-options', message: expect.stringMatching(/^--failed is for the whole project/) });
  });
});

describe('project create and set-notifications', () => {
  it('project create: the key by its label, the name folded, an empty name refused', () => {
    expect(parseSettings(projectCreateSchema, { key: ' ITH ', name: '  IT   Help ' }, { key: 'project key' })).toMatchObject({ key: 'ITH', name: 'IT Help', json: false });
    let message = '';
    try {
      parseSettings(projectCreateSchema, { key: 'ith', name: 'IT' }, { key: 'project key' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^project key "ith": a project key is 2 to 10 characters/);
    expect(failure(projectCreateSchema, { key: 'ITH', name: ' \t ' })).toEqual({ code: 'bad-option', message: '--name is empty: give the name customers will see' });
    // "IT \u202EpleH" displays as "IT Help" in every invitation's subject.
    expect(failure(projectCreateSchema, { key: 'ITH', name: 'IT \u202EpleH' })).toEqual({
      code: 'bad-option',
      message: "--name: the name 'IT U+202EpleH' contains U+202E: bidirectional overrides and isolates make a name display as something else; remove them from the name",
    });
    // An encoded word shows decoded in a mail program's subject line; U+FFFD is text decoded wrong.
    const encoded = `=?utf-8?b?${Buffer.from('IT \u202eTEN').toString('base64')}?=`;
    expect(failure(projectCreateSchema, { key: 'ITH', name: encoded })?.message).toMatch(/^--name: .*holds a MIME encoded word/);
    expect(failure(projectCreateSchema, { key: 'ITH', name: 'IT \uFFFDHelp' })?.message).toMatch(/^--name: .*could not be decoded/);
    expect(parseSettings(projectCreateSchema, { key: 'ITH', name: 'فريق الدعم' }, {})).toMatchObject({ name: 'فريق الدعم' });
  });

  it('set-notifications: neither way given is missing-option; either way is a boolean', () => {
    expect(failure(setNotificationsSchema, { project: 'ITH' })).toMatchObject({ code: 'missing-option', message: expect.stringMatching(/^say which way/) });
    expect(parseSettings(setNotificationsSchema, { verification: false }).verification).toBe(false);
  });
});

describe('--project: one parse for every command', () => {
  it('trimmed and upper-cased; empty is none; a bad key is bad-option naming what was typed', () => {
    expect(parseSettings(projectScopedSchema, { project: ' ith ' }).project).toBe('ITH');
    expect(parseSettings(projectScopedSchema, { project: '  ' }).project).toBeUndefined();
    expect(failure(projectScopedSchema, { project: 'it-h' })).toMatchObject({ code: 'bad-option', message: expect.stringMatching(/^--project "it-h": a project key is 2 to 10 characters/) });
    expect(failure(importCsvSchema, { ...defaults, project: '1AB' })).toMatchObject({ code: 'bad-option', message: expect.stringMatching(/^--project "1AB": /) });
  });
});

describe('the domain values a command gets: parsed once, before the input or the target is opened', () => {
  it('--target is classified in one place: the local store, JSM Data Center, or JSM Cloud (atlassian.net)', () => {
    expect(parseSettings(projectScopedSchema, {}).target).toEqual({ kind: 'local', path: './jsm-store.json', given: false });
    expect(parseSettings(projectScopedSchema, { target: ' store.json ' }).target).toEqual({ kind: 'local', path: 'store.json', given: true });
    expect(parseSettings(projectScopedSchema, { target: 'https://jira.example.com/jira' }).target).toEqual({ kind: 'dc', baseUrl: 'https://jira.example.com/jira' });
    expect(parseSettings(projectScopedSchema, { target: 'https://acme.atlassian.net' }).target).toEqual({ kind: 'cloud', baseUrl: 'https://acme.atlassian.net' });
    // A host that only ends in the same letters is not Atlassian's.
    expect(parseSettings(projectScopedSchema, { target: 'https://notatlassian.net' }).target).toMatchObject({ kind: 'dc' });
    expect(failure(projectScopedSchema, { target: 'ftp://example.com/store.json' })).toEqual({ code: 'bad-target', message: '--target ftp://example.com/store.json: use a file path for the local store, or an http(s):// URL for JSM' });
    expect(classifyTarget('HTTP://jira.example.com')).toEqual({ kind: 'dc', baseUrl: 'HTTP://jira.example.com' });
  });

  it('--no-invite and --defer-invites are one setting: invitations send, defer or none', () => {
    expect(parseSettings(importCsvSchema, { ...defaults }).invitations).toBe('send');
    expect(parseSettings(importCsvSchema, { ...defaults, invite: false }).invitations).toBe('none');
    expect(parseSettings(addCustomerSchema, { deferInvites: true }).invitations).toBe('defer');
    expect(parseSettings(importCsvSchema, { ...defaults })).not.toHaveProperty('invite');
  });

  it('the template folder is read and checked at parse time (before the CSV or the store is opened)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jsm-settings-'));
    try {
      expect(failure(importCsvSchema, { ...defaults, templateDir: join(dir, 'nope') })).toMatchObject({ code: 'missing-template-dir', message: expect.stringMatching(/does not exist$/) });
      // import-mail sends verification messages: a folder without verify.txt cannot serve it.
      writeFileSync(join(dir, 'welcome.txt'), readFileSync('templates/welcome.txt'));
      expect(parseSettings(importCsvSchema, { ...defaults, templateDir: dir }).mail.templates.dir).toBe(dir);
      expect(failure(importMailSchema, { templateDir: dir })).toMatchObject({ code: 'missing-template', message: expect.stringMatching(/has no verify\.txt/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the mail route: SMTP with its URL checked, else the outbox beside the local store; the raw options are gone', () => {
    const outbox = parseSettings(importCsvSchema, { ...defaults, target: 'data/store.json' });
    expect(outbox.mail).toMatchObject({ outbox: resolve('data/outbox'), outboxGiven: false });
    expect(outbox.mail.smtp).toBeUndefined();
    expect(outbox).not.toHaveProperty('smtp');
    expect(outbox).not.toHaveProperty('templateDir');
    const smtp = parseSettings(invitationsSendSchema, { smtp: 'smtp://127.0.0.1:2525', mailFrom: 'help@example.com', outbox: 'out' });
    expect(smtp.mail).toMatchObject({ smtp: { url: 'smtp://127.0.0.1:2525' }, from: 'help@example.com', outbox: resolve('out'), outboxGiven: true });
    expect(failure(importCsvSchema, { ...defaults, smtp: 'http://mail.example.com' }).code).toBe('bad-smtp-url');
  });

  it('--organization is checked with the settings: an empty one (an unset variable) is bad-organization', () => {
    expect(parseSettings(importCsvSchema, { ...defaults, organization: ['Acme', 'acme', 'Beta'] }).organization).toEqual(['Acme', 'Beta']);
    expect(failure(importCsvSchema, { ...defaults, organization: [' '] })).toMatchObject({ code: 'bad-organization', message: '--organization is empty' });
  });

  it('CSV and mailbox options are domain values: --map as field -> header, --exclude as the exclusions', () => {
    expect(parseSettings(importCsvSchema, { ...defaults, map: ['email=Customer E-mail'] }).map).toEqual({ email: 'Customer E-mail' });
    expect(failure(importCsvSchema, { ...defaults, map: ['email'] })).toMatchObject({ code: 'bad-map' });
    const mail = parseSettings(importMailSchema, { exclude: ['Help@Example.com', '@example.org'] });
    expect(mail.exclude).toEqual({ addresses: new Set(['help@example.com']), domains: new Set(['example.org']), subdomainsOf: new Set() });
    expect(parseSettings(importMailSchema, {}).exclude).toBeUndefined();
    expect(failure(importMailSchema, { exclude: ['nobody'] })).toMatchObject({ code: 'bad-option', message: expect.stringMatching(/^--exclude "nobody": give an address/) });
  });

  it('invitations send --email: one address, trimmed, checked with the settings (after the contradictions)', () => {
    expect(parseSettings(invitationsSendSchema, { email: ' maria@example.com ' }).email).toBe('maria@example.com');
    expect(failure(invitationsSendSchema, { email: 'maria at example.com' })).toMatchObject({ code: 'bad-email', message: expect.stringMatching(/^--email: /) });
    expect(failure(invitationsSendSchema, { email: 'maria at example.com', failed: true }).code).toBe('conflicting-options');
  });

  it('JSM_LOCK_WAIT comes from the environment, in seconds; one that is not a number is refused, naming it', () => {
    expect(parseSettings(projectScopedSchema, {}, {}, { JSM_LOCK_WAIT: '2.5' }).lockWait).toBe(2500);
    expect(parseSettings(projectScopedSchema, {}, {}, {}).lockWait).toBeUndefined();
    expect(() => parseSettings(projectScopedSchema, {}, {}, { JSM_LOCK_WAIT: 'soon' })).toThrow(/^JSM_LOCK_WAIT "soon": must be a number of seconds/);
  });
});
