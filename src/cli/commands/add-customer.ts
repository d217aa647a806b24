import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import type { CandidateRow } from '../../core/types.js';
import { action, withTarget } from '../action.js';
import { openTarget, resolveProject } from '../context.js';
import { addCommonOptions, addMailOptions, addProjectOption, type CommonOptions, type MailOptions, type ProjectOption } from '../options.js';
import type { Output } from '../output.js';
import { askEmail, askName, askPassword, askPasswordChoice, canPrompt } from '../prompts.js';
import { runRows } from '../run-rows.js';
import { addOrganizationOptions } from './import-csv.js';
import { generatePassword, readPasswordFile, readPasswordFromStdin } from '../secrets.js';

type AddOptions = CommonOptions &
  ProjectOption &
  MailOptions & {
    email?: string;
    name?: string;
    passwordStdin?: boolean;
    passwordFile?: string;
    generatePassword?: boolean;
    invite: boolean;
    deferInvites?: boolean;
    organization?: string[];
    createOrganizations?: boolean;
  };

export function addCustomerCommand(): Command {
  const command = new Command('add-customer')
    .description('create one customer (or make an existing one a member) and invite them')
    .option('--email <address>', "the customer's email address (their username)")
    .option('--name <full name>', "the customer's full name")
    .option('--password-stdin', 'read a password to predefine from standard input')
    .option('--password-file <file>', 'read a password to predefine from the first line of a file')
    .option('--generate-password', 'predefine a strong random password, shown once on stderr')
    .option('--no-invite', 'create the customer without emailing them')
    .option('--defer-invites', 'record the invitation as pending; send it later with `invitations send`');
  addCommonOptions(addMailOptions(addProjectOption(addOrganizationOptions(command))));
  return command
    .addHelpText(
      'after',
      `
A predefined password is stored only as a {PKCS5S2} hash (local store) or sent only to JSM, and
the customer must change it at first login. Passwords are never taken as option values.
In a terminal, what is missing is asked for; without one (or with CI set) it fails instead.

Examples:
  $ jsm-provision add-customer --project ITH --email fred@example.com --name "Fred Jones"
  $ vault read -field=pw secret/fred | jsm-provision add-customer --project ITH \\
      --email fred@example.com --name "Fred Jones" --password-stdin --no-invite`,
    )
    .action(action('add-customer', addCustomer));
}

async function addCustomer(out: Output, options: AddOptions): Promise<number> {
  const sources = [options.passwordStdin, options.passwordFile !== undefined, options.generatePassword].filter(Boolean).length;
  if (sources > 1) {
    throw new UsageError('conflicting-options', 'give one of --password-stdin, --password-file and --generate-password');
  }
  if (!options.invite && options.deferInvites) {
    throw new UsageError('conflicting-options', '--no-invite and --defer-invites contradict each other: give one');
  }
  const interactive = canPrompt();
  const missing = [options.email === undefined ? '--email' : null, options.name === undefined ? '--name' : null].filter(Boolean);
  if (missing.length > 0 && !interactive) {
    throw new UsageError(
      'missing-option',
      `missing ${missing.join(' and ')} (no terminal to ask in)`,
      'add-customer --email <address> --name "<full name>"',
    );
  }
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      // The project first: no point asking questions for a project that does not exist.
      const project = await resolveProject(target, options.project);
      const email = options.email ?? (await askEmail());
      const fullName = options.name ?? (await askName());
      const password = await choosePassword(options, interactive, out);
      const row: CandidateRow = { line: 1, email, fullName, ...(password ? { password } : {}) };
      const { code, rows } = await runRows(
        oneRow(row),
        target,
        project,
        {
          ...options,
          command: 'add-customer',
          kind: 'welcome',
          noInvite: !options.invite,
          defer: Boolean(options.deferInvites),
          dryRun: false,
        },
        out,
      );
      if (password && options.generatePassword) {
        if (rows[0]?.status === 'created') {
          // Shown once, on stderr only, whatever --json or --quiet say: it exists nowhere else.
          out.always(`generated password for ${email} (shown once; give it by a safe channel): ${password.reveal()}`);
        } else {
          out.warn(`${email} was not created, so the generated password was not used`);
        }
      }
      return code;
    },
  );
}

async function choosePassword(options: AddOptions, interactive: boolean, out: Output): Promise<Secret | undefined> {
  if (options.passwordStdin) return readPasswordFromStdin();
  if (options.passwordFile !== undefined) return readPasswordFile(options.passwordFile, (m) => out.warn(m));
  if (options.generatePassword) return generatePassword();
  if (!interactive) return undefined;
  const choice = await askPasswordChoice();
  if (choice === 'type') return askPassword();
  if (choice === 'generate') {
    options.generatePassword = true;
    return generatePassword();
  }
  return undefined;
}

async function* oneRow(row: CandidateRow): AsyncIterable<CandidateRow> {
  yield row;
}
