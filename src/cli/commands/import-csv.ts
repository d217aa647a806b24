import { DEFAULT_CONCURRENCY } from '../../core/pool.js';
import { Command, Option } from 'commander';
import { candidates } from '../../csv/candidates.js';
import { inCwd, io } from '../io/io.js';
import { MAX_ROW_CHARS, nameColumnNote, openCsv } from '../../csv/index.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addMailOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { askConfirm, canConfirm } from '../io/prompts.js';
import { runRows, type RowRunOptions } from '../runs/run-rows.js';
import { importCsvSchema, parseSettings, type ImportCsvSettings, type ImportSettings } from '../settings/settings.js';
import { randomUUID } from 'node:crypto';
import { UsageError } from '../../core/errors.js';
import { planFile } from '../../core/plan-file.js';
import { printable } from '../../core/printable.js';
import type { CsvReader } from '../../csv/index.js';
import { writeFileAtomically } from '../../util/atomic-file.js';
import { inputDigest, planFromInput, renderDesired, runDesired } from '../runs/desired-run.js';

/** The options import-csv and import-mail share (docs/contract.md). */
export function addImportOptions(command: Command): Command {
  return addCommonOptions(
    addMailOptions(
      addProjectOption(
        addAccountMatchOption(addOrganizationOptions(command))
          .option('--no-invite', 'create customers without emailing them')
          .option('--defer-invites', 'record invitations as pending; send them later with `invitations send`')
          .option('--dry-run', 'read, check and plan, then print what would happen: nothing is written or sent')
          .option('-y, --yes', 'do not ask for confirmation in a terminal before invitations go out')
          .option('--report <file.csv|file.json>', 'write every row with its line, status, invitation and reason')
          .addOption(new Option('--concurrency <n>', 'invitations (and JSM requests) in flight at once').default(String(DEFAULT_CONCURRENCY), String(DEFAULT_CONCURRENCY))),
      ),
    ),
  );
}

/**
 * `--match-accounts`: how a row without a username finds its Jira account on a REST target. By
 * email (the default) needs an instance whose user search matches emails; the other two are the
 * ways on where it does not, each with its risk said in the help.
 */
export function addAccountMatchOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--match-accounts <how>',
      'JSM only: how a row finds its existing account. email (default): by a user search for its email, which the instance must allow ' +
        '(User email visibility Public, Browse users and groups); username: by the username column only (a row without one fails; ' +
        'the email of the account is not checked where it is hidden); jsm-username: by the username JSM gives the customers it makes, ' +
        'which is the email (someone whose account has another username, e.g. an LDAP jsmith, gets a second account)',
    ).env('JSM_MATCH_ACCOUNTS'),
  );
}

/** `--organization` (repeatable) and `--no-create-organizations`: add-customer, import-csv and import-mail. */
export function addOrganizationOptions(command: Command): Command {
  return command
    .addOption(new Option('--organization <name>', 'every customer also joins this organization (repeatable); a missing one is created').argParser(collect).default([], 'none'))
    .option('--no-create-organizations', 'create no organization: a row naming one that does not exist is invalid');
}

