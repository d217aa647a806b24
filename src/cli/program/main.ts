import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { RunError, UsageError } from '../../core/errors.js';
import { shellWord } from '../../core/printable.js';
import { envelope } from '../io/result.js';
import { contradictoryFlags } from '../settings/contradictions.js';
import { applyConfig, configFileApplies, loadConfig } from '../settings/config.js';
import { exitCodeSet, io as runIo, runArgs, withIo, type CliIo } from '../io/io.js';
import { withTestHooks } from '../../util/test-hooks.js';

/**
 * The commands, in the order help lists them. Each one's module (with its schemas, csv-parse,
 * mail, targets) is loaded only when it runs: `--version` loads none, `import-csv` only its own.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  project: async () => (await import('../commands/project.js')).projectCommand(),
  'add-customer': async () => (await import('../commands/add-customer.js')).addCustomerCommand(),
  'import-csv': async () => (await import('../commands/import-csv.js')).importCsvCommand(),
  'import-mail': async () => (await import('../commands/import-mail.js')).importMailCommand(),
  apply: async () => (await import('../commands/apply.js')).applyCommand(),
  customers: async () => (await import('../commands/customers.js')).customersCommand(),
  invitations: async () => (await import('../commands/invitations.js')).invitationsCommand(),
  store: async () => (await import('../commands/store.js')).storeCommand(),
  organizations: async () => (await import('../commands/organizations.js')).organizationsCommand(),
  doctor: async () => (await import('../commands/doctor.js')).doctorCommand(),
};

/** The commands `argv` needs: the one it names; none for --version alone; all for help and errors. */
function commandsFor(argv: readonly string[]): string[] {
  const args = argv.slice(2);
  const named = args.find((a) => Object.hasOwn(COMMANDS, a));
  if (named !== undefined && args[0] !== 'help' && args[0] !== 'completion') return [named];
  if (args.length === 1 && (args[0] === '-V' || args[0] === '--version')) return [];
  return Object.keys(COMMANDS);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function buildProgram(argv: readonly string[] = [], all = false, current: RunState = { argv: [], command: null }): Promise<Command> {
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
Start here (in the package's folder: fixtures/ holds the sample files it ships):
  $ jsm-provision project create ITH --name "IT Help"
  $ jsm-provision import-csv fixtures/customers.csv --project ITH --dry-run
  $ jsm-provision import-csv fixtures/customers.csv --project ITH --report result.csv

Environment: JSM_TARGET, JSM_PROJECT, JSM_TOKEN or JSM_USER/JSM_PASSWORD (REST; or JSM_TOKEN_FILE,
JSM_PASSWORD_FILE), JSM_SMTP_URL, JSM_SMTP_PASSWORD or JSM_SMTP_PASSWORD_FILE, JSM_SMTP_NAME,
JSM_MAIL_FROM, JSM_OUTBOX, JSM_TEMPLATE_DIR, JSM_PORTAL_URL, JSM_STATE_DIR, JSM_LOCK_WAIT, JSM_CONFIG, JSM_PROFILE,
NO_COLOR; each command's --help lists those it reads.
Exit codes: 0 all rows created or existing; 1 some rows invalid, duplicate or failed, or invitations
failed, or the report could not be written; 2 usage, configuration or unreadable input (nothing
written); 3 the target refused the run; 4 a plan is stale: the target or the input changed since it
was made, or it was applied already (nothing written); 130 interrupted, or a confirmation answered
"n" (what was done is recorded).`,
    );
  const names = all ? Object.keys(COMMANDS) : commandsFor(argv);
  for (const command of await Promise.all(names.map((name) => (COMMANDS[name] as () => Promise<Command>)()))) program.addCommand(command);
  // Completion is written from the whole tree, so it is added (and loaded) only with all the commands.
  if (names.length === Object.keys(COMMANDS).length) program.addCommand((await import('./completion.js')).completionCommand(program));
  addEnvironmentHelp(program);
  exitOverrideEverywhere(program);
  program.hook('preAction', (_root, actionCommand) => {
    current.command = commandPath(actionCommand);
    checkContradictions(current.argv, current.command);
    checkValuesThatAreOptions(actionCommand, current.command);
  });
  return program;
}

/** What main() is running: read by the error paths that come before or around a command. */
export interface RunState {
  argv: readonly string[];
  command: string | null;
}

/** A command's name as `--json` gives it: `import-csv`, `invitations send` (never its arguments). */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ') || 'jsm-provision';
}

/** The command argv names (its leading words that are commands), for errors before commander knows it. */
function commandFromArgv(program: Command, args: readonly string[]): string {
  let command = program;
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    command = sub;
  }
  return commandPath(command);
}

/** The command groups: their name is two words (`invitations send`). */
const GROUPS = new Set(['project', 'customers', 'invitations', 'store', 'organizations']);

/**
 * The command's name from the words alone, for an interrupt that comes before the program is built
 * (a script's SIGTERM at once): `--json` says `import-csv`, not the program's name.
 */
function commandBeforeBuilt(args: readonly string[]): string {
  const [first, second] = args;
  if (first === undefined || !Object.hasOwn(COMMANDS, first)) return 'jsm-provision';
  return GROUPS.has(first) && second !== undefined && /^[a-z][a-z-]*$/.test(second) ? `${first} ${second}` : first;
}

/**
 * commander's own errors (unknown option, missing argument) are usage errors: exit 2. Each command
 * tags its errors with its own name, so `--json` can say which command it was.
 */
function exitOverrideEverywhere(command: Command): void {
  const path = commandPath(command);
  command.exitOverride((error) => {
    throw Object.assign(error, { commandPath: path, hint: commanderHint(command, error.message) });
  });
  envFromIo(command);
  // commander names an unknown option as given, `--password=S3cret` included: never its value.
  command.configureOutput({
    // commander writes to the run's streams (process.stdout by default), and knows their terminals.
    writeOut: (text) => runIo().stdout.write(text),
    writeErr: (text) => runIo().stderr.write(text),
    getOutHelpWidth: () => (runIo().stdout.isTTY ? runIo().stdout.columns : undefined) as number,
    getErrHelpWidth: () => (runIo().stderr.isTTY ? runIo().stderr.columns : undefined) as number,
    getOutHasColors: () => hasColors(runIo().stdout),
    getErrHasColors: () => hasColors(runIo().stderr),
    outputError: (text, write) => {
      // A group given options but none of its commands (`project --json`): what is missing is the command.
      const names = command.commands.map((c) => c.name());
      if (command.parent && names.length > 0 && /unknown option/.test(text) && !runArgs().some((word) => names.includes(word))) {
        write(`error: ${path} needs one of its commands: ${names.filter((n) => n !== 'help').join(', ')}\n  → e.g. jsm-provision ${path} ${names.includes('list') ? 'list' : names[0]} (\`jsm-provision ${path} --help\` says what each does)\n`);
        return;
      }
      const elsewhere = optionTakenElsewhere(path, text);
      if (elsewhere !== undefined) {
        write(`error: ${elsewhere.message}\n  → ${elsewhere.hint}\n`);
        return;
      }
      const hint = secretOptionHint(text) ?? commanderHint(command, text);
      write(`${withoutOptionValues(text).trimEnd()}\n${hint === undefined ? '' : `  → ${hint}\n`}`);
      // The hint is the fix: "(add --help for usage)" after it would only send the user elsewhere.
      if (hint !== undefined) command.showHelpAfterError(false);
    },
  });
  for (const sub of command.commands) exitOverrideEverywhere(sub);
}

