import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_CONCURRENCY } from '../../core/pool.js';
import { StalePlan, UsageError } from '../../core/errors.js';
import { countsAgainstActions, parsePlanFile, staleness, type PlanFile } from '../../core/plan-file.js';
import { printable, shellWord } from '../../core/printable.js';
import { openCsv } from '../../csv/index.js';
import { progressFolder, readProgress, writeProgress } from '../../store/plan-progress.js';
import { fileReason } from '../../util/atomic-file.js';
import { makeFolders } from '../../util/folders.js';
import { withLock } from '../../store/lock.js';
import type { Target } from '../../core/target.js';
import type { ProjectInfo } from '../../core/types.js';
import type { TargetSetting } from '../settings/target-setting.js';
import { action, withTarget } from '../program/action.js';
import { lockedFileOf, openTarget } from '../runs/context.js';
import { inputDigest, planFromInput, renderDesired, runDesired } from '../runs/desired-run.js';
import { inCwd, io } from '../io/io.js';
import { addCommonOptions, addMailOptions, type CommonOptions } from '../settings/options.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';
import { applySchema, classifyTarget, mailSettings, parseSettings } from '../settings/settings.js';
import { importRunOptions } from './import-csv.js';

export function applyCommand(): Command {
  return addCommonOptions(
    addMailOptions(
      new Command('apply')
        .description('do exactly a plan written by `import-csv --plan`, or refuse (exit 4) when the target or the input changed since')
        .argument('<plan>', 'the plan file')
        .option('-y, --yes', 'do not ask for confirmation in a terminal before removals or invitations')
        .option('--dry-run', 'check the plan against the target and the input as apply would (exit 4 when it no longer holds) and show it; write and send nothing')
        .option('--report <file.csv|file.json>', 'write every row with its line, status, invitation and reason')
        .addOption(new Option('--concurrency <n>', 'invitations (and JSM requests) in flight at once').default(String(DEFAULT_CONCURRENCY), String(DEFAULT_CONCURRENCY))),
    ),
  )
    .addHelpText(
      'after',
      `
The plan names its target, project and input file; the input is read again (passwords are never in
a plan) and must have the SHA-256 the plan recorded. The target is read again too: when anything the
plan touches changed since it was made, or the plan was applied already, nothing is written and the
exit code is 4 (make a new plan). Credentials (JSM_TOKEN ...) and the mail route (--smtp, --outbox, the
config file) are given to apply as to any run. A killed apply is finished by running the same apply
again: nothing is done twice, and each invitation is sent at most once.

Plan, review, apply: make the plan (import-csv FILE --sync --plan plan.json), read the changes it
lists or have them reviewed (in CI: the plan on a pull request, applied on merge: docs/ci.md and
docs/examples/jsm-sync.yml), then apply exactly that file.

Examples:
  $ jsm-provision import-csv your-customers.csv --project ITH --sync --plan plan.json
  $ jsm-provision apply plan.json --outbox outbox/ --json`,
    )
    .action(action('apply', runApply));
}

