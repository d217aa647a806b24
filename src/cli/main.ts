import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from '../core/errors.js';
import { interruptSignal } from './signals.js';

/**
 * The commands, in the order help lists them. Each one's module (with its schemas, csv-parse,
 * mail, targets) is loaded only when it runs: `--version` loads none, `import-csv` only its own.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  project: async () => (await import('./commands/project.js')).projectCommand(),
  'add-customer': async () => (await import('./commands/add-customer.js')).addCustomerCommand(),
  'import-csv': async () => (await import('./commands/import-csv.js')).importCsvCommand(),
  'import-mail': async () => (await import('./commands/import-mail.js')).importMailCommand(),
  customers: async () => (await import('./commands/customers.js')).customersCommand(),
  invitations: async () => (await import('./commands/invitations.js')).invitationsCommand(),
  store: async () => (await import('./commands/store.js')).storeCommand(),
};

/** The commands `argv` needs: the one it names; none for --version alone; all for help and errors. */
function commandsFor(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const named = args.find((a) => Object.hasOwn(COMMANDS, a));
  if (named !== undefined && args[0] !== 'help') return [named];
  if (args.length === 1 && (args[0] === '-V' || args[0] === '--version')) return [];
  return Object.keys(COMMANDS);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
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
  const names = commandsFor(argv);
  for (const command of await Promise.all(names.map((name) => (COMMANDS[name] as () => Promise<Command>)()))) program.addCommand(command);
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
  const program = await buildProgram(argv);
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
        const { Output } = await import('./output.js');
        const out = new Output({ json: true, quiet: false }, process.stdout, { write: () => true, isTTY: false } as never);
        out.error(argv.slice(2).filter((a) => !a.startsWith('-')).slice(0, 2).join(' ') || 'jsm-provision', new UsageError(error.code.replace(/^commander\./, ''), error.message.replace(/^error: /, '')));
      }
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}
