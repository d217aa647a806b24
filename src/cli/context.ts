import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { TargetError, UsageError } from '../core/errors.js';
import type { Target } from '../core/target.js';
import type { Mailer, ProjectInfo } from '../core/types.js';
import { createMailer, messageIdFor } from '../mail/index.js';
import { LocalTarget } from '../targets/local/target.js';
import { DEFAULT_STORE, parseOption, projectKeySchema, type CommonOptions, type MailOptions } from './options.js';
import type { Output } from './output.js';

/** Opens the target the options name: a path is the local store; an http(s) URL is JSM over REST. */
export async function openTarget(options: CommonOptions, out: Output): Promise<Target> {
  const spec = options.target?.trim() || DEFAULT_STORE;
  if (/^https?:\/\//i.test(spec)) {
    throw new TargetError(
      'unsupported-target',
      `${spec} is a JSM URL; this version of jsm-provision provisions into the local store only`,
      'use a path for --target (e.g. ./jsm-store.json)',
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new UsageError('bad-target', `--target ${spec}: use a file path for the local store, or an http(s):// URL for JSM`);
  }
  return LocalTarget.open(spec, { onWait: (message) => out.note(message) });
}

/** The project the options name; with none named and exactly one in the target, that one. */
export async function resolveProject(target: Target, key: string | undefined): Promise<ProjectInfo> {
  if (key !== undefined && key.trim() !== '') return target.getProject(parseOption(projectKeySchema, key.trim().toUpperCase(), '--project'));
  const projects = await target.listProjects();
  if (projects.length === 1 && projects[0]) return projects[0];
  const known = projects.length > 0 ? `: one of ${projects.map((p) => p.key).join(', ')}` : '';
  throw new UsageError('missing-project', `say which project with --project KEY or JSM_PROJECT${known}`);
}

export interface MailSetup {
  /** Created on first use; the same mailer afterwards. */
  mailer: () => Promise<Mailer>;
  outbox: string | null;
  close(): Promise<void>;
}

/**
 * How invitations leave. Built (and its configuration checked) before anything is written,
 * connected only when the first invitation goes out.
 */
export function mailSetup(options: MailOptions, target: Target): MailSetup {
  const outboxDir = resolve(options.outbox ?? (target.kind === 'local' ? join(dirname(target.location), 'outbox') : 'outbox'));
  const smtpUrl = options.smtp?.trim() || undefined;
  const from = options.mailFrom?.trim() || undefined;
  const mailer = createMailer({ ...(smtpUrl ? { smtpUrl } : {}), ...(from ? { from } : {}), outboxDir });
  let used = false;
  return {
    mailer: async () => {
      used = true;
      return mailer;
    },
    outbox: smtpUrl ? null : outboxDir,
    close: async () => {
      if (used) await mailer.close();
      else await mailer.close().catch(() => undefined);
    },
  };
}

export function newRunId(): string {
  return randomUUID();
}

export { messageIdFor };
