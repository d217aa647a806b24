import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { shape, storeWith } from './shape.js';

/**
 * `--json` prints exactly one object on stdout for every command, on success and on error; its
 * keys are the contract (docs/contract.md). One spawn per behaviour.
 */
let dir = '';

beforeAll(async () => {
  ({ dir } = await storeWith(['ITH']));
  await writeFile(join(dir, 'ok.csv'), 'email,full name\nann@example.com,Ann Lee\nbob@example.com,Bob Ray\n');
  await writeFile(join(dir, 'mail.mbox'), 'From cy@example.com Mon Jan  1 00:00:00 2024\nFrom: Cy Doe <cy@example.com>\nSubject: help\n\nplease\n');
});

async function json(args: string[], env: Record<string, string> = {}): Promise<{ r: CliResult; body: Record<string, unknown> }> {
  const r = await runCli([...args, '--json'], { cwd: dir, env });
  // Exactly one JSON object and nothing else on stdout.
  const body = r.json();
  expect(typeof body).toBe('object');
  return { r, body };
}

const errorShape = (command: string, code: string) => ({
  ok: false,
  command,
  error: { code, message: expect.any(String) },
});

describe('every command prints one JSON object (success)', () => {
  it('import-csv', async () => {
    const { r, body } = await json(['import-csv', 'ok.csv', '--project', 'ITH', '--defer-invites']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "dryRun": "boolean",
        "invitations": {
          "failed": "number",
          "inDoubt": "number",
          "outbox": "string",
          "pending": "number",
          "sent": "number",
          "suppressed": "number",
          "suppressedBy": "null",
        },
        "ok": "boolean",
        "organizations": {
          "addedToProject": "number",
          "created": "number",
          "memberships": "number",
        },
        "problems": [],
        "project": "string",
        "target": "string",
        "totals": {
          "created": "number",
          "duplicate": "number",
          "existing": "number",
          "failed": "number",
          "invalid": "number",
          "rows": "number",
        },
      }
    `);
  });

  it('import-mail', async () => {
    const { r, body } = await json(['import-mail', 'mail.mbox', '--project', 'ITH', '--no-invite']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "dryRun": "boolean",
        "invitations": {
          "failed": "number",
          "inDoubt": "number",
          "outbox": "string",
          "pending": "number",
          "sent": "number",
          "suppressed": "number",
          "suppressedBy": "string",
        },
        "messages": {
          "files": "number",
          "ignoredFiles": [],
          "read": "number",
          "skipped": "number",
          "skippedFolders": [],
        },
        "ok": "boolean",
        "organizations": {
          "addedToProject": "number",
          "created": "number",
          "memberships": "number",
        },
        "problems": [],
        "project": "string",
        "skipped": [],
        "target": "string",
        "totals": {
          "created": "number",
          "duplicate": "number",
          "existing": "number",
          "failed": "number",
          "invalid": "number",
          "rows": "number",
        },
      }
    `);
  });

  it('add-customer', async () => {
    const { r, body } = await json(['add-customer', '--project', 'ITH', '--email', 'dee@example.com', '--name', 'Dee Fox', '--no-invite']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "dryRun": "boolean",
        "invitations": {
          "failed": "number",
          "inDoubt": "number",
          "outbox": "string",
          "pending": "number",
          "sent": "number",
          "suppressed": "number",
          "suppressedBy": "string",
        },
        "ok": "boolean",
        "organizations": {
          "addedToProject": "number",
          "created": "number",
          "memberships": "number",
        },
        "problems": [],
        "project": "string",
        "target": "string",
        "totals": {
          "created": "number",
          "duplicate": "number",
          "existing": "number",
          "failed": "number",
          "invalid": "number",
          "rows": "number",
        },
      }
    `);
  });

  it('project list', async () => {
    const { r, body } = await json(['project', 'list']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "ok": "boolean",
        "projects": [
          {
            "key": "string",
            "name": "string",
            "sendVerificationEmails": "boolean",
          },
        ],
        "target": "string",
      }
    `);
  });

  it('organizations list', async () => {
    await runCli(['import-csv', 'ok.csv', '--project', 'ITH', '--organization', 'Acme Corp', '--no-invite'], { cwd: dir });
    const { r, body } = await json(['organizations', 'list', '--project', 'ITH']);
    expect(r.code).toBe(0);
    expect(body.organizations).toEqual([{ name: 'Acme Corp', members: 2 }]);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "count": "number",
        "ok": "boolean",
        "organizations": [
          {
            "members": "number",
            "name": "string",
          },
        ],
        "project": "string",
        "target": "string",
      }
    `);
  });

  it('project show', async () => {
    const { r, body } = await json(['project', 'show']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "customers": "number",
        "invitations": {
          "failed": "number",
          "inDoubt": "number",
          "pending": "number",
          "sending": "number",
          "sent": "number",
          "suppressed": "number",
        },
        "ok": "boolean",
        "project": "string",
        "projectDetails": {
          "key": "string",
          "name": "string",
          "sendVerificationEmails": "boolean",
        },
        "target": "string",
      }
    `);
    expect((body.invitations as Record<string, number>).pending).toBe(2);
  });

  it('project create (the same key and name again: no change)', async () => {
    const { r, body } = await json(['project', 'create', 'ITH', '--name', 'Project ITH']);
    expect(r.code).toBe(0);
    expect(body.created).toBe(false);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "created": "boolean",
        "ok": "boolean",
        "project": "string",
        "projectDetails": {
          "key": "string",
          "name": "string",
          "sendVerificationEmails": "boolean",
        },
        "target": "string",
      }
    `);
  });

  it('project set-notifications', async () => {
    const { r, body } = await json(['project', 'set-notifications', '--verification']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "changed": "boolean",
        "command": "string",
        "notes": [],
        "ok": "boolean",
        "project": "string",
        "projectDetails": {
          "key": "string",
          "name": "string",
          "sendVerificationEmails": "boolean",
        },
        "target": "string",
      }
    `);
  });

  it('customers list', async () => {
    const { r, body } = await json(['customers', 'list']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "count": "number",
        "customers": [
          {
            "createdAt": "string",
            "email": "string",
            "fullName": "string",
            "mustChangePassword": "boolean",
            "passwordSet": "boolean",
          },
        ],
        "ok": "boolean",
        "project": "string",
        "target": "string",
      }
    `);
  });

  it('invitations list', async () => {
    const { r, body } = await json(['invitations', 'list']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "count": "number",
        "invitations": [
          {
            "deferred": "boolean",
            "email": "string",
            "fullName": "string",
            "kind": "string",
            "messageId": "null",
            "reason": "null",
            "status": "string",
            "updatedAt": "string",
          },
        ],
        "ledger": {
          "exists": "boolean",
          "path": "string",
        },
        "ok": "boolean",
        "project": "string",
        "target": "string",
      }
    `);
  });

  it('invitations send (to the outbox beside the store)', async () => {
    const { r, body } = await json(['invitations', 'send', '--mail-from', 'help@example.com']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "invitations": {
          "failed": "number",
          "inDoubt": "number",
          "outbox": "string",
          "pending": "number",
          "sent": "number",
          "suppressed": "number",
          "suppressedBy": "null",
        },
        "ledger": {
          "exists": "boolean",
          "path": "string",
        },
        "ok": "boolean",
        "problems": [],
        "project": "string",
        "target": "string",
      }
    `);
  });

  it('invitations preview', async () => {
    const { r, body } = await json(['invitations', 'preview', '--email', 'ann@example.com']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "customer": "string",
        "email": "string",
        "kind": "string",
        "language": "null",
        "message": {
          "from": "string",
          "html": "string",
          "messageId": "string",
          "subject": "string",
          "text": "string",
          "to": "string",
        },
        "ok": "boolean",
        "project": "string",
        "sent": "boolean",
        "target": "string",
        "templateLanguage": "null",
        "templates": {
          "html": "string",
          "text": "string",
        },
      }
    `);
  });

  it('store unlock (not locked)', async () => {
    const { r, body } = await json(['store', 'unlock']);
    expect(r.code).toBe(0);
    expect(shape(body)).toMatchInlineSnapshot(`
      {
        "command": "string",
        "file": "string",
        "lock": "string",
        "ok": "boolean",
        "owner": "null",
        "removed": "boolean",
      }
    `);
  });
});

