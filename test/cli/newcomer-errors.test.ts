import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { storeWith } from '../contract/shape.js';
import { startJsmDouble } from '../support/jsm-double.js';

/**
 * The mistakes a first-time user makes most, from the README and --help alone: each error names
 * what was wrong and the fix, in words on stderr and in `error.hint` under --json (exit 2).
 */
let dir = '';

beforeEach(async () => {
  ({ dir } = await storeWith(['ITH']));
  await writeFile(join(dir, 'people.csv'), 'email,name\nann@example.com,Ann Lee\n');
});

interface Failure {
  ok: boolean;
  command: string;
  error: { code: string; message: string; hint?: string };
}

async function both(args: string[]): Promise<{ words: string; failure: Failure }> {
  const inWords = await runCli(args, { cwd: dir });
  expect(inWords.code).toBe(2);
  expect(inWords.stdout).toBe('');
  const inJson = await runCli([...args, '--json'], { cwd: dir });
  expect(inJson.code).toBe(2);
  const failure = inJson.json<Failure>();
  expect(failure.ok).toBe(false);
  return { words: inWords.stderr, failure };
}

describe('the command line as a newcomer types it', () => {
  it('a name with a space, unquoted: the extra word is named, and the quotes are the fix', async () => {
    const { words, failure } = await both(['add-customer', '--project', 'ITH', '--email', 'fred@example.com', '--name', 'Fred', 'Jones']);
    expect(words).toContain('"Jones"');
    expect(words).toMatch(/→ .*quotes/);
    expect(failure.error.code).toBe('too-many-arguments');
    expect(failure.error.hint).toMatch(/quotes/);
  });

  it('a second file given to import-csv: it reads one file', async () => {
    const { words, failure } = await both(['import-csv', 'people.csv', 'more.csv', '--project', 'ITH']);
    expect(words).toContain('"more.csv"');
    expect(words).toContain('→ ');
    expect(failure.error.hint).toBeDefined();
  });

  it('apply given --project: apply takes the project (and the target) from the plan, said with the fix, not a bare "unknown option" or a guess', async () => {
    for (const project of [['--project', 'ITH'], ['--project=ITH']]) {
      const { words, failure } = await both(['apply', 'plan.json', ...project]);
      expect(words).toContain('apply takes the project (and the target) from the plan');
      expect(words).toMatch(/→ leave out --project/);
      expect(words).not.toMatch(/Did you mean|ITH/);
      expect(failure.error.code).toBe('unknown-option');
      expect(failure.error.message).toContain('apply takes the project (and the target) from the plan');
      expect(failure.error.hint).toMatch(/^leave out --project/);
    }
  });

  it('an option without its value at the end of the line: the option, what it takes, and that it needs one', async () => {
    const { words, failure } = await both(['import-csv', 'people.csv', '--dry-run', '--project']);
    expect(words).toMatch(/→ .*--project <KEY>/);
    expect(words).toContain('the service project');
    expect(failure.error.code).toBe('missing-option-value');
    expect(failure.error.hint).toContain('--project <KEY>');
  });

  it('import-csv without its file: what the argument is (a CSV file, or - for standard input)', async () => {
    const { words, failure } = await both(['import-csv', '--project', 'ITH']);
    expect(words).toMatch(/→ .*the CSV file, or - for standard input/);
    expect(failure.error.code).toBe('missing-argument');
    expect(failure.error.hint).toContain('the CSV file, or - for standard input');
  });

  it('project create without --name: what the name is for', async () => {
    const { words, failure } = await both(['project', 'create', 'NEW']);
    expect(words).toMatch(/→ .*--name <name>/);
    expect(failure.error.code).toBe('missing-option');
    expect(failure.error.hint).toContain('--name <name>');
  });
});

