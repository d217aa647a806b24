/** import-mail on a Maildir, as the built CLI prints it. */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';

const MAIL = fileURLToPath(new URL('../../fixtures/mail', import.meta.url));
const projectDir = useProjectDir((d) => cp(join(MAIL, 'maildir'), join(d, 'maildir'), { recursive: true }));
let dir: string;
beforeEach(() => {
  dir = projectDir();
});

describe('import-mail of a Maildir', () => {
  it('says which folders it did not read, and lists them in the JSON object', async () => {
    const r = await runCli(['import-mail', 'maildir', '--project', 'ITH', '--exclude', '@*.example.com', '--no-invite', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      totals: { rows: 3, created: 3 },
      messages: { files: 3, read: 3, skippedFolders: ['maildir/.Drafts', 'maildir/.Junk', 'maildir/.Sent', 'maildir/.Trash'] },
    });
    const text = await runCli(['import-mail', 'maildir', '--project', 'ITH', '--exclude', '@*.example.com', '--no-invite', '--dry-run'], { cwd: dir });
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('not read: maildir/.Drafts, maildir/.Junk, maildir/.Sent, maildir/.Trash (junk, spam, trash, sent and drafts folders are skipped');
  });
});
