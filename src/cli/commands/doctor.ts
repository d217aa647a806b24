import { Command } from 'commander';
import { errorBody, RunError, TargetError } from '../../core/errors.js';
import type { Target } from '../../core/target.js';
import { credentialSource } from '../../targets/rest/credentials.js';
import type { RestTarget } from '../../targets/rest/index.js';
import { parseSmtpUrl } from '../../mail/smtp-url.js';
import { action } from '../program/action.js';
import { configLocation } from '../settings/config.js';
import { cloudCredentialsRefusal, ledgerOf, mailSetup, openTarget, type LedgerPlace } from '../runs/context.js';
import { addCommonOptions, addMailOptions, addProjectOption, DEFAULT_STORE, type CommonOptions } from '../settings/options.js';
import type { Output } from '../io/output.js';
import { outcomeOf, type CommandResult, type Outcome } from '../io/result.js';
import { classifyTarget, doctorSchema, mailSettings, parseSettings, type DoctorSettings, type TargetSetting } from '../settings/settings.js';
import { io, runArgs } from '../io/io.js';

/** What `doctor` found out, as `--json` prints it after `ok` and `command` (result.ts adds those). */
export interface DoctorReport {
  target: 'local' | 'rest';
  /** Which JSM a REST target is (`dc` when it could not be told), null for the local store. */
  deployment: 'dc' | 'cloud' | null;
  location: string;
  /** Where the target came from: `--target`, `JSM_TARGET`, `config` (the file or its profile), or `default`. */
  targetFrom: string;
  config: { file: string | null; profile: string | null };
  project: string | null;
  projectFrom: string | null;
  ledger: LedgerPlace;
  mail: { route: 'smtp' | 'outbox' | 'none'; smtp: string | null; from: string | null; outbox: string | null };
  credentials: { source: string | null; works: boolean | null; user: string | null; jsmVersion: string | null };
  problems: { check: 'target' | 'credentials' | 'project' | 'mail'; code: string; message: string; hint?: string }[];
  error?: { code: string; message: string; hint?: string };
}

export function doctorCommand(): Command {
  const doctor = new Command('doctor').description(
    'show what a command here would use (target, config file and profile, invitation ledger, mail route) and check that the target, its credentials and the SMTP server work; writes and sends nothing',
  );
  addCommonOptions(addMailOptions(addProjectOption(doctor)))
    .addHelpText('after', '\nExit codes: 0 all well; 2 a setting cannot work (configuration); 3 the target refused (credentials, project, unreachable).\n\nExamples:\n  $ jsm-provision doctor\n  $ JSM_PROFILE=ci jsm-provision doctor --project ITH --json')
    .action(action('doctor', (out, raw: CommonOptions) => runDoctor(out, raw, doctor)));
  return doctor;
}

/** Where an option's value came from, in the words a user would look for. */
function sourceOf(command: Command, name: string, flag: string, variable: string): string {
  switch (command.getOptionValueSource(name)) {
    case 'cli':
      return flag;
    case 'env':
      return variable;
    case 'config':
      return 'config';
    default:
      return 'default';
  }
}

async function runDoctor(out: Output, raw: CommonOptions, command: Command): Promise<CommandResult> {
  const options = parseSettings(doctorSchema, raw);
  const spec = options.target?.trim() || DEFAULT_STORE;
  // Classified as every command does (settings.ts); a target that cannot be is the first problem found.
  let setting: TargetSetting | undefined;
  let refused: unknown;
  try {
    setting = classifyTarget(options.target);
  } catch (error) {
    refused = error;
  }
  const rest = setting !== undefined && setting.kind !== 'local';
  const report: DoctorReport = {
    target: rest ? 'rest' : 'local',
    deployment: setting?.kind === 'cloud' ? 'cloud' : rest ? 'dc' : null,
    location: spec,
    targetFrom: sourceOf(command, 'target', '--target', 'JSM_TARGET'),
    config: configLocation(runArgs(), io().env, io().cwd),
    project: options.project ?? null,
    projectFrom: options.project !== undefined ? sourceOf(command, 'project', '--project', 'JSM_PROJECT') : null,
    ledger: await ledgerOf(setting ?? { kind: 'local', path: spec, given: true }),
    mail: mailRoute(options, rest),
    credentials: { source: rest ? (credentialSource(io().env)?.source ?? null) : null, works: null, user: null, jsmVersion: null },
    problems: [],
  };
  const errors: RunError[] = [];
  const problem = (check: DoctorReport['problems'][number]['check'], error: unknown): void => {
    if (!(error instanceof RunError)) throw error;
    errors.push(error);
    report.problems.push({ check, ...errorBody(error) });
  };
  let target: Target | undefined;
  try {
    if (setting === undefined) throw refused;
    target = await openTarget({ target: setting, lockWait: options.lockWait }, out);
    report.location = target.location;
    // JSM Cloud logs in with the account's email and an API token.
    if (target.deployment === 'cloud') {
      report.deployment = 'cloud';
      if (report.credentials.source !== null) report.credentials.source = `JSM_USER and ${report.credentials.source}`;
    }
  } catch (error) {
    // A custom domain with no (or half) credentials opened as Data Center: ask the site what it is,
    // so that a Cloud site is told what Cloud takes, not Data Center's variables.
    let refusal = error;
    if (setting?.kind === 'dc' && error instanceof RunError && error.code === 'missing-credentials') {
      const cloud = await cloudCredentialsRefusal(setting.baseUrl).catch(() => undefined);
      if (cloud !== undefined) {
        report.deployment = 'cloud';
        refusal = cloud;
      }
    }
    problem(rest ? 'credentials' : 'target', refusal);
  }
  if (target !== undefined) {
    try {
      await checkTarget(target, options, report, problem);
    } finally {
      await target.close().catch(() => undefined);
    }
  }
  await checkMail(options, report, problem);
  const first = report.problems[0];
  if (first !== undefined) {
    report.error = { code: first.code, message: first.message, ...(first.hint !== undefined ? { hint: first.hint } : {}) };
  }
  return { outcome: doctorOutcome(errors), json: { ...report }, text: renderDoctor(report), errors };
}

