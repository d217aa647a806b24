import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { printable, shellWord } from '../../core/printable.js';
import { CLOUD_SETS_NO_PASSWORDS, takesPasswords, type Target } from '../../core/target.js';
import { emailKey, emailProblem } from '../../core/validate.js';
import { addCustomerSchema, parseSettings, type AddCustomerSettings } from '../settings/settings.js';
import type { Secret } from '../../core/secret.js';
import type { CandidateRow } from '../../core/types.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { addCommonOptions, addMailOptions, addProjectOption, type CommonOptions } from '../settings/options.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { askEmail, askName, askPassword, askPasswordChoice, canPrompt } from '../io/prompts.js';
import { runRows } from '../runs/run-rows.js';
import { addAccountMatchOption, addOrganizationOptions } from './import-csv.js';
import { generatePassword, readPasswordFile, readPasswordFromStdin } from '../settings/secrets.js';
import { io } from '../io/io.js';

export function addCustomerCommand(): Command {
  const command = new Command('add-customer')
    .description('create one customer (or make an existing one a member) and invite them')
    .option('--email <address>', "the customer's email address (their username)")
    .option('--name <full name>', "the customer's full name (needed only to create them: a customer who exists joins without one)")
    .option('--password-stdin', 'read a password to predefine from standard input')
    .option('--password-file <file>', 'read a password to predefine from the first line of a file')
    .option('--generate-password', 'predefine a strong random password, shown once on stderr')
    .option('--no-invite', 'create the customer without emailing them')
    .option('--defer-invites', 'record the invitation as pending; send it later with `invitations send`');
  addCommonOptions(addMailOptions(addProjectOption(addAccountMatchOption(addOrganizationOptions(command)))));
  return command
    .addHelpText(
      'after',
      `
A predefined password is stored only as a {PKCS5S2} hash (local store) or sent only to JSM, and
the customer must change it at first login. Passwords are never taken as option values. JSM Cloud
sets no passwords by API: there a password option is refused (exit 2) and the invitation tells
the customer how to set one on the portal.
In a terminal, what is missing is asked for; without one (or with CI set) it fails instead.

Examples:
  $ jsm-provision add-customer --project ITH --email fred@example.com --name "Fred Jones"
  $ vault read -field=pw secret/fred | jsm-provision add-customer --project ITH \\
      --email fred@example.com --name "Fred Jones" --password-stdin --no-invite`,
    )
    .action(action('add-customer', addCustomer));
}

async function addCustomer(out: Output, raw: CommonOptions): Promise<CommandResult> {
  // Parse: every option checked and typed once (contradictory flags are usage errors here).
  const options = parseSettings(addCustomerSchema, raw);
  const interactive = canPrompt();
  if (options.email === undefined && !interactive) {
    throw new UsageError(
      'missing-option',
      `missing --email${options.name === undefined ? ' and --name' : ''} (no terminal to ask in)`,
      `jsm-provision add-customer${options.project !== undefined ? ` --project ${shellWord(options.project)}` : ''} --email <address> --name "<full name>"`,
    );
  }
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      // Cloud takes no password: refused before anything is asked, read or written.
      if (!takesPasswords(target) && (options.passwordStdin || options.passwordFile !== undefined || options.generatePassword)) {
        const given = options.passwordStdin ? '--password-stdin' : options.passwordFile !== undefined ? '--password-file' : '--generate-password';
        throw new UsageError('passwords-unsupported', `${given}: ${CLOUD_SETS_NO_PASSWORDS}; nothing was written`, 'leave the option out: the invitation tells the new customer how to set a password on the portal');
      }
      // The project first: no point asking questions for a project that does not exist.
      const project = await resolveProject(target, options.project);
      const email = options.email ?? (await askEmail());
      // A name is needed only to create someone: a customer who exists joins the project (and the
      // organizations given) without one.
      const exists = options.name === undefined && (await customerExists(target, email));
      if (options.name === undefined && !exists && !interactive) {
        throw new UsageError(
          'missing-option',
          `missing --name: ${printable(email, 80)} is not a customer yet, and creating one needs a name (no terminal to ask in)`,
          `jsm-provision add-customer --project ${project.key} --email ${shellWord(email)} --name "<full name>"`,
        );
      }
      const fullName = options.name ?? (exists ? '' : await askName());
      // Nothing to ask of a password that would be ignored: an existing account's is never changed.
      const { password, generated } = takesPasswords(target) ? await choosePassword(options, interactive && !exists, out) : { password: undefined, generated: false };
      const row: CandidateRow = { line: 1, email, fullName, ...(password ? { password } : {}) };
      const { result, rows } = await runRows(
        oneRow(row),
        target,
        project,
        {
          command: 'add-customer',
          kind: 'welcome',
          invitations: options.invitations,
          dryRun: false,
          mail: options.mail,
          organization: options.organization,
          createOrganizations: options.createOrganizations,
          // The one row is read below (a generated password is shown only if it was created).
          keepRows: true,
        },
        out,
      );
      if (password && !generated && rows[0]?.status === 'existing') out.warn(`${email} exists already: the password given was ignored (jsm-provision never changes the password of an existing account)`);
      if (password && generated) {
        if (rows[0]?.status === 'created') {
          // Shown once, on stderr only, whatever --json or --quiet say: it exists nowhere else.
          out.always(`generated password for ${email} (shown once; give it by a safe channel): ${password.reveal()}`);
        } else {
          out.warn(`${email} was not created, so the generated password was not used`);
        }
      }
      return result;
    },
  );
}

/** The password to predefine, if any; `generated`: made here, so shown once when the customer is created. */
async function choosePassword(options: AddCustomerSettings, interactive: boolean, out: Output): Promise<{ password?: Secret | undefined; generated: boolean }> {
  if (options.passwordStdin) return { password: await readPasswordFromStdin(io().stdin), generated: false };
  if (options.passwordFile !== undefined) return { password: await readPasswordFile(options.passwordFile, (m) => out.warn(m), '--password-file', io().cwd), generated: false };
  if (options.generatePassword) return { password: generatePassword(), generated: true };
  if (!interactive) return { generated: false };
  const choice = await askPasswordChoice();
  if (choice === 'type') return { password: await askPassword(), generated: false };
  if (choice === 'generate') return { password: generatePassword(), generated: true };
  return { generated: false };
}

/** Whether the target has an account for this address (false for one that is not an address: the row says why). */
async function customerExists(target: Target, email: string): Promise<boolean> {
  const trimmed = email.trim();
  if (trimmed === '' || emailProblem(trimmed) !== undefined) return false;
  const [verdict] = await target.lookup([{ key: emailKey(trimmed), email: trimmed }]);
  return verdict === 'existing';
}

async function* oneRow(row: CandidateRow): AsyncIterable<CandidateRow> {
  yield row;
}
