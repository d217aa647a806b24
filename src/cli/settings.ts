import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { DEFAULT_CONCURRENCY } from '../core/pool.js';
import { emailProblem, nameProblem } from '../core/validate.js';
import { checkPortalUrl } from '../mail/compose.js';
import { reportFormat } from './report.js';
import { WHOLE_NUMBERS } from './numbers.js';
import { projectKeySchema, wholeNumber } from './options.js';

/**
 * A command's settings: commander's raw values (flags, environment, config file) turned into
 * typed values by one zod schema per command, parsed once before the command does anything.
 * zod's own words never reach the user: an issue becomes a UsageError (`bad-option`, exit 2) naming
 * the option, its value and the rule in plain words; a check that needs its own error code
 * (`conflicting-options`, `bad-report`) says so in the issue's params.
 */
export function parseSettings<S extends z.ZodType>(schema: S, raw: unknown, labels: Record<string, string> = {}): z.output<S> {
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

/** What every command takes (docs/contract.md). */
export const common = { target: text, json: flag, quiet: flag, config: text, profile: text };
/** Where invitations go and in what words (addMailOptions). */
const mail = { smtp: text, smtpPasswordFile: text, smtpName: text, mailFrom: text, outbox: text, templateDir: text, language: text, portalUrl: portalUrlSetting() };

/** `--match-accounts` (addAccountMatchOption): absent, by email. */
export const matchAccounts = z
  .enum(['email', 'username', 'jsm-username'], { error: 'is not one of email, username, jsm-username' })
  .optional();

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
  organization: z.array(z.string()).default([]),
  createOrganizations: z.boolean().optional().transform((value) => value !== false),
  matchAccounts,
};

/** The checks across options of both imports, with their own error codes. */
function checkImport(settings: { invite: boolean; deferInvites: boolean; report?: string | undefined }, ctx: z.core.$RefinementCtx): void {
  if (!settings.invite && settings.deferInvites) {
    ctx.addIssue({ code: 'custom', message: 'conflict', params: { code: 'conflicting-options', message: '--no-invite and --defer-invites contradict each other: give one' } });
    return;
  }
  const report = settings.report;
  if (report !== undefined) usageCheck(ctx, () => reportFormat(report));
}

export const importCsvSchema = z
  .object({
    ...importShape,
    map: z.array(z.string()).default([]),
    delimiter: text,
    encoding: text,
    maxRowChars: wholeNumber(...WHOLE_NUMBERS.maxRowChars).optional(),
    sync: flag,
    plan: text,
    maxRemovals: wholeNumber(0, 100_000_000).optional(),
  })
  .superRefine((settings, ctx) => {
    checkImport(settings, ctx);
    if (settings.maxRemovals !== undefined && !settings.sync) {
      ctx.addIssue({ code: 'custom', message: 'conflict', params: { code: 'conflicting-options', message: '--max-removals is for --sync (a run without it removes nobody)', hint: 'add --sync, or leave out --max-removals' } });
    }
    if (settings.plan !== undefined && settings.plan.trim() === '') {
      ctx.addIssue({ code: 'custom', message: 'empty', params: { code: 'bad-option', message: '--plan is empty: give the file the plan is written to', hint: 'e.g. --plan plan.json' } });
    }
  });

export const importMailSchema = z
  .object({ ...importShape, includeCc: flag, replyTo: flag, exclude: z.array(z.string()).optional() })
  .superRefine(checkImport);

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
  .superRefine((settings, ctx) => {
    if ([settings.passwordStdin, settings.passwordFile !== undefined, settings.generatePassword].filter(Boolean).length > 1) {
      ctx.addIssue({ code: 'custom', message: 'conflict', params: { code: 'conflicting-options', message: 'give one of --password-stdin, --password-file and --generate-password' } });
      return;
    }
    checkImport(settings, ctx);
  });

export type AddCustomerSettings = z.output<typeof addCustomerSchema>;

export const invitationsSendSchema = z
  .object({ ...common, ...mail, project: projectOption, inDoubt: flag, failed: flag, yes: flag, email: text, again: flag })
  .superRefine((settings, ctx) => {
    // A second sending is asked for one person at a time, never for a whole project.
    if (settings.again && settings.email === undefined) {
      ctx.addIssue({ code: 'custom', message: 'conflict', params: { code: 'conflicting-options', message: '--again sends one person\'s invitation once more: give --email with it', hint: 'jsm-provision invitations send --email <address> --again' } });
    }
    if (settings.email !== undefined && settings.failed) {
      ctx.addIssue({ code: 'custom', message: 'conflict', params: { code: 'conflicting-options', message: '--failed is for the whole project: with --email, a failed invitation is sent without it', hint: 'leave out --failed' } });
    }
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

/** Commands that take only the common options and `--project` (lists, show, unlock). */
export const projectScopedSchema = z.object({ ...common, project: projectOption });
export type ProjectScopedSettings = z.output<typeof projectScopedSchema>;

/** Commands that take only the common options (store unlock). */
export const commonSchema = z.object(common);

/** `doctor`: the common options, the project and where invitations go (what every other command would use). */
export const doctorSchema = z.object({ ...common, ...mail, project: projectOption });
export type DoctorSettings = z.output<typeof doctorSchema>;

/** `--email` naming one person (customers show, invitations send --email): trimmed, or refused saying why. */
export function oneEmail(value: string): string {
  const email = value.trim();
  const problem = emailProblem(email);
  if (problem !== undefined) throw new UsageError('bad-email', `--email: ${problem}`, "give the customer's address alone, e.g. --email jane@example.com");
  return email;
}
