import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { Target } from '../core/target.js';
import type { MessageIds } from '../core/send.js';
import type { InvitationKind, Mailer, ProjectInfo } from '../core/types.js';
import { parseSender } from '../mail/compose.js';
import { messageIdDomainFor, messageIdFor } from '../mail/message-id.js';
import { parseSmtpName, parseSmtpUrl } from '../mail/smtp-url.js';
import { loadTemplates, type TemplateSet } from '../mail/templates.js';
import type { Secret } from '../core/secret.js';
import { prepareOutbox } from './preflight.js';
import { readPasswordFile, readSmtpPassword } from './secrets.js';
import { LocalTarget } from '../targets/local/target.js';
import { endRun, runIdFor, shellWord, type LockOptions } from '../store/lock.js';
import { DEFAULT_STORE, type CommonOptions, type MailOptions } from './options.js';
import type { Output } from './output.js';
import { inCwd, io, onRunEnd } from './io.js';
import { ledgerPathFor } from '../store/ledger-file.js';

/**
 * Opens the target the options name: a path is the local store; an http(s) URL is JSM over REST
 * (credentials from the environment only). `--concurrency`, where a command has it, bounds the
 * requests in flight to JSM.
 */
export async function openTarget(
  options: CommonOptions & { concurrency?: number; matchAccounts?: 'email' | 'username' | 'jsm-username' | undefined },
  out: Output,
  { create = false } = {},
): Promise<Target> {
  const spec = options.target?.trim() || DEFAULT_STORE;
  if (/^https?:\/\//i.test(spec)) {
    // Loaded only for REST targets: local runs never load undici.
    const { openRestTarget } = await import('../targets/rest/index.js');
    // Parsed and checked with the command's settings (settings.ts).
    const concurrency = options.concurrency;
    return openRestTarget(spec, {
      env: await withSecretFiles(io().env, (message) => out.warn(message)),
      ledgerPath: ledgerPathFor(spec, io().env, io().cwd),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(options.matchAccounts !== undefined ? { match: options.matchAccounts } : {}),
      onNote: (message) => out.note(message),
      onWarn: (message) => out.warn(message),
      lockOptions: lockOptionsFor(spec, out),
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new UsageError('bad-target', `--target ${spec}: use a file path for the local store, or an http(s):// URL for JSM`);
  }
  // A folder is not a store (EISDIR would say nothing useful): name the file it may have meant.
  if (statSync(inCwd(spec), { throwIfNoEntry: false })?.isDirectory()) {
    const inside = join(spec, DEFAULT_STORE);
    throw new UsageError(
      'bad-target',
      `--target ${spec} is a folder; the local store is a file`,
      `give the store's file with --target (or JSM_TARGET): ${existsSync(inCwd(inside)) ? inside : `${inside}, made by \`jsm-provision project create KEY --name "Name" --target ${inside}\``}`,
    );
  }
  // Only `project create` makes a store: every other command names a missing one as such.
  if (!create && !existsSync(inCwd(spec))) {
    throw new UsageError(
      'no-store',
      `no store at ${inCwd(spec)}`,
      `create it with \`jsm-provision project create KEY --name "Name"${options.target ? ` --target ${spec}` : ''}\` or check --target (JSM_TARGET)`,
    );
  }
  return LocalTarget.open(inCwd(spec), lockOptionsFor(spec, out));
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
export function checkRestDelivery(target: Target, options: MailOptions): void {
  if (target.kind !== 'rest' || options.smtp?.trim() || options.outbox?.trim()) return;
  throw new UsageError(
    'no-mail-route',
    'this run would send invitations, but neither SMTP nor an outbox is set: nobody would get them',
    'give --smtp (JSM_SMTP_URL) to send them, or --outbox <dir> to write them as .eml files (an import can also take --no-invite to send none, or --defer-invites to send them later)',
  );
}

/**
 * A lock that is busy is said on stderr (under --json too), with its owner and age and the way out;
 * JSM_LOCK_WAIT (seconds, default 120) bounds the wait, after which the run stops with nothing lost.
 */
function lockOptionsFor(spec: string, out: Output): LockOptions {
  const wait = io().env.JSM_LOCK_WAIT;
  const seconds = Number(wait);
  return {
    onWait: (message) => out.warn(message),
    unlockCommand: `jsm-provision store unlock --target ${shellWord(spec)}`,
    ...(wait && Number.isFinite(seconds) && seconds >= 0 ? { timeoutMs: seconds * 1000 } : {}),
  };
}

/** The file whose lock `store unlock` removes: the local store, or a REST target's ledger file. */
export async function lockedFileOf(options: CommonOptions): Promise<string> {
  const spec = options.target?.trim() || DEFAULT_STORE;
  if (/^https?:\/\//i.test(spec)) {
    return ledgerPathFor(spec, io().env, io().cwd);
  }
  return inCwd(spec);
}

/** Where a target's invitations are recorded: the REST ledger file, or the local store itself. */
export interface LedgerPlace {
  path: string;
  /** false: nothing was ever recorded there (a REST ledger is made by its first write). */
  exists: boolean;
}

/** The ledger the options' target reads, and whether it is there (asked before the target opens). */
export async function ledgerOf(options: CommonOptions): Promise<LedgerPlace> {
  const path = await lockedFileOf(options);
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
 * How invitations leave. Built (and its configuration checked, templates included) before anything
 * is written, checked against the server by `preflight()`, connected when the first invitation goes
 * out. `kinds`: the messages this command may send, each of which needs its template.
 */
export function mailSetup(
  options: MailOptions,
  target: Pick<Target, 'kind' | 'location'>,
  kinds: readonly InvitationKind[] = [],
  warn: (message: string) => void = () => undefined,
): MailSetup {
  const outboxDir = inCwd(options.outbox ?? (target.kind === 'local' ? join(dirname(target.location), 'outbox') : 'outbox'));
  const smtpUrl = options.smtp?.trim() || undefined;
  const from = options.mailFrom?.trim() || undefined;
  // Checked now, before anything is written; nodemailer itself is loaded when it is needed.
  if (smtpUrl !== undefined) parseSmtpUrl(smtpUrl);
  // The sender is needed only by a run that sends (its preflight, before the first write): with
  // --no-invite, or the project's setting on, --smtp from the environment needs no --mail-from.
  const needSender = (): void => {
    if (smtpUrl !== undefined && from === undefined) throw new UsageError('missing-mail-from', 'invitations go by SMTP, but no sender address is set', 'set --mail-from or JSM_MAIL_FROM');
  };
  if (from !== undefined) parseSender(from);
  const templates = loadTemplates({
    kinds,
    ...(options.templateDir !== undefined ? { dir: options.templateDir, cwd: io().cwd } : {}),
    ...(options.language !== undefined ? { language: options.language } : {}),
  });
  const domain = messageIdDomainFor(from);
  const smtpName = options.smtpName !== undefined ? parseSmtpName(options.smtpName) : undefined;
  let password: Promise<Secret | undefined> | null = null;
  const smtpPassword = () => (password ??= smtpUrl === undefined ? Promise.resolve(undefined) : readSmtpPassword(options.smtpPasswordFile, io().env, warn, io().cwd));
  let mailer: Promise<Mailer> | null = null;
  return {
    mailer: () => {
      needSender();
      mailer ??= Promise.all([import('../mail/index.js'), smtpPassword()]).then(([{ createMailer }, pass]) =>
        createMailer({
          ...(smtpUrl ? { smtpUrl } : {}),
          ...(from ? { from } : {}),
          ...(pass !== undefined ? { smtpPassword: pass } : {}),
          ...(smtpName !== undefined ? { smtpName } : {}),
          outboxDir,
          templates,
        }),
      );
      return mailer;
    },
    outbox: smtpUrl ? null : outboxDir,
    messageId: (project, key, kind) => messageIdFor(project, key, kind, domain),
    templates,
    forInvitations: (project) => (options.portalUrl !== undefined ? { ...project, portalUrl: options.portalUrl } : project),
    preflight: async () => {
      needSender();
      if (smtpUrl === undefined) return prepareOutbox(outboxDir);
      const [{ checkSmtp }, pass] = await Promise.all([import('../mail/smtp.js'), smtpPassword()]);
      await checkSmtp({
        url: smtpUrl,
        from: from ?? '',
        ...(pass !== undefined ? { password: pass } : {}),
        ...(smtpName !== undefined ? { name: smtpName } : {}),
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
