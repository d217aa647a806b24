import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import type { Target } from '../../core/target.js';
import type { MessageIds } from '../../core/send.js';
import type { Mailer, ProjectInfo } from '../../core/types.js';
import { messageIdDomainFor, messageIdFor } from '../../mail/message-id.js';
import type { TemplateSet } from '../../mail/templates.js';
import type { Secret } from '../../core/secret.js';
import { prepareOutbox } from './preflight.js';
import { readPasswordFile, readSmtpPassword } from '../settings/secrets.js';
import { LocalTarget } from '../../targets/local/target.js';
import { endRun, runIdFor, type LockOptions } from '../../store/lock.js';
import { shellWord } from '../../core/printable.js';
import { DEFAULT_STORE } from '../settings/options.js';
import { targetSpec, type MailSettings, type TargetSetting } from '../settings/settings.js';
import type { Output } from '../io/output.js';
import { inCwd, io, onRunEnd } from '../io/io.js';
import { ledgerPathFor } from '../../store/ledger-file.js';

/** What opening a target needs of a command's settings (settings.ts). */
export interface TargetOptions {
  target: TargetSetting;
  /** JSM_LOCK_WAIT, in milliseconds (absent: the lock's default). */
  lockWait?: number | undefined;
  /** `--concurrency`, where a command has it: bounds the requests in flight to JSM. */
  concurrency?: number;
  matchAccounts?: 'email' | 'username' | 'jsm-username' | undefined;
}

/**
 * Opens the target the settings name (classified by settings.ts classifyTarget): the local store,
 * or JSM over REST (credentials from the environment only): JSM Cloud for a host of atlassian.net,
 * or a custom domain whose serverInfo says Cloud; else Data Center.
 */
export async function openTarget(options: TargetOptions, out: Output, { create = false } = {}): Promise<Target> {
  const target = options.target;
  const lockOptions = lockOptionsFor(targetSpec(target), options.lockWait, out);
  if (target.kind === 'dc' || target.kind === 'cloud') {
    // Loaded only for REST targets: local runs never load undici.
    const { checkBaseUrl, deploymentOf } = await import('../../targets/http/deployment.js');
    const env = await withSecretFiles(io().env, (message) => out.warn(message));
    const ledgerPath = ledgerPathFor(target.baseUrl, io().env, io().cwd);
    const concurrency = options.concurrency;
    const url = checkBaseUrl(target.baseUrl);
    // Cloud by its host (settings.ts), or a custom domain whose serverInfo says so (asked here, once).
    if (target.kind === 'cloud' || (await deploymentOf(url, env)) === 'cloud') {
      const { openCloudTarget } = await import('../../targets/cloud/index.js');
      return openCloudTarget(url, {
        env,
        ledgerPath,
        ...(concurrency !== undefined ? { concurrency } : {}),
        onNote: (message) => out.note(message),
        onWarn: (message) => out.warn(message),
        lockOptions,
      });
    }
    const { openRestTarget } = await import('../../targets/rest/index.js');
    return openRestTarget(target.baseUrl, {
      env,
      ledgerPath,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(options.matchAccounts !== undefined ? { match: options.matchAccounts } : {}),
      onNote: (message) => out.note(message),
      onWarn: (message) => out.warn(message),
      lockOptions,
    });
  }
  const spec = target.path;
  refuseFolderAsStore(spec);
  // Only `project create` makes a store: every other command names a missing one as such.
  if (!create && !existsSync(inCwd(spec))) {
    const host = looksLikeHost(spec);
    throw new UsageError(
      'no-store',
      `no store at ${inCwd(spec)}`,
      host
        ? `${spec} looks like a JSM host, not a file: a JSM target is a URL, e.g. --target https://${spec} (its credentials come from the environment: JSM_TOKEN, JSM_USER, JSM_PASSWORD)`
        : `create it with \`jsm-provision project create KEY --name "Name"${target.given ? ` --target ${spec}` : ''}\` or check --target (JSM_TARGET)`,
    );
  }
  return LocalTarget.open(inCwd(spec), lockOptions);
}

/**
 * For `doctor`, when a Data Center-looking target (a custom domain) was refused for missing
 * credentials: asks the site's serverInfo (anonymous, once) whether it is JSM Cloud, and if so
 * returns Cloud's own words for what is missing (JSM_USER, the account's email, and JSM_TOKEN, an
 * API token) instead of Data Center's. Runs do not ask: their Data Center message stands.
 */
