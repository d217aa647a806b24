import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from '../core/errors.js';
import { addCustomerCommand } from './commands/add-customer.js';
import { customersCommand } from './commands/customers.js';
import { importCsvCommand } from './commands/import-csv.js';
import { importMailCommand } from './commands/import-mail.js';
import { invitationsCommand } from './commands/invitations.js';
import { organizationsCommand } from './commands/organizations.js';
import { projectCommand } from './commands/project.js';
import { storeCommand } from './commands/store.js';
import { Output } from './output.js';
import { interruptSignal } from './signals.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('jsm-provision')
    .description(
      'Provision customers into a Jira Service Management service project in bulk: from a CSV file, flags or ' +
        'prompts, into a local JSON store or a JSM Server/Data Center instance, with invitations sent exactly ' +
        'as you and the project\'s "Do not send account verification emails" setting say.',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Start here:
  $ jsm-provision project create ITH --name "IT Help"
  $ jsm-provision import-csv customers.csv --project ITH --dry-run
  $ jsm-provision import-csv customers.csv --project ITH --report result.csv

Environment: JSM_TARGET, JSM_PROJECT, JSM_TOKEN or JSM_USER/JSM_PASSWORD (REST), JSM_SMTP_URL,
JSM_SMTP_PASSWORD or JSM_SMTP_PASSWORD_FILE, JSM_SMTP_NAME, JSM_MAIL_FROM, JSM_OUTBOX.
Exit codes: 0 all rows created or existing; 1 some rows invalid, duplicate or failed, or invitations
failed; 2 usage or unreadable input (nothing written); 3 the target refused the run; 130 interrupted
(what was done is recorded).`,
    );
  program.addCommand(projectCommand());
  program.addCommand(addCustomerCommand());
  program.addCommand(importCsvCommand());
  program.addCommand(importMailCommand());
  program.addCommand(customersCommand());
  program.addCommand(invitationsCommand());
  program.addCommand(storeCommand());
  program.addCommand(organizationsCommand());
  exitOverrideEverywhere(program);
  return program;
}

/** commander's own errors (unknown option, missing argument) are usage errors: exit 2. */
function exitOverrideEverywhere(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}

export async function main(argv: string[]): Promise<void> {
  interruptSignal();
  // `jsm-provision customers list | head`: a reader that stops early is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; commander already printed its words.
      if (error.exitCode === 0) {
        process.exitCode = 0;
        return;
      }
      const json = argv.includes('--json');
      if (json) {
        const out = new Output({ json: true, quiet: false }, process.stdout, { write: () => true, isTTY: false } as never);
        out.error(argv.slice(2).filter((a) => !a.startsWith('-')).slice(0, 2).join(' ') || 'jsm-provision', new UsageError(error.code.replace(/^commander\./, ''), error.message.replace(/^error: /, '')));
      }
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}