/** commander's own rule (NO_COLOR, FORCE_COLOR, CLICOLOR_FORCE, else a colour terminal), on the run's io. */
function hasColors(stream: { isTTY?: boolean; hasColors?: () => boolean }): boolean {
  const env = runIo().env;
  if (env.NO_COLOR || env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.FORCE_COLOR || env.CLICOLOR_FORCE !== undefined) return true;
  return Boolean(stream.isTTY && stream.hasColors?.());
}

/**
 * commander reads an option's environment variable from process.env: read from the run's instead
 * (the same rule as commander's own: a value from the command line or code wins).
 */
function envFromIo(command: Command): void {
  const parse = function (this: Command & { emit(event: string, ...args: unknown[]): boolean }): void {
    const env = runIo().env;
    for (const option of this.options) {
      if (!option.envVar || env[option.envVar] === undefined) continue;
      const key = option.attributeName();
      if (this.getOptionValue(key) !== undefined && !['default', 'config', 'env'].includes(this.getOptionValueSource(key) ?? '')) continue;
      if (option.required || option.optional) this.emit(`optionEnv:${option.name()}`, env[option.envVar]);
      else this.emit(`optionEnv:${option.name()}`);
    }
  };
  (command as unknown as { _parseOptionsEnv: () => void })._parseOptionsEnv = parse;
}