describe('files a newcomer points at', () => {
  it('a folder given as the CSV file: named as a folder, with the CSV files in it', async () => {
    await mkdir(join(dir, 'exports'));
    await writeFile(join(dir, 'exports', 'customers.csv'), 'email,name\n');
    const { words, failure } = await both(['import-csv', 'exports', '--project', 'ITH', '--dry-run']);
    expect(words).toContain('exports is a folder');
    expect(words).not.toContain('EISDIR');
    expect(words).toContain(join('exports', 'customers.csv'));
    expect(failure.error.code).toBe('unreadable-input');
  });

  it('a --password-file that does not exist: said in words, with the fix, without the raw system call', async () => {
    const { words, failure } = await both(['add-customer', '--project', 'ITH', '--email', 'ann@example.com', '--name', 'Ann Lee', '--password-file', 'nope.txt']);
    expect(words).toContain('--password-file nope.txt');
    expect(words).toContain('no such file');
    expect(words).not.toMatch(/ENOENT: |stat '/);
    expect(words).toContain('→ ');
    expect(failure.error.code).toBe('unreadable-password-file');
    expect(failure.error.hint).toBeDefined();
  });

  it('--target a JSM host without https://: the hint gives the URL, not a store to create by that name', async () => {
    const { words, failure } = await both(['customers', 'list', '--project', 'ITH', '--target', 'jira.example.com']);
    expect(words).toContain('https://jira.example.com');
    expect(failure.error.code).toBe('no-store');
    expect(failure.error.hint).toContain('--target https://jira.example.com');
  });

  it('--target the CSV file to import: said to be no store, never "restore it from a backup"', async () => {
    const { words, failure } = await both(['import-csv', 'people.csv', '--project', 'ITH', '--target', 'people.csv']);
    expect(words).not.toContain('backup');
    expect(words).toContain('people.csv is not a jsm-provision store');
    expect(failure.error.hint).toContain('import-csv');
  });
});

describe('a command group given without its command', () => {
  it('says the command is missing and names them (not "unknown option"), in words and under --json', async () => {
    const words = await runCli(['project', '--project', 'ITH'], { cwd: dir });
    expect(words.code).toBe(2);
    expect(words.stderr).toContain('project needs one of its commands: create, list, show, set-notifications');
    expect(words.stderr).not.toContain('unknown option');
    const json = await runCli(['invitations', '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(json.json<Failure>().error.code).toBe('missing-command');
    expect(json.stderr).toContain('invitations needs one of its commands');
    expect(json.stderr).not.toContain('unknown option');
  });
});

describe('the top-level --help', () => {
  it('gives every exit code of the README, and 130 for a confirmation answered "n" as the README does', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const codes = [...readme.matchAll(/^\| (\d+) \| /gm)].map((m) => m[1] as string);
    expect(codes).toContain('130');
    const help = (await runCli(['--help'], { cwd: dir })).stdout.replace(/\s+/g, ' ');
    const exits = /Exit codes: (.*)$/.exec(help)?.[1] ?? '';
    for (const code of codes) expect(exits).toMatch(new RegExp(`(^|; )${code} `));
    expect(exits).toMatch(/130 interrupted, or a confirmation answered "n"/);
  });
});

describe('an SMTP server given as a bare host', () => {
  it('names the missing scheme and gives the URL to use', async () => {
    for (const [given, url] of [['mail.example.com', 'smtp://mail.example.com:587'], ['mail.example.com:2525', 'smtp://mail.example.com:2525']] as const) {
      const { words, failure } = await both(['add-customer', '--project', 'ITH', '--email', 'ann@example.com', '--name', 'Ann Lee', '--smtp', given, '--mail-from', 'help@example.com']);
      expect(words).toContain(`→ give it as a URL: ${url}`);
      expect(failure.error.code).toBe('bad-smtp-url');
    }
  });
});

describe('a JSM page copied from the browser as --target', () => {
  it('is refused before any call, with the base URL to give', async () => {
    // Port 9 on loopback: nothing listens, so a call made would fail otherwise (exit 3, not 2).
    for (const [page, base] of [
      ['http://127.0.0.1:9/servicedesk/customer/portal/1', 'http://127.0.0.1:9'],
      ['http://127.0.0.1:9/jira/browse/ITH-12', 'http://127.0.0.1:9/jira'],
      ['http://127.0.0.1:9/rest/servicedeskapi/servicedesk', 'http://127.0.0.1:9'],
    ] as const) {
      const inWords = await runCli(['project', 'list', '--target', page], { cwd: dir, env: { JSM_TOKEN: 'x' } });
      expect(inWords.code).toBe(2);
      expect(inWords.stderr).toContain('not its base URL');
      expect(inWords.stderr).toContain(`→ give the base URL`);
      expect(inWords.stderr).toContain(`--target ${base}\n`);
    }
  });
});

describe('https:// to a JSM that speaks plain HTTP', () => {
  it('says so at the first call, with the http:// URL to give (no retries, no OpenSSL text)', async () => {
    const jsm = await startJsmDouble({});
    try {
      const https = jsm.url.replace('http://', 'https://');
      const r = await runCli(['project', 'list', '--target', https, '--json'], { cwd: dir, env: { JSM_TOKEN: 'test-token' } });
      expect(r.code).toBe(3);
      const failure = r.json<Failure>();
      expect(failure.error.code).toBe('tls-failed');
      expect(failure.error.message).toContain('plain HTTP');
      expect(failure.error.hint).toContain(`--target ${jsm.url}`);
      expect(r.stderr).not.toMatch(/ssl3_get_record|attempts/);
    } finally {
      await jsm.close();
    }
  });
});

describe('options given before the command (`jsm-provision --target x project list`)', () => {
  it('says options go after the command and gives the line with them there, in words and under --json', async () => {
    const words = await runCli(['--target', 'jsm-store.json', 'project', 'list'], { cwd: dir });
    expect(words.code).toBe(2);
    expect(words.stdout).toBe('');
    expect(words.stderr).toContain("unknown option '--target'");
    expect(words.stderr).toContain('→ options go after the command: jsm-provision project list --target jsm-store.json');
    expect(words.stderr).not.toContain('add --help for usage');
    const json = await runCli(['--json', '--quiet', 'customers', 'list', '--project', 'ITH'], { cwd: dir });
    expect(json.code).toBe(2);
    const failure = json.json<Failure>();
    expect(failure.error.code).toBe('unknown-option');
    expect(failure.error.hint).toBe('options go after the command: jsm-provision customers list --project ITH --json --quiet');
  });

  it('quotes a value with a space, and never repeats a line that holds a secret-looking word', async () => {
    const words = await runCli(['--project', 'ITH', 'add-customer', '--email', 'fred@example.com', '--name', 'Fred Jones'], { cwd: dir });
    expect(words.code).toBe(2);
    expect(words.stderr).toContain('→ options go after the command: jsm-provision add-customer --email fred@example.com --name "Fred Jones" --project ITH');
    const secret = await runCli(['--target', 'x.json', 'add-customer', '--password-file', 'hunter2.txt'], { cwd: dir });
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('→ options go after the command (jsm-provision add-customer ... --target x.json)');
    expect(secret.stderr).not.toContain('hunter2');
  });
});

describe('apply given the CSV file instead of a plan', () => {
  it('says it is a CSV file to import, and never suggests writing a plan over it', async () => {
    const { words, failure } = await both(['apply', 'people.csv']);
    expect(words).toContain('people.csv is not a plan jsm-provision can apply: it is a CSV file');
    expect(words).not.toContain('is not valid JSON');
    expect(failure.error.code).toBe('bad-plan');
    expect(failure.error.hint).toBe('to import it: jsm-provision import-csv people.csv (a plan to review first: jsm-provision import-csv people.csv --plan plan.json, then jsm-provision apply plan.json)');
    expect(failure.error.hint).not.toContain('--plan people.csv');
  });

  it('a JSON file that is not a plan: the hint makes a plan under another name than the file given', async () => {
    await writeFile(join(dir, 'result.json'), '{"rows": []}\n');
    const { failure } = await both(['apply', 'result.json']);
    expect(failure.error.message).toBe('result.json is not a plan jsm-provision can apply: its "format" is not "jsm-provision-plan"');
    expect(failure.error.hint).toBe('a plan is the file import-csv --plan writes: jsm-provision import-csv FILE --plan plan.json, then jsm-provision apply plan.json');
  });
});

describe('customers export --output with a name that is not .csv', () => {
  it('refuses ith.json (the export is CSV; --report takes JSON by its name): bad-option, nothing written', async () => {
    const { words, failure } = await both(['customers', 'export', '--project', 'ITH', '--output', 'ith.json']);
    expect(words).toContain('--output ith.json: customers export writes CSV (the import format)');
    expect(failure.error.code).toBe('bad-option');
    expect(failure.error.hint).toBe('name the file .csv (e.g. --output ith.csv); for JSON: jsm-provision customers list --json');
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).filter((name) => name.startsWith('ith'))).toEqual([]);
  });

  it('refuses a spreadsheet name (Excel would not open CSV as .xlsx); takes .csv and .txt', async () => {
    const { failure } = await both(['customers', 'export', '--project', 'ITH', '--output', 'out/ITH.XLSX']);
    expect(failure.error.message).toBe('--output out/ITH.XLSX: customers export writes CSV (the import format), not an .xlsx file');
    const txt = await runCli(['customers', 'export', '--project', 'ITH', '--output', 'ith.txt'], { cwd: dir });
    expect(txt.code).toBe(0);
  });
});

