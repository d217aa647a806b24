import { z } from 'zod';
import { UsageError } from '../../core/errors.js';
import { DEFAULT_CONCURRENCY } from '../../core/pool.js';
import { emailProblem, nameProblem } from '../../core/validate.js';
import { checkPortalUrl } from '../../mail/compose.js';
import { reportFormat } from '../io/report.js';
import { WHOLE_NUMBERS } from './numbers.js';
import { projectKeySchema, wholeNumber } from './options.js';
import { classifyTarget, type TargetSetting } from './target-setting.js';
import { dirname, join } from 'node:path';
import { inCwd, io } from '../io/io.js';
import { checkOrganizations } from '../../core/organizations.js';
import type { InvitationKind } from '../../core/types.js';
import { parseSender } from '../../mail/compose.js';
import { parseSmtpName, parseSmtpUrl } from '../../mail/smtp-url.js';
import { loadTemplates, type TemplateSet } from '../../mail/templates.js';
import { VALUE_CONTRADICTIONS, type ContradictionInput } from './contradictions.js';
import { parseMapOption } from '../../csv/headers.js';
import { parseExclusions } from '../../mailbox/exclusions.js';
import type { InvitationsSetting } from '../../core/invitation-policy.js';

export { classifyTarget, targetSpec, type TargetSetting } from './target-setting.js';

/**
 * A command's settings: commander's raw values (flags, environment, config file) turned into
 * typed values by one zod schema per command, parsed once before the command does anything.
 * zod's own words never reach the user: an issue becomes a UsageError (`bad-option`, exit 2) naming
 * the option, its value and the rule in plain words; a check that needs its own error code
 * (`conflicting-options`, `bad-report`) says so in the issue's params.
 */