/** `'--opt=value'` in a commander message as `'--opt=…'`: a value given to a wrong option may be a secret. */
export function withoutOptionValues(message: string): string {
  // `--password=x` as '--password=…'; `-phunter2` (a short option with its value joined) as '-p…'.
  return message.replace(/'(-{1,2}[^'=\s]+)=[^']*'/g, "'$1=…'").replace(/'(-[A-Za-z0-9])[^'\s-][^']*'/g, "'$1…'");
}

/**
 * An option a command does not take because its input already says it: `apply --project` (the plan
 * names its project and target). commander's message and its guess (if any) are replaced by what
 * the user needs: why, and the fix.
 */
export function optionTakenElsewhere(path: string, message: string): { message: string; hint: string } | undefined {
  if (path !== 'apply' || !/unknown option '--project(=[^']*)?'/.test(message)) return undefined;
  return {
    message: "unknown option '--project': apply takes the project (and the target) from the plan",
    hint: 'leave out --project: the plan names the project it was made for (import-csv FILE --project KEY --plan plan.json); --target, when given, must be the plan\'s; `jsm-provision apply --help` shows examples',
  };
}

/** For an unknown option that looks like a secret (--password, --token, …): where secrets go instead. */
export function secretOptionHint(message: string): string | undefined {
  const option = /unknown option '(-{1,2}[^'=\s]+)/.exec(message)?.[1];
  // -p: the password option of mysql and others, its value often joined (-pS3cret).
  if (option === undefined || !(/pass|token|secret|pwd/i.test(option) || /^-p/.test(option))) return undefined;
  return 'passwords and tokens are never option values (ps and shell history would show them): a customer password by --password-stdin, --password-file or --generate-password; JSM credentials in JSM_TOKEN, JSM_PASSWORD or their _FILE variables; the SMTP password in JSM_SMTP_PASSWORD or --smtp-password-file';
}

/**
 * For commander's own errors that say what is wrong but not the fix (a missing value, argument or
 * option; a word too many): the fix, from the command's own options and arguments. A word too many
 * is usually a value with a space left unquoted (`--name Fred Jones`); it is named unless it follows
 * a password-like flag (it may be the password).
 */