export function importCsvCommand(): Command {
  const command = new Command('import-csv')
    .description('provision every customer of a CSV file (Excel, CRM and help-desk exports as they are)')
    .argument('<file>', 'the CSV file, or - for standard input')
    .addOption(new Option('--map <field=Header>', 'use this column for a field: email, fullName, firstName, lastName, password, language, username, organization (repeatable)').argParser(collect).default([], 'none'))
    .option('--delimiter <c>', 'the delimiter: , ; | or tab (default: found from the header line)')
    .option('--encoding <name>', 'the file\'s encoding when it has no BOM and is not UTF-8 (e.g. windows-1252, latin1)')
    .option('--max-row-chars <n>', `the longest row read, in characters (default ${MAX_ROW_CHARS}); a longer one stops the file`)
    .option('--sync', "the file is the project's whole customer list: customers not in it are removed from the project, and the organizations it names end with exactly its members (accounts are never deleted or deactivated)")
    .option('--plan <file>', 'write the plan (JSON) to this file and change nothing, send nothing; `jsm-provision apply <file>` does exactly that plan')
    .option('--max-removals <n>', "with --sync: allow up to this many removals (default: max(5, 10% of the project's customers))");
  return addImportOptions(command)
    .addHelpText(
      'after',
      `
Columns are found by their header, whatever the case, spaces, - and _: email (email, email address,
e-mail, mail), full name (full name, fullname, name, display name) or first name + last name, an
optional password (stored only as a hash, or sent only to JSM; the customer must change it; JSM
Cloud sets none: a password with a value stops a Cloud run before any write), and an
optional language (language, lang, locale: it picks the invitation's template, e.g. de or pt-BR),
and optional organizations (organization, organisation, org: several separated by ";").
Contact exports of Google (E-mail 1 - Value), Outlook, Thunderbird, Salesforce, HubSpot and Zendesk
are read as they are, and Excel's "sep=;" first line names the delimiter.
UTF-8 with or without BOM and UTF-16 with BOM are read as they are. Every row ends created, existing,
invalid, duplicate or failed, with its line; one bad row never stops the others.

Desired state: with --sync the file is the project's whole list. Customers of the project who are
not in it are taken out of the project and out of the project's organizations; the organizations
the file names end with exactly the members it gives them; other organizations are left alone.
Accounts are never deleted or deactivated. More than max(5, 10% of the project's customers)
removals are refused before any write (exit 2) unless --max-removals allows them. --plan FILE
(with or without --sync) writes the plan and changes nothing: review it, then \`apply FILE\` does
exactly it, or refuses with exit 4 when the target or the file changed since.

Plan, review, apply:
  $ jsm-provision import-csv your-customers.csv --project ITH --sync --plan plan.json
    lists the changes (+ create, - remove, ~ join/leave) and writes the plan; nothing is written
    or sent. Review it (in CI: a pull request, docs/ci.md), then:
  $ jsm-provision apply plan.json

Examples (fixtures/ is the package's samples; your-… stands for your own file):
  $ jsm-provision import-csv fixtures/customers.csv --project ITH --dry-run
  $ jsm-provision import-csv your-export.csv --project ITH --map email="Customer E-mail" --report result.csv
  $ jsm-provision import-csv fixtures/csv/windows-1252.csv --project ITH --map fullName="Full name" --encoding windows-1252 --no-invite --json
  $ jsm-provision import-csv your-all-customers.csv --project ITH --sync --plan plan.json
  $ jsm-provision apply plan.json --smtp smtp://mail.example.com:587`,
    )
    .action(action('import-csv', importCsv));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function importCsv(out: Output, raw: CommonOptions, file: string): Promise<CommandResult> {
  // Parse: every option checked and typed once, before anything is read or written.
  const settings = parseSettings(importCsvSchema, raw);
  // Open the file first: an unreadable file or a missing email column stops before the target is touched.
  const open = () =>
    openCsv(file, {
      map: settings.map,
      from: { cwd: io().cwd, stdin: io().stdin, onTerminal: (text) => void io().stderr.write(text) },
      ...(settings.delimiter !== undefined ? { delimiter: settings.delimiter } : {}),
      ...(settings.encoding !== undefined ? { encoding: settings.encoding } : {}),
      ...(settings.maxRowChars !== undefined ? { maxRowChars: settings.maxRowChars } : {}),
    });
  if (settings.sync || settings.plan !== undefined) return desiredImport(out, settings, file, open);
  const reader = await open();
  const nameless = nameColumnNote(reader.columns, reader.headers, file === '-' ? 'the input' : file);
  if (nameless !== undefined) out.note(nameless);
  try {
    return await withTarget(
      () => openTarget(settings, out),
      async (target) => {
        const project = await resolveProject(target, settings.project);
        const { result } = await runRows(candidates(reader.batches), target, project, { ...importRunOptions('import-csv', 'welcome', settings, out), inputs: [file] }, out);
        return result;
      },
    );
  } finally {
    reader.close();
  }
}

/**
 * `--sync` and `--plan`: the file is read twice (once to plan, once to do it), so it must be a
 * file; the plan is written, or rendered (--dry-run), or done at once (--sync alone).
 */
async function desiredImport(out: Output, settings: ImportCsvSettings, file: string, open: () => Promise<CsvReader>): Promise<CommandResult> {
  const option = settings.plan !== undefined ? '--plan' : '--sync';
  if (file === '-') throw new UsageError('bad-input', `${option} reads the input twice (to plan, then to do it): standard input cannot be read again`, 'save it to a file and give that file');
  const first = await open();
  const nameless = nameColumnNote(first.columns, first.headers, file);
  first.close();
  if (nameless !== undefined) out.note(nameless);
  const sha256 = settings.plan !== undefined ? await inputDigest(inCwd(file)) : '';
  if (settings.plan !== undefined && inCwd(settings.plan) === inCwd(file)) {
    throw new UsageError('bad-plan-path', `--plan ${printable(settings.plan)} is the input file: the plan would overwrite it`, 'give another file, e.g. --plan plan.json');
  }
  return withTarget(
    () => openTarget(settings, out),
    async (target) => {
      const project = await resolveProject(target, settings.project);
      const run = importRunOptions('import-csv', 'welcome', settings, out);
      const desired = {
        command: 'import-csv',
        project,
        kind: 'welcome' as const,
        invitations: settings.invitations,
        dryRun: true,
        sync: settings.sync,
        ...(settings.maxRemovals !== undefined ? { maxRemovals: settings.maxRemovals } : {}),
      };
      const plan = await planFromInput(open, target, desired, settings.organization);
      if (settings.plan === undefined && !settings.dryRun) return runDesired(target, project, plan, open, { ...run, inputs: [file] }, out, undefined, !settings.yes);
      const written = settings.plan ?? null;
      if (written !== null) {
        const body = planFile(plan, {
          id: randomUUID(),
          createdAt: new Date(io().now()).toISOString(),
          target: { kind: target.kind, location: target.location, project: project.key },
          input: { path: file, sha256, map: settings.map, delimiter: settings.delimiter ?? null, encoding: settings.encoding ?? null, ...(settings.maxRowChars !== undefined ? { maxRowChars: settings.maxRowChars } : {}) },
          options: {
            sync: settings.sync,
            maxRemovals: settings.maxRemovals ?? null,
            // The plan file keeps the two flags (its format: docs/contract.md).
            noInvite: settings.invitations === 'none',
            defer: settings.invitations === 'defer',
            organization: settings.organization,
            createOrganizations: settings.createOrganizations,
            matchAccounts: settings.matchAccounts ?? null,
          },
        });
        await writeFileAtomically(inCwd(written), `${JSON.stringify(body, null, 2)}\n`);
      }
      const where = `${target.kind === 'local' ? 'local store' : 'JSM'} ${target.location}`;
      const head = `${settings.sync ? 'Sync' : 'Import'} plan for ${project.key} (${printable(where)}), from ${printable(file)}:`;
      return {
        outcome: plan.problems.length === 0 ? 'done' : 'problems',
        json: {
          target: target.kind,
          project: project.key,
          dryRun: true,
          sync: settings.sync,
          plan: written,
          counts: plan.counts,
          rows: plan.rows,
          invitations: { decision: plan.invitation.action, reason: plan.invitation.reason },
          ...(written === null ? { actions: plan.actions } : {}),
          problems: plan.problems,
        },
        text: (c) => renderDesired(plan, c, head, written),
        notes: written !== null ? [`plan written to ${printable(written)}; do exactly it with: jsm-provision apply ${printable(written)}`] : [],
      };
    },
  );
}

/** The row run's options from an import's settings (what the core needs, and the question to ask). */
export function importRunOptions(
  command: string,
  kind: 'welcome' | 'verify',
  settings: Pick<ImportSettings, 'yes' | 'invitations' | 'dryRun' | 'mail' | 'report' | 'concurrency' | 'organization' | 'createOrganizations'>,
  out: Output,
): RowRunOptions {
  const interactive = canConfirm() && !settings.yes;
  return {
    command,
    kind,
    invitations: settings.invitations,
    dryRun: settings.dryRun,
    mail: settings.mail,
    ...(settings.report !== undefined ? { report: settings.report } : {}),
    mailConcurrency: settings.concurrency,
    organization: settings.organization,
    createOrganizations: settings.createOrganizations,
    ...(interactive
      ? {
          confirm: async (_plan: unknown, text: string) => {
            out.always(text);
            return askConfirm('Go ahead?');
          },
        }
      : {}),
  };
}