describe('import-csv given a file that is not CSV (the store, a plan, JSON, mail)', () => {
  it('the store: named as the store, and none of its contents (hashes, names) shown', async () => {
    const { words, failure } = await both(['import-csv', 'jsm-store.json', '--project', 'ITH']);
    expect(failure.error.code).toBe('not-csv');
    expect(failure.error.message).toBe('jsm-store.json is the jsm-provision store (a target, given by --target), not a CSV file of customers');
    expect(words).not.toContain('"format"');
    expect(words.length).toBeLessThan(600);
  });

  it('a plan: the apply line; other JSON: what reads CSV', async () => {
    await writeFile(join(dir, 'plan.json'), '{\n  "format": "jsm-provision-plan",\n  "version": 1\n}\n');
    const plan = await both(['import-csv', 'plan.json', '--project', 'ITH']);
    expect(plan.failure.error).toMatchObject({ code: 'not-csv', message: 'plan.json is a plan made by import-csv --plan, not a CSV file of customers', hint: 'do it with: jsm-provision apply plan.json' });
    await writeFile(join(dir, 'people.json'), '\uFEFF[{"email": "ann@example.com"}]\n');
    const json = await both(['import-csv', 'people.json', '--project', 'ITH']);
    expect(json.failure.error).toMatchObject({ code: 'not-csv', message: 'people.json is JSON, not a CSV file of customers' });
    expect(json.failure.error.hint).toContain('save the list as CSV');
  });

  it('an mbox or an email message: the import-mail line', async () => {
    await writeFile(join(dir, 'inbox.mbox'), 'From ann@example.com Mon Mar 10 09:12:44 2025\nFrom: Ann <ann@example.com>\nSubject: hi\n\nbody\n');
    const mbox = await both(['import-csv', 'inbox.mbox', '--project', 'ITH']);
    expect(mbox.failure.error).toMatchObject({ code: 'not-csv', message: 'inbox.mbox is mail (an mbox file or an email message), not a CSV file of customers', hint: 'import-mail reads mail: jsm-provision import-mail inbox.mbox --exclude <the inbox\'s address or @domain> --dry-run' });
    await writeFile(join(dir, 'one.eml'), 'Return-Path: <ann@example.com>\r\nReceived: from mx.example.com\r\n\tby mx2;\r\nFrom: Ann <ann@example.com>\r\n\r\nbody\r\n');
    const eml = await both(['import-csv', 'one.eml', '--project', 'ITH']);
    expect(eml.failure.error.code).toBe('not-csv');
  });

  it('a real CSV whose first header merely starts with [ or From is still read', async () => {
    await writeFile(join(dir, 'brackets.csv'), '[Email],From,Name\nann@example.com,web,Ann Lee\n');
    const r = await runCli(['import-csv', 'brackets.csv', '--project', 'ITH', '--map', 'email=[Email]', '--dry-run', '--json'], { cwd: dir });
    expect(r.json<{ totals: { rows: number } }>().totals.rows).toBe(1);
    await writeFile(join(dir, 'from.csv'), 'From,Email,Name\nweb,ann@example.com,Ann Lee\n');
    const f = await runCli(['import-csv', 'from.csv', '--project', 'ITH', '--dry-run', '--json'], { cwd: dir });
    expect(f.json<{ totals: { rows: number } }>().totals.rows).toBe(1);
  });
});