export function parseSettings<S extends z.ZodType>(schema: S, options: unknown, labels: Record<string, string> = {}, env: Readonly<Record<string, string | undefined>> = io().env): z.output<S> {
  // The settings that come from the environment only (no flag, no config key) join the options here.
  const raw = options !== null && typeof options === 'object' ? { lockWait: env.JSM_LOCK_WAIT, ...options } : options;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const params = (issue as { params?: { code?: string; message?: string; hint?: string } } | undefined)?.params;
  if (params?.code !== undefined && params.message !== undefined) throw new UsageError(params.code, params.message, params.hint);
  const key = issue?.path[0];
  // An option by its flag (maxRowChars: --max-row-chars); a positional argument by its label.
  const flag = typeof key === 'string' ? (labels[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`) : 'an option';
  const value = typeof key === 'string' && raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[key] : undefined;
  const message = issue === undefined || /^Invalid input|expected .*, received/i.test(issue.message) ? 'is not a valid value' : issue.message;
  throw new UsageError('bad-option', `${flag} ${JSON.stringify(value)}: ${message}`);
}

/**
 * Runs a check that throws UsageError (a module's own, e.g. reportFormat, checkLanguageOption) and
 * makes its error the schema's issue, code, message and hint kept.
 */
export function usageCheck<T>(ctx: z.core.$RefinementCtx, check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.code, params: { code: error.code, message: error.message, hint: error.hint } });
    return undefined;
  }
}

/** An optional text option, and a flag (absent: false). */
export const text = z.string().optional();
export const flag = z.boolean().optional().transform(Boolean);

/** `--project KEY`: trimmed and upper-cased, then checked as a JSM key; empty is none. */
export const projectOption = z
  .string()
  .optional()
  .transform((key) => (key === undefined || key.trim() === '' ? undefined : key.trim().toUpperCase()))
  .pipe(projectKeySchema.optional());

/** `--portal-url`: checked (an http(s) URL, no credentials), absent when not given. */
export function portalUrlSetting() {
  return z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined ? undefined : usageCheck(ctx, () => checkPortalUrl(value))));
}

/** `--target` / JSM_TARGET as the target it names (target-setting.ts classifyTarget). */
export const targetSetting = z
  .string()
  .optional()
  .transform((value, ctx) => usageCheck(ctx, () => classifyTarget(value)) ?? z.NEVER);

/**
 * JSM_LOCK_WAIT: how long (seconds) a run waits for a busy store or ledger lock before it stops
 * with nothing lost; absent: the lock's default. Read from the environment only (parseSettings).
 */
export const lockWaitSetting = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value.trim() === '') return undefined;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    ctx.addIssue({ code: 'custom', message: 'bad', params: { code: 'bad-option', message: `JSM_LOCK_WAIT ${JSON.stringify(value.slice(0, 40))}: must be a number of seconds, 0 or more`, hint: 'e.g. JSM_LOCK_WAIT=120, or unset it for the default' } });
    return z.NEVER;
  });

/** What every command takes (docs/contract.md), and the lock wait every command that opens a target uses. */
export const common = { target: targetSetting, json: flag, quiet: flag, config: text, profile: text, lockWait: lockWaitSetting };
/** The raw mail options (addMailOptions): made into one MailSettings by `withMail`. */
const mail = { smtp: text, smtpPasswordFile: text, smtpName: text, mailFrom: text, outbox: text, templateDir: text, language: text, portalUrl: portalUrlSetting() };

/** How invitations leave and in what words, checked: the route, the sender and the templates. */
export interface MailSettings {
  /** SMTP, when --smtp is given (its URL checked); else invitations are written to `outbox`. */
  smtp?: { url: string; name?: string; passwordFile?: string };
  /** The sender (checked as an address), when given: SMTP needs it when a run sends. */
  from?: string;
  /** The outbox folder (resolved): --outbox, else `outbox/` beside the local store (or in the current folder). */
  outbox: string;
  /** Whether --outbox was given: a JSM run needs SMTP or an outbox named on purpose. */
  outboxGiven: boolean;
  /** Whether `outbox` is where invitations go with no SMTP: given, or the local store's default (a JSM target has none). */
  outboxIsRoute: boolean;
  /** The templates, every file checked; `defaultLanguage` is --language, canonical. */
  templates: TemplateSet;
  /** The portal invitations link to (--portal-url), when given. */
  portalUrl?: string;
}

export type RawMail = { [K in keyof typeof mail]?: z.output<(typeof mail)[K]> };

/** The raw mail options as one MailSettings (a module's UsageError becomes the schema's issue). */
export function mailSettings(raw: RawMail, target: TargetSetting, kinds: readonly InvitationKind[]): MailSettings {
  const url = raw.smtp?.trim() || undefined;
  if (url !== undefined) parseSmtpUrl(url);
  const from = raw.mailFrom?.trim() || undefined;
  if (from !== undefined) parseSender(from);
  const name = raw.smtpName !== undefined ? parseSmtpName(raw.smtpName) : undefined;
  const templates = loadTemplates({
    kinds,
    // JSM Cloud's built-in texts have no password line (a custom domain is swapped when it opens: SendSession).
    ...(target.kind === 'cloud' ? { builtIn: 'cloud' as const } : {}),
    ...(raw.templateDir !== undefined ? { dir: raw.templateDir, cwd: io().cwd } : {}),
    ...(raw.language !== undefined ? { language: raw.language } : {}),
  });
  return {
    ...(url !== undefined ? { smtp: { url, ...(name !== undefined ? { name } : {}), ...(raw.smtpPasswordFile !== undefined ? { passwordFile: raw.smtpPasswordFile } : {}) } } : {}),
    ...(from !== undefined ? { from } : {}),
    outbox: inCwd(raw.outbox ?? (target.kind === 'local' ? join(dirname(target.path), 'outbox') : 'outbox')),
    outboxGiven: Boolean(raw.outbox?.trim()),
    outboxIsRoute: Boolean(raw.outbox?.trim()) || target.kind === 'local',
    templates,
    ...(raw.portalUrl !== undefined ? { portalUrl: raw.portalUrl } : {}),
  };
}

/**
 * The transform that ends a schema with mail options: the raw options become `mail`, checked now,
 * before the input or the target is opened. `kinds`: the messages the command may send, each of
 * which needs its template (`invitations send` names its own once it knows what is due).
 */
function withMail<S extends RawMail & { target: TargetSetting }>(settings: S, ctx: z.core.$RefinementCtx, kinds: readonly InvitationKind[]): Omit<S, keyof RawMail> & { mail: MailSettings } {
  const { smtp, smtpPasswordFile, smtpName, mailFrom, outbox, templateDir, language, portalUrl, ...rest } = settings;
  const checked = usageCheck(ctx, () => mailSettings({ smtp, smtpPasswordFile, smtpName, mailFrom, outbox, templateDir, language, portalUrl }, settings.target, kinds));
  return checked === undefined ? z.NEVER : { ...rest, mail: checked };
}

/** Every contradiction between settings (contradictions.ts), refused in the one way; true when one was. */
function refuseContradictions(settings: ContradictionInput, ctx: z.core.$RefinementCtx): boolean {
  for (const rule of VALUE_CONTRADICTIONS) {
    if (!(rule.trigger in settings)) continue;
    if (!rule.when(settings)) continue;
    ctx.addIssue({ code: 'custom', message: 'conflict', params: { code: 'conflicting-options', message: rule.message, ...(rule.hint !== undefined ? { hint: rule.hint } : {}) } });
    return true;
  }
  return false;
}

/** The core's one invitation setting (src/core/invitation-policy.ts), which the settings give it as they are. */
export type { InvitationsSetting };

/** `--no-invite` and `--defer-invites` as one setting (after refuseContradictions). */
function invitationsOf(settings: { invite: boolean; deferInvites: boolean }): InvitationsSetting {
  return !settings.invite ? 'none' : settings.deferInvites ? 'defer' : 'send';
}

/** `--match-accounts` (addAccountMatchOption): absent, by email. */
export const matchAccounts = z
  .enum(['email', 'username', 'jsm-username'], { error: 'is not one of email, username, jsm-username' })
  .optional();

/** `--organization` values: each checked (an empty one is a variable that was not set), the first spelling kept. */
export const organizationSetting = z
  .array(z.string())
  .default([])
  .transform((values, ctx) => usageCheck(ctx, () => checkOrganizationOption(values)) ?? z.NEVER);

function checkOrganizationOption(values: readonly string[]): string[] {
  // `--organization "$ORG"` with the variable unset: said, not silently nothing.
  if (values.some((value) => value.trim() === '')) {
    throw new UsageError('bad-organization', '--organization is empty', "give the organization's name (is the variable it comes from set?), or leave the option out");
  }
  const checked = checkOrganizations(values);
  if (!checked.ok) throw new UsageError('bad-organization', `--organization: ${checked.reason}`);
  return checked.names;
}

/** The settings import-csv and import-mail share (addImportOptions). */
const importShape = {
  ...common,
  ...mail,
  project: projectOption,
  invite: z.boolean().optional().transform((value) => value !== false),
  deferInvites: flag,
  dryRun: flag,
  yes: flag,
  report: text,
  concurrency: wholeNumber(...WHOLE_NUMBERS.concurrency).default(DEFAULT_CONCURRENCY),
  organization: organizationSetting,
  createOrganizations: z.boolean().optional().transform((value) => value !== false),
  matchAccounts,
};

/** The checks across options of both imports, with their own error codes. */
function checkImport(settings: ContradictionInput & { report?: string | undefined }, ctx: z.core.$RefinementCtx): void {
  if (refuseContradictions(settings, ctx)) return;
  const report = settings.report;
  if (report !== undefined) usageCheck(ctx, () => reportFormat(report));
}

/** An import's settings after the checks: one `invitations` for --no-invite and --defer-invites. */
function importSettings<S extends { invite: boolean; deferInvites: boolean }>(settings: S): Omit<S, 'invite' | 'deferInvites'> & { invitations: InvitationsSetting } {
  const { invite: _invite, deferInvites: _defer, ...rest } = settings;
  return { ...rest, invitations: invitationsOf(settings) };
}

export const importCsvSchema = z
  .object({
    ...importShape,
    // `--map field=Header` as field -> header text, checked (csv/headers.ts).
    map: z
      .array(z.string())
      .default([])
      .transform((values, ctx) => usageCheck(ctx, () => parseMapOption(values)) ?? z.NEVER),
    delimiter: text,
    encoding: text,
    maxRowChars: wholeNumber(...WHOLE_NUMBERS.maxRowChars).optional(),
    sync: flag,
    plan: text,
    maxRemovals: wholeNumber(0, 100_000_000).optional(),
  })
  .superRefine(checkImport)
  .superRefine((settings, ctx) => {
    if (settings.plan !== undefined && settings.plan.trim() === '') {
      ctx.addIssue({ code: 'custom', message: 'empty', params: { code: 'bad-option', message: '--plan is empty: give the file the plan is written to', hint: 'e.g. --plan plan.json' } });
    }
  })
  .transform((settings, ctx) => importSettings(withMail(settings, ctx, ['welcome'])));

export const importMailSchema = z
  .object({
    ...importShape,
    includeCc: flag,
    replyTo: flag,
    // The inbox's own addresses and domains, checked; absent (undefined) when none was given, which is warned of.
    exclude: z
      .array(z.string())
      .optional()
      .transform((values, ctx) => (values === undefined ? undefined : (usageCheck(ctx, () => parseExclusions(values)) ?? z.NEVER))),
  })
  .superRefine(checkImport)
  .transform((settings, ctx) => importSettings(withMail(settings, ctx, ['verify'])));

/**
 * `apply PLAN`: the plan names the target, the project, the input and what is asked of the
 * invitations; apply is given the mail route (raw here: its defaults depend on the plan's target,
 * see `mailSettings`) and the run's own options.
 */
export const applySchema = z
  .object({ ...common, ...mail, yes: flag, dryRun: flag, report: text, concurrency: wholeNumber(...WHOLE_NUMBERS.concurrency).default(DEFAULT_CONCURRENCY) })
  .superRefine((settings, ctx) => {
    const report = settings.report;
    if (report !== undefined) usageCheck(ctx, () => reportFormat(report));
  });
export type ApplySettings = z.output<typeof applySchema>;

export type ImportCsvSettings = z.output<typeof importCsvSchema>;
export type ImportMailSettings = z.output<typeof importMailSchema>;
/** What both imports hand to the row run. */
export type ImportSettings = ImportCsvSettings | ImportMailSettings;

export const addCustomerSchema = z
  .object({
    ...common,
    ...mail,
    project: projectOption,
    email: text,
    name: text,
    passwordStdin: flag,
    passwordFile: text,
    generatePassword: flag,
    invite: importShape.invite,
    deferInvites: flag,
    organization: importShape.organization,
    createOrganizations: importShape.createOrganizations,
    matchAccounts,
  })
  .superRefine(checkImport)
  .transform((settings, ctx) => importSettings(withMail(settings, ctx, ['welcome'])));

export type AddCustomerSettings = z.output<typeof addCustomerSchema>;

export const invitationsSendSchema = z
  .object({ ...common, ...mail, project: projectOption, inDoubt: flag, failed: flag, yes: flag, email: text, again: flag })
  .superRefine((settings, ctx) => void refuseContradictions(settings, ctx))
  .transform((settings, ctx) => {
    // `--email`: one person's address, checked (after the contradictions, which say more).
    const email = settings.email === undefined ? undefined : usageCheck(ctx, () => oneEmail(settings.email as string));
    if (settings.email !== undefined && email === undefined) return z.NEVER;
    return withMail({ ...settings, email }, ctx, []);
  });
export type InvitationsSendSettings = z.output<typeof invitationsSendSchema>;

/** `project create KEY --name <name>`: the key is the positional argument, labelled "project key". */
export const projectCreateSchema = z
  .object({
    ...common,
    key: projectKeySchema,
    name: z.string().transform((name) => name.replace(/\s+/g, ' ').trim()),
  })
  .superRefine((settings, ctx) => {
    if (settings.name === '') ctx.addIssue({ code: 'custom', message: 'empty', params: { code: 'bad-option', message: '--name is empty: give the name customers will see' } });
    // The name is in every invitation's subject: refused as customers' names are.
    const problem = settings.name === '' ? undefined : nameProblem(settings.name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: 'forbidden', params: { code: 'bad-option', message: `--name: ${problem}` } });
  });

/** `project set-notifications`: one of --verification and --no-verification is required. */
export const setNotificationsSchema = z
  .object({ ...common, project: projectOption, verification: z.boolean().optional() })
  .superRefine((settings, ctx) => {
    if (settings.verification === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'missing',
        params: { code: 'missing-option', message: 'say which way: --no-verification (no invitations for this project) or --verification (invitations on)' },
      });
    }
  })
  .transform((settings) => ({ ...settings, verification: settings.verification as boolean }));

/** Commands that take only the common options and `--project` (lists, show). */
export const projectScopedSchema = z.object({ ...common, project: projectOption });
export type ProjectScopedSettings = z.output<typeof projectScopedSchema>;

/** Commands that take only the common options (store unlock). */
export const commonSchema = z.object(common);

/**
 * `doctor`: the common options, the project and where invitations go (what every other command
 * would use), kept as given: doctor checks each itself and reports what fails among its findings,
 * where every other command stops at the first.
 */
export const doctorSchema = z.object({ ...common, target: text, ...mail, project: projectOption });
export type DoctorSettings = z.output<typeof doctorSchema>;

/** `--email` naming one person (customers show, invitations send --email): trimmed, or refused saying why. */
export function oneEmail(value: string): string {
  const email = value.trim();
  const problem = emailProblem(email);
  if (problem !== undefined) throw new UsageError('bad-email', `--email: ${problem}`, "give the customer's address alone, e.g. --email jane@example.com");
  return email;
}