export async function cloudCredentialsRefusal(baseUrl: string): Promise<unknown> {
  const { askDeployment, checkBaseUrl } = await import('../../targets/http/deployment.js');
  const env = await withSecretFiles(io().env, () => undefined);
  const url = checkBaseUrl(baseUrl);
  // At most 5 s: an unreachable site is said by the missing credentials alone, soon.
  if ((await askDeployment(url, env, 5_000)) !== 'cloud') return undefined;
  const { cloudCredentialsFrom } = await import('../../targets/cloud/index.js');
  try {
    cloudCredentialsFrom(env, url);
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * JSM_TOKEN_FILE and JSM_PASSWORD_FILE: the secret is the first line of the file (like
 * --password-file), for a CI whose secrets are mounted as files. Setting both a variable and its
 * file is a mistake.
 */
async function withSecretFiles(env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void): Promise<NodeJS.ProcessEnv> {
  const result = { ...env };
  for (const [variable, fileVariable] of [['JSM_TOKEN', 'JSM_TOKEN_FILE'], ['JSM_PASSWORD', 'JSM_PASSWORD_FILE']] as const) {
    const file = env[fileVariable]?.trim();
    if (!file) continue;
    if (env[variable]) throw new UsageError('conflicting-options', `both ${variable} and ${fileVariable} are set`, 'keep one of them');
    result[variable] = (await readPasswordFile(file, warn, fileVariable, io().cwd)).reveal();
  }
  return result;
}

/**
 * A REST run that would send invitations needs SMTP or an outbox named on purpose: a default local
 * folder would tell the admin they were sent while nobody got them. Checked before the first write.
 */
export function checkRestDelivery(target: Target, mail: MailSettings): void {
  if (target.kind !== 'rest' || mail.smtp !== undefined || mail.outboxGiven) return;
  throw new UsageError(
    'no-mail-route',
    'this run would send invitations, but neither SMTP nor an outbox is set: nobody would get them',
    'give --smtp (JSM_SMTP_URL) to send them, or --outbox <dir> to write them as .eml files (an import can also take --no-invite to send none, or --defer-invites to send them later)',
  );
}

/**
 * A lock that is busy is said on stderr (under --json too), with its owner and age and the way out;
 * JSM_LOCK_WAIT (settings.ts; default 120 s) bounds the wait, after which the run stops with nothing lost.
 */
function lockOptionsFor(spec: string, lockWait: number | undefined, out: Output): LockOptions {
  return {
    onWait: (message) => out.warn(message),
    unlockCommand: `jsm-provision store unlock --target ${shellWord(spec)}`,
    ...(lockWait !== undefined ? { timeoutMs: lockWait } : {}),
  };
}

/** The file whose lock `store unlock` removes: the local store, or a REST target's ledger file. */
export async function lockedFileOf(target: TargetSetting): Promise<string> {
  if (target.kind !== 'local') return ledgerPathFor(target.baseUrl, io().env, io().cwd);
  return inCwd(target.path);
}

/** A folder is not a store (EISDIR would say nothing useful): `bad-target`, naming the file it may have meant. */
export function refuseFolderAsStore(spec: string): void {
  if (!statSync(inCwd(spec), { throwIfNoEntry: false })?.isDirectory()) return;
  const inside = join(spec, DEFAULT_STORE);
  throw new UsageError(
    'bad-target',
    `--target ${spec} is a folder; the local store is a file`,
    `give the store's file with --target (or JSM_TARGET): ${existsSync(inCwd(inside)) ? inside : `${inside}, made by \`jsm-provision project create KEY --name "Name" --target ${inside}\``}`,
  );
}

/** Where a target's invitations are recorded: the REST ledger file, or the local store itself. */
export interface LedgerPlace {
  path: string;
  /** false: nothing was ever recorded there (a REST ledger is made by its first write). */
  exists: boolean;
}

/** The ledger the target reads, and whether it is there (asked before the target opens). */
export async function ledgerOf(target: TargetSetting): Promise<LedgerPlace> {
  const path = await lockedFileOf(target);
  return { path, exists: existsSync(path) };
}

/**
 * The project the settings name (a key checked by the command's schema: settings.ts projectOption);
 * with none named and exactly one in the target, that one.
 */
export async function resolveProject(target: Target, key: string | undefined): Promise<ProjectInfo> {
  if (key !== undefined && key !== '') return target.getProject(key);
  if (target.kind === 'rest') {
    throw new UsageError('missing-project', `say which service project with --project KEY or JSM_PROJECT (its key in ${target.location})`);
  }
  const projects = await target.listProjects();
  if (projects.length === 1 && projects[0]) return projects[0];
  const known = projects.length > 0 ? `: one of ${projects.map((p) => p.key).join(', ')}` : '';
  throw new UsageError('missing-project', `say which project with --project KEY or JSM_PROJECT${known}`);
}

export interface MailSetup {
  /** Created on first use; the same mailer afterwards. */
  mailer: () => Promise<Mailer>;
  outbox: string | null;
  /**
   * Before the first write of a run that will send: SMTP reachable, logging in and accepting the
   * sender (nothing is sent), or the outbox folder made and writable. Throws UsageError (exit 2).
   * Returns an undo for a run that stops before writing (removes an outbox folder it made).
   */
  preflight(): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** Each invitation's deterministic Message-ID, in the sender's domain. */
  messageId: MessageIds;
  /** The templates, all checked; `templates.defaultLanguage` is `--language`, canonical. */
  templates: TemplateSet;
  /** The project as invitations name it: with `--portal-url` when given (it wins over the target's own). */
  forInvitations(project: ProjectInfo): ProjectInfo;
}

/**
 * How invitations leave, from the mail settings checked at parse time (settings.ts): checked
 * against the server by `preflight()`, connected when the first invitation goes out.
 */
export function mailSetup(mail: MailSettings, warn: (message: string) => void = () => undefined): MailSetup {
  const outboxDir = mail.outbox;
  const smtp = mail.smtp;
  const from = mail.from;
  // The sender is needed only by a run that sends (its preflight, before the first write): with
  // --no-invite, or the project's setting on, --smtp from the environment needs no --mail-from.
  const needSender = (): void => {
    if (smtp !== undefined && from === undefined) throw new UsageError('missing-mail-from', 'invitations go by SMTP, but no sender address is set', 'set --mail-from or JSM_MAIL_FROM');
  };
  const templates = mail.templates;
  const domain = messageIdDomainFor(from);
  let password: Promise<Secret | undefined> | null = null;
  const smtpPassword = () => (password ??= smtp === undefined ? Promise.resolve(undefined) : readSmtpPassword(smtp.passwordFile, io().env, warn, io().cwd));
  let mailer: Promise<Mailer> | null = null;
  return {
    mailer: () => {
      needSender();
      mailer ??= Promise.all([import('../../mail/index.js'), smtpPassword()]).then(([{ createMailer }, pass]) =>
        createMailer({
          ...(smtp ? { smtpUrl: smtp.url } : {}),
          ...(from ? { from } : {}),
          ...(pass !== undefined ? { smtpPassword: pass } : {}),
          ...(smtp?.name !== undefined ? { smtpName: smtp.name } : {}),
          outboxDir,
          templates,
        }),
      );
      return mailer;
    },
    // With no route (a JSM target, no SMTP, no --outbox: such a run sends nothing) there is no folder to name.
    outbox: smtp || !mail.outboxIsRoute ? null : outboxDir,
    messageId: (project, key, kind) => messageIdFor(project, key, kind, domain),
    templates,
    forInvitations: (project) => (mail.portalUrl !== undefined ? { ...project, portalUrl: mail.portalUrl } : project),
    preflight: async () => {
      needSender();
      if (smtp === undefined) return prepareOutbox(outboxDir);
      const [{ checkSmtp }, pass] = await Promise.all([import('../../mail/smtp.js'), smtpPassword()]);
      await checkSmtp({
        url: smtp.url,
        from: from ?? '',
        ...(pass !== undefined ? { password: pass } : {}),
        ...(smtp.name !== undefined ? { name: smtp.name } : {}),
      });
      return async () => undefined;
    },
    close: async () => {
      if (mailer) await (await mailer).close();
    },
  };
}

/** A new run's id, tagged with this process (so a live run's claims are not taken for in doubt). */
export function newRunId(): string {
  const runId = runIdFor(randomUUID());
  // Ended with the command (main): a claim it leaves `sending` is then in doubt, not live.
  onRunEnd(() => endRun(runId));
  return runId;
}

export { messageIdFor };

/** File name endings a store (or a mistaken input) may have, which no host name ends in. */
const FILE_ENDINGS = new Set(['json', 'csv', 'txt', 'tsv', 'bak', 'old', 'tmp', 'db', 'store', 'journal']);

/** `jira.example.com`, `jira.example.com:8443/jira`, `localhost:8080`: a host given without http(s)://. */
export function looksLikeHost(spec: string): boolean {
  const match = /^(localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(:\d{1,5})?(\/.*)?$/i.exec(spec);
  if (match === null) return false;
  const last = (match[1] as string).split('.').at(-1) as string;
  return match[1] === 'localhost' ? match[2] !== undefined : /^[a-z]{2,24}$/i.test(last) && !FILE_ENDINGS.has(last.toLowerCase());
}