describe('import-csv - given mail on standard input', () => {
  it('the import-mail line reads standard input too (-), not a file named "standard input"', async () => {
    const r = await runCli(['import-csv', '-', '--project', 'ITH', '--json'], { cwd: dir, input: 'From ann@example.com Mon Mar 10 09:12:44 2025\nFrom: Ann <ann@example.com>\n\nbody\n' });
    expect(r.code).toBe(2);
    expect(r.json<Failure>().error.hint).toBe("import-mail reads mail: jsm-provision import-mail - --exclude <the inbox's address or @domain> --dry-run");
  });
});

describe('a file with many columns and none for email', () => {
  it('names the first 15 columns and how many more, not every one', async () => {
    const headers = Array.from({ length: 90 }, (_, i) => `Field ${i + 1}`);
    await writeFile(join(dir, 'wide.csv'), `${headers.join(',')}\n${headers.map(() => 'x').join(',')}\n`);
    const { failure } = await both(['import-csv', 'wide.csv', '--project', 'ITH']);
    expect(failure.error.code).toBe('no-email-column');
    expect(failure.error.message).toBe(`wide.csv has no email column. Its columns are: ${headers.slice(0, 15).map((h) => `"${h}"`).join(', ')} and 75 more.`);
  });
});

describe('customers remove --file given the store or mail', () => {
  it('bad-file naming what the file is, before any removal; not a line of "invalid" per line of it', async () => {
    await writeFile(join(dir, 'inbox.mbox'), 'From ann@example.com Mon Mar 10 09:12:44 2025\nFrom: Ann <ann@example.com>\nSubject: hi\n\nbody\n');
    for (const [file, what] of [['jsm-store.json', 'the jsm-provision store'], ['inbox.mbox', 'mail']] as const) {
      const { words, failure } = await both(['customers', 'remove', '--project', 'ITH', '--file', file, '--yes']);
      expect(failure.error.code).toBe('bad-file');
      expect(failure.error.message).toBe(`--file ${file} is ${what}${file === 'inbox.mbox' ? ' (an mbox file or an email message)' : ' (a target, given by --target)'}, not a list of emails; nothing was removed`);
      expect(words).not.toContain('invalid');
    }
  });
});

