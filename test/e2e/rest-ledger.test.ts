/** The REST invitation ledger is named by the commands that read it, and a read never makes one. */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerPathFor } from '../../src/store/ledger-file.js';
import { csv, useRestCli } from '../rest/cli.js';

const start = useRestCli();

describe('the REST invitation ledger', () => {
  it('invitations list and send name the ledger they read; one that is not there is said, and not made', async () => {
    const run = await start();
    await writeFile(join(run.dir, 'in.csv'), csv(3));
    const imported = await run.cli(['import-csv', 'in.csv', '--project', 'ITH', '--defer-invites', '--json']);
    expect(imported.code).toBe(0);
    const here = ledgerPathFor(run.jsm.url, { JSM_STATE_DIR: join(run.dir, 'state') });

    const list = await run.cli(['invitations', 'list', '--project', 'ITH', '--json']);
    expect(list.json()).toMatchObject({ ok: true, ledger: { path: here, exists: true }, count: 3 });
    const words = await run.cli(['invitations', 'list', '--project', 'ITH']);
    expect(words.stdout).toContain(`3 invitations in ITH (ledger: ${here})`);

    // Another state folder (another machine, another XDG_STATE_HOME): the ledger there is named as missing.
    const elsewhere = join(run.dir, 'other-state');
    const there = ledgerPathFor(run.jsm.url, { JSM_STATE_DIR: elsewhere });
    const env = { JSM_STATE_DIR: elsewhere };
    const empty = await run.cli(['invitations', 'list', '--project', 'ITH', '--json'], { env });
    expect(empty.json()).toMatchObject({ ok: true, ledger: { path: there, exists: false }, count: 0 });
    expect(empty.stderr).toContain(`no invitation ledger for ${run.jsm.url} at ${there}`);
    const send = await run.cli(['invitations', 'send', '--project', 'ITH', '--outbox', 'out', '--json'], { env });
    expect(send.json()).toMatchObject({ ok: true, ledger: { path: there, exists: false }, invitations: { sent: 0 } });
    expect(send.stderr).toContain('point JSM_STATE_DIR at the folder that holds their ledger');
    expect(await readdir(run.dir)).not.toContain('other-state');
  });
});