export function commanderHint(command: Command, message: string): string | undefined {
  const path = commandPath(command);
  if (command.commands.length > 0 && /unknown option '/.test(message)) return optionsBeforeCommandHint(command);
  const flags = /option '([^']+)' argument missing|required option '([^']+)' not specified/.exec(message);
  if (flags) {
    const given = (flags[1] ?? flags[2]) as string;
    const option = command.options.find((o) => o.flags === given);
    return `give ${flags[1] !== undefined ? 'its value' : 'it'}: ${given.replace(/^-\w, /, '')}${option?.description ? ` (${option.description})` : ''}; \`jsm-provision ${path} --help\` shows examples`;
  }
  const missing = /missing required argument '([^']+)'/.exec(message)?.[1];
  if (missing !== undefined) {
    const argument = command.registeredArguments.find((a) => a.name() === missing);
    return `give it: jsm-provision ${path} <${missing}>${argument?.description ? ` (${argument.description})` : ''}; \`jsm-provision ${path} --help\` shows examples`;
  }
  if (/^(error: )?too many arguments/.test(message)) {
    const takes = command.registeredArguments.length === 0 ? 'takes no arguments, only options' : `takes ${command.registeredArguments.map((a) => `<${a.name()}>`).join(' ')}`;
    const extra = command.args[command.registeredArguments.length];
    const raw = runArgs();
    const at = extra === undefined ? -1 : raw.indexOf(extra);
    const before = at > 0 ? (raw[at - 1] as string) : '';
    if (/pass|token|secret|pwd/i.test(before)) {
      return `a word follows ${before.split('=')[0]}, which takes no value (not shown: it may be a password): passwords are never given on the command line; --password-stdin reads one from a pipe, --password-file from a file`;
    }
    const option = at > 1 ? command.options.find((o) => (o.required || o.optional) && (o.long === raw[at - 2] || o.short === raw[at - 2])) : undefined;
    const quoted = option !== undefined ? `, e.g. ${raw[at - 2]} "${before} ${extra}"` : before.startsWith('--') && before.includes('=') ? `, e.g. ${before.split('=')[0]}="${before.slice(before.indexOf('=') + 1)} ${extra}"` : '';
    return `${extra !== undefined ? `"${extra}" is a word too many: ` : ''}jsm-provision ${path} ${takes}; a value with spaces goes in quotes${quoted}`;
  }
  return undefined;
}

/**
 * An option given before the command's name (`jsm-provision --target x project list`, as git and
 * docker take theirs, or `customers --project ITH list`): the program and the command groups take
 * none, so each command takes them after its whole name.
 * The fix is the same line with the words before the command moved after it; when a word of the
 * line looks like a secret, only the moved words are repeated.
 */
function optionsBeforeCommandHint(group: Command): string | undefined {
  let program = group;
  while (program.parent) program = program.parent;
  const raw = runArgs();
  // The words that name the command (`customers`, `list`), wherever options were put between them.
  const path: number[] = [];
  let command: Command = program;
  for (let i = 0; i < raw.length && command.commands.length > 0; i++) {
    const sub = command.commands.find((c) => c.name() === raw[i]);
    if (sub === undefined) continue;
    path.push(i);
    command = sub;
  }
  const last = path.at(-1);
  if (last === undefined || command.commands.length > 0 || path.every((index, n) => index === n)) return undefined;
  const words = (list: readonly string[]): string => list.map((word) => shellWord(word, '"')).join(' ');
  const name = `jsm-provision ${words(path.map((i) => raw[i] as string))}`;
  const moved = words(raw.slice(0, last).filter((_, i) => !path.includes(i)));
  if (raw.some((word) => /pass|token|secret|pwd/i.test(word))) return `options go after the command (${name} ... ${moved})`;
  return `options go after the command: ${[name, words(raw.slice(last + 1)), moved].filter((part) => part !== '').join(' ')}`;
}

/** Flags given together that contradict each other (contradictions.ts): a usage error, whatever their order. */
function checkContradictions(argv: readonly string[], command: string): void {
  const both = contradictoryFlags(argv);
  if (both !== undefined) {
    throw Object.assign(new UsageError('conflicting-options', `${both.join(' and ')} contradict each other: give one`), { commandPath: command });
  }
}

/**
 * An option's value that is another option of the command (`--report --json`): commander takes
 * the next word whatever it is, so the report would be named "--json" and the JSON never printed.
 * Refused as a missing value, naming both.
 */
function checkValuesThatAreOptions(command: Command, path: string): void {
  const longs = new Set(command.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined));
  for (const option of command.options) {
    if (!(option.required || option.optional)) continue;
    const name = option.attributeName();
    if (command.getOptionValueSource(name) !== 'cli') continue;
    const value: unknown = command.getOptionValue(name);
    for (const given of Array.isArray(value) ? value : [value]) {
      if (typeof given !== 'string' || !longs.has(given.split('=')[0] as string)) continue;
      throw Object.assign(
        new UsageError('missing-option-value', `${option.long ?? option.flags} needs a value, but the word after it is the option ${given}`, `give ${option.flags.replace(/^.*?(--\S+)/, '$1')}, then ${given} separately`),
        { commandPath: path },
      );
    }
  }
}