describe('every command prints one JSON object (an error each)', () => {
  const cases: [string, string[], string, number][] = [
    ['import-csv', ['import-csv', 'missing.csv', '--project', 'ITH'], 'unreadable-input', 2],
    ['import-mail', ['import-mail', 'mail.mbox', '--project', 'NOPE'], 'unknown-project', 3],
    ['add-customer', ['add-customer', '--project', 'ITH', '--email', 'not-an-address', '--name', 'X', '--no-invite'], '', 1],
    ['project list', ['project', 'list', '--target', 'nowhere/jsm-store.json'], 'no-store', 2],
    ['project show', ['project', 'show', '--project', '1X'], 'bad-option', 2],
    ['project create', ['project', 'create', 'ITH', '--name', 'Another Name'], 'project-exists', 2],
    ['project set-notifications', ['project', 'set-notifications'], 'missing-option', 2],
    ['customers list', ['customers', 'list', '--project', 'NOPE'], 'unknown-project', 3],
    ['invitations list', ['invitations', 'list', '--status', 'lost'], 'bad-option', 2],
    ['invitations send', ['invitations', 'send', '--smtp', 'not a url'], 'bad-smtp-url', 2],
    ['invitations preview', ['invitations', 'preview'], 'missing-option', 2],
    ['store unlock', ['store', 'unlock', '--bogus'], 'unknown-option', 2],
    ['organizations list', ['organizations', 'list', '--project', 'NOPE'], 'unknown-project', 3],
  ];
  it('a command group with no command (`project --json`) is missing-command, naming its commands', async () => {
    for (const group of ['project', 'store', 'invitations']) {
      const { r, body } = await json([group]);
      expect(r.code).toBe(2);
      expect(body).toMatchObject({ ok: false, command: group, error: { code: 'missing-command', message: expect.stringContaining(`${group} needs one of its commands: `) } });
    }
  });

  it('commander\'s "(Did you mean …?)" is the hint, not a second line of the message', async () => {
    for (const [args, hint] of [[['project', 'shwo'], 'Did you mean show?'], [['import-csv', 'x.csv', '--dry-rn'], 'Did you mean --dry-run?']] as const) {
      const { r, body } = await json([...args]);
      expect(r.code).toBe(2);
      expect(body.error).toMatchObject({ hint });
      expect((body.error as { message: string }).message).not.toContain('\n');
    }
  });

  for (const [command, args, code, exit] of cases) {
    it(`${command}: ${code || 'a row error'}`, async () => {
      const { r, body } = await json(args);
      expect(r.code).toBe(exit);
      if (code === '') {
        // A bad row is not an error of the command: the summary lists it in problems.
        expect(body.ok).toBe(false);
        expect((body.problems as unknown[]).length).toBe(1);
      } else {
        expect(body).toMatchObject(errorShape(command, code));
        expect(Object.keys(body)).toEqual(['ok', 'command', 'error']);
        const keys = Object.keys(body.error as object);
        expect(keys.filter((k) => k !== 'hint')).toEqual(['code', 'message']);
      }
    });
  }
});