describe('--report with a name that is neither .csv nor .json', () => {
  it('the hint gives the name with .csv and with .json', async () => {
    const { failure } = await both(['import-csv', 'people.csv', '--project', 'ITH', '--report', 'results.xlsx']);
    expect(failure.error).toEqual({ code: 'bad-report', message: '--report results.xlsx: the file name must end in .csv or .json', hint: 'e.g. --report results.csv (a spreadsheet opens it), or --report results.json' });
  });
});

describe('options between the words of a command (`customers --project ITH list`)', () => {
  it('gives the line with the options after the whole command name, in words and under --json', async () => {
    const words = await runCli(['customers', '--project', 'ITH', 'list'], { cwd: dir });
    expect(words.code).toBe(2);
    expect(words.stderr).toContain('→ options go after the command: jsm-provision customers list --project ITH');
    const json = await runCli(['--quiet', 'invitations', '--json', 'list', '--status', 'pending'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(json.json<Failure>().error.hint).toBe('options go after the command: jsm-provision invitations list --status pending --quiet --json');
  });
});

describe('add-customer with no terminal and something missing', () => {
  it('the hint is a whole command line, with the project', async () => {
    const noName = await both(['add-customer', '--project', 'ITH', '--email', 'zed@example.com']);
    expect(noName.failure.error.hint).toBe('jsm-provision add-customer --project ITH --email zed@example.com --name "<full name>"');
    const noEmail = await both(['add-customer', '--project', 'ITH', '--name', 'Zed']);
    expect(noEmail.failure.error.hint).toBe('jsm-provision add-customer --project ITH --email <address> --name "<full name>"');
  });
});

describe('import-mail of a path that does not exist, without --exclude', () => {
  it('says only that the path is missing: no warning about --exclude before it', async () => {
    const { words } = await both(['import-mail', 'no-such-folder/', '--project', 'ITH']);
    expect(words).toContain('no-such-folder/');
    expect(words).not.toContain('--exclude');
  });
});

describe('--encoding by the name Notepad or LibreOffice shows', () => {
  it('"ANSI" and "Western (Windows 1252)": the hint gives windows-1252', async () => {
    const ansi = await both(['import-csv', 'people.csv', '--project', 'ITH', '--encoding', 'ANSI']);
    expect(ansi.failure.error.code).toBe('unknown-encoding');
    expect(ansi.failure.error.hint).toBe('"ANSI" is what Windows calls its legacy code page: on Western European and American systems that is --encoding windows-1252');
    const western = await both(['import-csv', 'people.csv', '--project', 'ITH', '--encoding', 'Western (Windows 1252)']);
    expect(western.failure.error.hint).toBe('give the encoding by its name: --encoding windows-1252');
    const latin9 = await both(['import-csv', 'people.csv', '--project', 'ITH', '--encoding', 'Western Europe (ISO-8859-15)']);
    expect(latin9.failure.error.hint).toBe('give the encoding by its name: --encoding iso-8859-15');
  });
});

describe('a dry run whose invitations would go to an outbox that is a file', () => {
  it('is refused as the real run is (outbox-unwritable), not "would be sent to the outbox"; a new folder is fine', async () => {
    const { failure } = await both(['import-csv', 'people.csv', '--project', 'ITH', '--dry-run', '--outbox', 'people.csv/out']);
    expect(failure.error.code).toBe('outbox-unwritable');
    expect(failure.error.message).toBe(`cannot write invitations into the outbox ${join(dir, 'people.csv', 'out')}: ${join(dir, 'people.csv')} is not a folder`);
    const fresh = await runCli(['import-csv', 'people.csv', '--project', 'ITH', '--dry-run', '--outbox', 'new/outbox', '--json'], { cwd: dir });
    expect(fresh.code).toBe(0);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).not.toContain('new');
  });
});