/** Environment variables every command reads, besides those of its own options. */
const COMMON_ENV = ['JSM_CONFIG', 'JSM_PROFILE', 'JSM_TOKEN', 'JSM_TOKEN_FILE', 'JSM_USER', 'JSM_PASSWORD', 'JSM_PASSWORD_FILE', 'JSM_STATE_DIR', 'JSM_LOCK_WAIT', 'NO_COLOR',
  // REST targets: a proxy (lower case too, as curl reads them) and a private CA.
  'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'NODE_EXTRA_CA_CERTS'];

/** Each command's --help ends with the environment variables it reads. */
function addEnvironmentHelp(command: Command): void {
  for (const sub of command.commands) {
    if (sub.commands.length > 0) {
      addEnvironmentHelp(sub);
      continue;
    }
    if (sub.name() === 'completion') continue;
    const own = sub.options.map((o) => o.envVar).filter((v): v is string => v !== undefined);
    const mail = sub.options.some((o) => o.long === '--smtp') ? ['JSM_SMTP_PASSWORD'] : [];
    const all = [...new Set([...own, ...mail, ...COMMON_ENV])];
    sub.addHelpText('after', `\nEnvironment: ${all.join(', ')}\n(settings may also come from ${'jsm-provision.config.json'}, --config or JSM_CONFIG; flags > environment > profile > file)`);
  }
}

/** commander's error codes as this tool's kebab-case codes. */
const COMMANDER_CODES: Record<string, string> = {
  unknownOption: 'unknown-option',
  unknownCommand: 'unknown-command',
  missingArgument: 'missing-argument',
  missingMandatoryOptionValue: 'missing-option',
  optionMissingArgument: 'missing-option-value',
  excessArguments: 'too-many-arguments',
  invalidArgument: 'bad-option',
  conflictingOption: 'conflicting-options',
  help: 'missing-command',
};

export function kebabCode(code: string): string {
  const bare = code.replace(/^commander\./, '');
  return COMMANDER_CODES[bare] ?? bare.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Commands that never read the config file: completion, help and the version. */
function readsNoConfig(argv: readonly string[]): boolean {
  const first = argv.find((a) => !a.startsWith('-'));
  return first === 'completion' || first === 'help' || argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V');
}

/** The command group `path` names, when it was given with options only (none of its commands). */
function groupWithoutCommand(program: Command, path: string | undefined, argv: readonly string[]): Command | undefined {
  if (path === undefined) return undefined;
  let command: Command | undefined = program;
  // `jsm-provision --json` alone: the program is the group, and what is missing is a command.
  if (path !== program.name()) for (const word of path.split(' ')) command = command?.commands.find((c) => c.name() === word);
  if (command === undefined || command.commands.length === 0) return undefined;
  const names = new Set(command.commands.map((c) => c.name()));
  const after = argv.slice(argv.indexOf(path.split(' ').at(-1) ?? '') + 1);
  return after.some((word) => names.has(word)) ? undefined : command;
}

/** An error that came before or around a command: rendered as a command's own (result.ts); with `words` false, its JSON object only. */
async function printError(command: string, error: unknown, json: boolean, words: boolean): Promise<number> {
  const [{ Output }, { renderFailure }] = await Promise.all([import('../io/output.js'), import('./action.js')]);
  const out = new Output({ json, quiet: false }, runIo().stdout, words ? runIo().stderr : ({ write: () => true, isTTY: false } as never));
  return renderFailure(out, command, error);
}

/**
 * Runs the command line `args` (the words after the program's name) with `io` as its world, and
 * returns its exit code. bin/ is the only caller that is a process; tests call it in process.
 */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const state: RunState = { argv: [...args], command: null };
  const argv = ['node', 'jsm-provision', ...args];
  const json = state.argv.includes('--json');
  let program: Command | null = null;
  const name = (): string => state.command ?? (program ? commandFromArgv(program, state.argv) : commandBeforeBuilt(state.argv));
  // An interrupt that stops at once: in a process, bin/ then exits 130; in process, main returns 130
  // at once (what the command was doing is left to end by itself).
  let stopNow: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    stopNow = resolve;
  });
  io.interrupts.attach(
    io.stderr,
    (signal) => {
      if (json) io.stdout.write(`${JSON.stringify(envelope(name(), false, { error: { code: 'interrupted', message: `${signal}: stopped before the command finished; what was done is recorded` } }), null, 2)}\n`);
    },
    () => stopNow(130),
  );
  const hooks = io.env.JSM_PROVISION_TEST_HOOKS
    ? { spec: io.env.JSM_PROVISION_TEST_HOOKS, write: io.writeErrSync ?? ((text: string) => void io.stderr.write(text)), stop: io.stopSelf ?? (() => undefined) }
    : undefined;
  const run = withIo(io, state.argv, () => withTestHooks(hooks, () => runProgram(argv, state, json, name, (made) => (program = made))));
  return Promise.race([run, stopped]);
}