async function readPlan(path: string): Promise<PlanFile> {
  let text: string;
  try {
    text = await readFile(inCwd(path), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError('file-not-found', `${printable(path)}: no such plan file; nothing was written`, 'check the path, or make the plan with: jsm-provision import-csv FILE --plan ' + path);
    // The plan is the user's file, not one of this tool's: its own code, not the store's.
    throw new UsageError('bad-plan', `cannot read the plan ${printable(path)}: ${fileReason(error)}; nothing was written`, 'give the plan file made by: jsm-provision import-csv FILE --plan <plan.json>');
  }
  return parsePlanFile(text, printable(path));
}

/** Up to this many changes are named in a stale plan's message. */
const NAMED = 10;

function stale(plan: string, changes: readonly string[], what: string): StalePlan {
  const named = changes.slice(0, NAMED).join('; ');
  const more = changes.length > NAMED ? `; and ${changes.length - NAMED} more` : '';
  return new StalePlan('stale-plan', `${printable(plan)} no longer holds: ${what}${named !== '' ? `: ${named}${more}` : ''}; nothing was written`, 'make a new plan (import-csv ... --plan) and review it');
}

async function runApply(out: Output, raw: CommonOptions, path: string): Promise<CommandResult> {
  const { smtp, smtpPasswordFile, smtpName, mailFrom, outbox, templateDir, language, portalUrl, ...settings } = parseSettings(applySchema, raw);
  const saved = await readPlan(path);
  // What a reviewer read (the counts) must be what apply would do (the actions): else it was edited.
  const miscounted = countsAgainstActions(saved);
  if (miscounted.length > 0) throw stale(path, miscounted, 'its counts do not match its actions (the plan was edited)');
  const { input, options } = saved;
  // The plan's target, unless --target (JSM_TARGET) names one: then it must be the same.
  const given = settings.target.kind !== 'local' || settings.target.given;
  const target = given ? settings.target : classifyTarget(saved.target.location);
  const mail = mailSettings({ smtp, smtpPasswordFile, smtpName, mailFrom, outbox, templateDir, language, portalUrl }, target, ['welcome']);
  // The input as the plan read it: its passwords are read again; another file is another plan.
  const sha256 = await inputDigest(inCwd(input.path)).catch((error: unknown) => {
    if (!(error instanceof UsageError) || error.code !== 'file-not-found') throw error;
    throw new UsageError(
      'file-not-found',
      `the input of ${printable(path)}, ${printable(input.path)}, is not there (a relative path is read from the folder apply runs in); nothing was written`,
      'run apply from the folder the plan was made in, with the same file, or make a new plan',
    );
  });
  if (sha256 !== input.sha256) throw stale(path, [], `the input ${printable(input.path)} changed since the plan was made (its SHA-256 differs)`);
  const open = () =>
    openCsv(input.path, {
      map: input.map,
      from: { cwd: io().cwd, stdin: io().stdin, onTerminal: (text) => void io().stderr.write(text) },
      ...(input.delimiter !== null ? { delimiter: input.delimiter } : {}),
      ...(input.encoding !== null ? { encoding: input.encoding } : {}),
      ...(typeof input.maxRowChars === 'number' ? { maxRowChars: input.maxRowChars } : {}),
    });
  const stateFile = await lockedFileOf(target);
  const folder = progressFolder(stateFile);
  // One apply of a plan at a time: a second one waits for the first, then finds it applied (exit 4).
  const planLock = join(folder, `${saved.id}.json`);
  const oneAtATime = async (fn: () => Promise<CommandResult>): Promise<CommandResult> => {
    await makeFolders(folder);
    return withLock(planLock, fn, {
      onWait: (message) => out.warn(`another apply of ${printable(path)} is running: ${message}`),
      unlockCommand: `rm ${shellWord(`${planLock}.lock`)}`,
      ...(settings.lockWait !== undefined ? { timeoutMs: settings.lockWait } : {}),
    });
  };
  const unlocked = (fn: () => Promise<CommandResult>): Promise<CommandResult> => fn();
  const apply = (accepted: typeof oneAtATime) => applyPlan(out, settings, path, saved, target, mail, open, folder, accepted);
  // A dry run writes nothing, not even a lock.
  if (settings.dryRun) return apply(unlocked);
  if (target.kind === 'local') {
    // A local store that is not there, or not the plan's: the run refuses it (no-store,
    // plan-target-mismatch), and nothing is made beside it. Else the lock is taken before the store
    // is read, so that a second apply reads what the first one wrote.
    if (!existsSync(stateFile) || stateFile !== saved.target.location) return apply(unlocked);
    return oneAtATime(() => apply(unlocked));
  }
  // JSM: nothing is written (no plan-progress folder, no lock) before it took the credentials and
  // knows the project; the lock is taken then.
  return apply(oneAtATime);
}

async function applyPlan(
  out: Output,
  settings: Omit<ReturnType<typeof parseSettings<typeof applySchema>>, 'smtp' | 'smtpPasswordFile' | 'smtpName' | 'mailFrom' | 'outbox' | 'templateDir' | 'language' | 'portalUrl'>,
  path: string,
  saved: PlanFile,
  target: TargetSetting,
  mail: ReturnType<typeof mailSettings>,
  open: () => ReturnType<typeof openCsv>,
  folder: string,
  /** Runs the rest of the apply once the target answered (credentials taken, project found): under the plan's lock, or as it is. */
  accepted: (fn: () => Promise<CommandResult>) => Promise<CommandResult>,
): Promise<CommandResult> {
  const { input, options } = saved;
  const invitations = options.noInvite ? ('none' as const) : options.defer ? ('defer' as const) : ('send' as const);
  const matchAccounts = options.matchAccounts === 'email' || options.matchAccounts === 'username' || options.matchAccounts === 'jsm-username' ? options.matchAccounts : undefined;
  return withTarget(
    () => openTarget({ target, concurrency: settings.concurrency, ...(settings.lockWait !== undefined ? { lockWait: settings.lockWait } : {}), ...(matchAccounts !== undefined ? { matchAccounts } : {}) }, out),
    async (opened) => {
      if (opened.location !== saved.target.location) {
        throw new UsageError('plan-target-mismatch', `${printable(path)} was made for ${printable(saved.target.location)}, and --target names ${printable(opened.location)}`, "leave out --target (apply uses the plan's), or make a plan for this target");
      }
      // The target's first answer (credentials refused, the project gone) comes before anything a
      // REST apply writes: its plan-progress folder and lock are made only once the target took the run.
      const project = await opened.getProject(saved.target.project);
      return accepted(() => applyChecked(opened, project));
    },
  );

  async function applyChecked(opened: Target, project: ProjectInfo): Promise<CommandResult> {
    const progress = await readProgress(folder, saved.id);
    if (progress?.state === 'applied') throw stale(path, [], `it was applied already (${progress.at})`);
    const run = importRunOptions('apply', 'welcome', { yes: settings.yes, invitations, dryRun: false, mail, report: settings.report, concurrency: settings.concurrency, organization: options.organization, createOrganizations: options.createOrganizations }, out);
    const desired = { command: 'apply', project, kind: 'welcome' as const, invitations, dryRun: true, sync: options.sync, maxRemovals: Number.MAX_SAFE_INTEGER };
    const fresh = await planFromInput(open, opened, desired, options.organization);
    const resuming = progress?.state === 'started';
    const changes = staleness(saved, fresh, resuming);
    if (changes.length > 0) throw stale(path, changes, 'what it says differs from what the target and the input give now (the target changed since the plan was made, or the plan was edited)');
    if (settings.dryRun) {
      const where = `${opened.kind === 'local' ? 'local store' : 'JSM'} ${opened.location}`;
      return {
        outcome: fresh.problems.length === 0 ? 'done' : 'problems',
        json: { target: opened.kind, project: project.key, dryRun: true, sync: options.sync, plan: path, counts: fresh.counts, rows: fresh.rows, invitations: { decision: fresh.invitation.action, reason: fresh.invitation.reason }, problems: fresh.problems },
        text: (c) => renderDesired(fresh, c, `${printable(path)} still holds; ${resuming ? 'what is left of it' : 'it'} for ${project.key} (${printable(where)}):`, null),
      };
    }
    // Durable before the first write: a killed apply is finished by the same apply.
    await writeProgress(folder, saved.id, 'started', new Date(io().now()).toISOString());
    return runDesired(opened, project, fresh, open, { ...run, inputs: [input.path, path] }, out, async (ok) => {
      if (ok) await writeProgress(folder, saved.id, 'applied', new Date(io().now()).toISOString());
    }, !settings.yes);
  }
}