/** Unusable when a setting cannot work (configuration, exit 2); else refused when the target refused (3); else done. */
export function doctorOutcome(errors: readonly RunError[]): Outcome {
  if (errors.some((e) => outcomeOf(e) === 'unusable')) return 'unusable';
  return errors.length > 0 ? 'refused' : 'done';
}

async function checkTarget(target: Target, options: DoctorSettings, report: DoctorReport, problem: (check: 'target' | 'credentials' | 'project', error: unknown) => void): Promise<void> {
  if (target.kind === 'rest') {
    const jsm = target as RestTarget;
    try {
      const access = await jsm.access();
      report.credentials = { ...report.credentials, works: true, user: access.user, jsmVersion: access.jsmVersion };
    } catch (error) {
      if (error instanceof TargetError && (error.code === 'auth-failed' || error.code === 'captcha-required')) report.credentials.works = false;
      problem('credentials', error);
      return;
    }
    try {
      if (options.project !== undefined) report.project = (await jsm.findProject(options.project)).key;
    } catch (error) {
      problem('project', error);
    }
    return;
  }
  try {
    if (options.project !== undefined) await target.getProject(options.project);
  } catch (error) {
    problem('project', error);
  }
}

function mailRoute(options: DoctorSettings, rest: boolean): DoctorReport['mail'] {
  const smtp = options.smtp?.trim() || undefined;
  const from = options.mailFrom?.trim() || null;
  if (smtp !== undefined) {
    let shown = smtp;
    try {
      shown = parseSmtpUrl(smtp).redacted;
    } catch {
      shown = '(not a valid URL)';
    }
    return { route: 'smtp', smtp: shown, from, outbox: null };
  }
  const outbox = options.outbox?.trim() || undefined;
  if (outbox === undefined && rest) return { route: 'none', smtp: null, from, outbox: null };
  return { route: 'outbox', smtp: null, from, outbox: null };
}

/** The mail settings checked as a run would check them, the SMTP server included; the outbox folder is not made. */
async function checkMail(options: DoctorSettings, report: DoctorReport, problem: (check: 'mail', error: unknown) => void): Promise<void> {
  if (report.mail.route === 'none') return;
  try {
    const where: TargetSetting = report.target === 'local' ? { kind: 'local', path: report.location, given: true } : { kind: report.deployment === 'cloud' ? 'cloud' : 'dc', baseUrl: report.location };
    const settings = mailSettings(options, where, []);
    const setup = mailSetup(settings, () => undefined);
    report.mail.outbox = setup.outbox;
    if (report.mail.route === 'smtp') {
      await setup.preflight();
      await setup.close();
    }
  } catch (error) {
    problem('mail', error);
  }
}

/** The words of the report (pure). */
export function renderDoctor(r: DoctorReport): string {
  const from = (source: string | null): string => (source === null || source === 'default' ? '(default)' : source === 'config' ? '(from the config file)' : `(from ${source})`);
  const lines: [string, string][] = [
    ['target', `${r.target === 'rest' ? (r.deployment === 'cloud' ? 'JSM Cloud' : 'JSM') : 'local store'} ${r.location} ${from(r.targetFrom)}`],
    ['config', r.config.file === null ? 'no config file' : `${r.config.file}${r.config.profile !== null ? `, profile ${r.config.profile}` : ''}`],
    ['project', r.project === null ? 'none named (--project or JSM_PROJECT)' : `${r.project} ${from(r.projectFrom)}`],
  ];
  if (r.target === 'rest') {
    const c = r.credentials;
    const works = c.works === true ? `work: logged in as ${c.user ?? '?'} (JSM ${c.jsmVersion ?? '?'})` : c.works === false ? 'refused (see below)' : 'not checked (see below)';
    const none = r.deployment === 'cloud' ? "none set (JSM Cloud: JSM_USER, the account's email, and JSM_TOKEN, an API token)" : 'none set (JSM_TOKEN, or JSM_USER and JSM_PASSWORD)';
    lines.push(['credentials', `${c.source ?? none}: ${works}`]);
  }
  lines.push(['ledger', `${r.ledger.path}${r.ledger.exists ? '' : ' (not there yet: made by the first run that records an invitation)'}`]);
  const m = r.mail;
  const mail =
    m.route === 'smtp'
      ? `SMTP ${m.smtp ?? ''}${m.from !== null ? ` from ${m.from}` : ''}${r.problems.some((p) => p.check === 'mail') ? '' : ' (the server took the login and the sender; nothing was sent)'}`
      : m.route === 'outbox'
        ? `.eml files in the outbox ${m.outbox ?? '(see below)'}`
        : 'none: runs that send invitations will be refused (no-mail-route); give --smtp or --outbox, or import with --no-invite or --defer-invites';
  lines.push(['mail', mail]);
  const width = Math.max(...lines.map(([k]) => k.length));
  const body = lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  body.push(r.problems.length === 0 ? 'all well' : `${r.problems.length} problem(s): see below`);
  return body.join('\n');
}