async function runProgram(argv: string[], state: RunState, json: boolean, name: () => string, made: (program: Command) => void): Promise<number> {
  const io = runIo();
  let program: Command | null = null;
  try {
    // A config file is checked against every command's options (a key of another command is not a
    // typo), so with one the whole tree is loaded; without one, only the command that runs.
    // `completion`, --help and --version run whatever the config says (`source <(jsm-provision
    // completion bash)` in ~/.bashrc must not fail in a folder with a broken config file).
    const withConfig = !readsNoConfig(state.argv) && configFileApplies(state.argv, io.env, io.cwd);
    program = await buildProgram(argv, withConfig, state);
    made(program);
    if (withConfig) applyConfig(program, loadConfig(state.argv, io.env, program, io.cwd), io.env);
    await program.parseAsync(argv);
    return exitCodeSet() ?? 0;
  } catch (error) {
    const tagged = (error as { commandPath?: string }).commandPath;
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; commander already printed its words.
      if (error.exitCode === 0) return 0;
      if (json) {
        // A command group given without its command (`project --json`): commander stops at the
        // option the group does not take; what is missing is the command.
        const group = program && error.code === 'commander.unknownOption' ? groupWithoutCommand(program, tagged, state.argv) : undefined;
        if (group !== undefined) {
          const subs = group.commands.map((c) => c.name()).filter((n) => n !== 'help');
          const message = `${tagged} needs one of its commands: ${subs.join(', ')}`;
          const hint = group === program ? 'see each with: jsm-provision --help' : `e.g. jsm-provision ${tagged} ${subs.includes('list') ? 'list' : subs[0]} --json`;
          await printError(tagged ?? name(), new UsageError('missing-command', message, hint), true, false);
          return 2;
        }
        const elsewhere = optionTakenElsewhere(tagged ?? '', error.message);
        if (elsewhere !== undefined) {
          await printError(tagged ?? name(), new UsageError(kebabCode(error.code), elsewhere.message, elsewhere.hint), true, false);
          return 2;
        }
        // commander's "(Did you mean show?)" is a hint, on its own line: `hint`, not part of `message`.
        const [message = '', ...more] = withoutOptionValues(error.message.replace(/^error: /, '')).split('\n');
        const suggestion = more.join(' ').trim().replace(/^\((.*)\)$/, '$1');
        await printError(tagged ?? name(), new UsageError(kebabCode(error.code), message, secretOptionHint(error.message) ?? (error as { hint?: string }).hint ?? (suggestion || undefined)), true, false);
      }
      return 2;
    }
    return printError(error instanceof RunError ? (tagged ?? name()) : name(), error, json, true);
  }
}
