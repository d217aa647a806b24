/** A token that stops working mid-run: the run ends with what it did, its report, and the right hint. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csv, useRestCli } from '../rest/cli.js';

const start = useRestCli();

interface Summary {
  ok: boolean;
  totals: { rows: number; created: number; existing: number; failed: number };
  invitations: { sent: number; pending: number };
  problems: { status: string; reason: string }[];
  problemsOmitted?: number;
  error: { code: string; message: string; hint: string };
}

describe('a token revoked during an import', () => {
  it('ends with the summary of what was done, writes the report, says the token expired or was revoked (exit 3)', async () => {
    // Discovery takes a few calls, then each new row two (search, create) and memberships in fifties.
    const run = await start({ revokeTokenAfter: 260 });
    await writeFile(join(run.dir, 'in.csv'), csv(300));
    const r = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--outbox', 'out', '--report', 'report.csv', '--json']);
    expect(r.code).toBe(3);
    const summary = r.json<Summary>();
    expect(summary.ok).toBe(false);
    expect(summary.error).toMatchObject({ code: 'auth-failed', message: expect.stringContaining('JSM stopped accepting JSM_TOKEN during the run') });
    expect(summary.error.message).toContain('expired or was revoked');
    expect(summary.error.hint).toContain('make a new personal access token');
    expect(summary.error.hint).not.toMatch(/JSM 4\.15|Jira 8\.14/);
    const t = summary.totals;
    // What was done is counted: the customers JSM made members before the token stopped working.
    expect(t.created).toBeGreaterThan(0);
    expect(t.created).toBe(run.jsm.desks[60]?.customers.size);
    expect(t.rows).toBe(300);
    expect(t.created + t.existing + t.failed).toBe(300);
    // Nothing is sent after the refusal: the invitations of the accounts this run made are owed
    // (pending) for the re-run, those not yet made members of the project included.
    const madeNotMember = summary.problems.filter((p) => p.reason.startsWith('the account was created, but it was not made a customer of ITH: the run stopped')).length;
    expect(summary.invitations).toMatchObject({ sent: 0, pending: t.created + madeNotMember });
    expect(summary.problems.at(-1)?.reason).toMatch(/^not processed: the run stopped \(JSM stopped accepting JSM_TOKEN/);
    const report = (await readFile(join(run.dir, 'report.csv'), 'utf8')).trim().split('\n');
    expect(report).toHaveLength(301);
    expect(report.filter((line) => /,created,/.test(line))).toHaveLength(t.created);
  });
});
