import { Command, Option } from 'commander';
import { UsageError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import type { Target } from '../../core/target.js';
import type { InvitationKind, InvitationMessage, InvitationRecord, ProjectInfo } from '../../core/types.js';
import { emailKey, foldName } from '../../core/validate.js';
import { DEFAULT_OUTBOX_FROM, isPlainAddress, loadTemplates, messageIdDomainFor, messageIdFor, parseSender, renderInvitation, singleLine } from '../../mail/index.js';
import { checkLanguageOption, templatesForCloud } from '../../mail/templates.js';
import { action, withTarget } from '../program/action.js';
import { openTarget, resolveProject } from '../runs/context.js';
import { z } from 'zod';
import { addCommonOptions, addProjectOption, portalUrlOption, type CommonOptions } from '../settings/options.js';
import { common, flag, parseSettings, portalUrlSetting, projectOption, text, usageCheck } from '../settings/settings.js';
import { io } from '../io/io.js';
import type { Output } from '../io/output.js';
import type { CommandResult } from '../io/result.js';

/** The preview's settings, parsed once: the address checked, the language code normalised, the name folded. */
const previewSchema = z
  .object({
    ...common,
    project: projectOption,
    email: z.string(),
    name: text,
    language: text,
    kind: z.enum(['welcome', 'verify']).optional(),
    templateDir: text,
    mailFrom: text,
    portalUrl: portalUrlSetting(),
    html: flag,
  })
  .transform((settings, ctx) => {
    const email = settings.email.trim();
    if (!isPlainAddress(email)) {
      ctx.addIssue({
        code: 'custom',
        message: 'bad-email',
        params: { code: 'bad-email', message: `--email ${JSON.stringify(printable(settings.email, 80))} is not one plain email address`, hint: 'give the address alone, e.g. --email jane@example.com' },
      });
      return z.NEVER;
    }
    const raw = settings.language;
    const language = raw === undefined ? undefined : usageCheck(ctx, () => checkLanguageOption(raw));
    if (raw !== undefined && language === undefined) return z.NEVER;
    return {
      ...settings,
      email,
      language,
      name: settings.name === undefined ? undefined : foldName(settings.name),
      mailFrom: settings.mailFrom?.trim() || undefined,
    };
  });

export function invitationsPreviewCommand(): Command {
  const command = new Command('preview')
    .description('print the invitation a customer would get (headers and text, or --html), sending nothing')
    .requiredOption('--email <address>', 'the customer (in the store or the ledger), or any address with --name')
    .option('--name <name>', 'the name to greet (default: the customer\'s name in the target)')
    .option('--language <code>', 'the language to show (default: the one recorded for the customer, else the default template)')
    .addOption(new Option('--kind <kind>', 'which message (default: the one recorded, else welcome)').choices(['welcome', 'verify']))
    .addOption(new Option('--template-dir <dir>', 'your templates (default: the built-in ones)').env('JSM_TEMPLATE_DIR'))
    .addOption(new Option('--mail-from <address>', 'the sender, as the send would use it').env('JSM_MAIL_FROM'))
    .addOption(portalUrlOption())
    .option('--html', 'print the HTML part instead of the text part');
  return addCommonOptions(addProjectOption(command))
    .addHelpText(
      'after',
      '\nExamples:\n  $ jsm-provision invitations preview --project ITH --email jane@example.com\n' +
        '  $ jsm-provision invitations preview --project ITH --email new@example.com --name "Ana Lima" --language pt-BR --template-dir ./templates --html',
    )
    .action(action('invitations preview', previewInvitation));
}

interface Recipient {
  /** As the target holds it (the send uses this spelling). */
  email: string;
  fullName: string;
  mustChangePassword: boolean;
  kind?: InvitationKind;
  language?: string;
  messageId?: string;
  /** The invitation's state in the ledger, when it has one. */
  status?: InvitationRecord['status'];
  found: 'ledger' | 'store' | 'given';
}

/** The ledger's record first (it holds what the send would use), then the target's customers, then --name. */
async function findRecipient(target: Target, project: ProjectInfo, email: string, name: string | undefined): Promise<Recipient | undefined> {
  const key = emailKey(email);
  const record = target.ledger.get(project.key, key);
  if (record) {
    const found: Recipient = { email: record.email, fullName: name ?? record.fullName, mustChangePassword: record.mustChangePassword, kind: record.kind, found: 'ledger' };
    if (record.language !== undefined) found.language = record.language;
    if (record.messageId !== undefined) found.messageId = record.messageId;
    found.status = record.status;
    return found;
  }
  if (name !== undefined) return { email, fullName: name, mustChangePassword: false, found: 'given' };
  for await (const customer of target.listCustomers(project)) {
    if (emailKey(customer.email) === key) return { email: customer.email, fullName: customer.fullName, mustChangePassword: customer.mustChangePassword, found: 'store' };
  }
  return undefined;
}

function mailbox(name: string, address: string): string {
  if (!name) return address;
  // As nodemailer writes it: an ASCII name with more than letters, digits and spaces is quoted
  // ("Doe, Jane" is one person, Doe, Jane would be two); other names go as encoded words, shown decoded.
  const quoted = /^[\w ]*$/.test(name) || !/^[\x20-\x7e]*$/.test(name) ? name : `"${name.replace(/(["\\])/g, '\\$1')}"`;
  return `${quoted} <${address}>`;
}

/** Shown on a terminal: line ends as the terminal wants them, every other control character visible. */
function shown(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.split('\t').map((part) => printable(part)).join('\t'))
    .join('\n');
}

async function previewInvitation(out: Output, raw: CommonOptions): Promise<CommandResult> {
  // Parse: every option checked and typed once.
  const options = parseSettings(previewSchema, raw);
  const { email, language, name, mailFrom: from } = options;
  const sender = parseSender(from ?? DEFAULT_OUTBOX_FROM);
  return withTarget(
    () => openTarget(options, out),
    async (target) => {
      const project = await resolveProject(target, options.project);
      const recipient = await findRecipient(target, project, email, name);
      if (!recipient) {
        throw new UsageError(
          'unknown-customer',
          `${printable(email)} is not a customer of ${project.key} in ${printable(target.location)} and has no invitation there`,
          'give --name to preview the message for any address',
        );
      }
      const to = recipient.email.trim();
      const kind = options.kind ?? recipient.kind ?? 'welcome';
      const given = loadTemplates({ kinds: [kind], ...(options.templateDir !== undefined ? { dir: options.templateDir, cwd: io().cwd } : {}) });
      const templates = target.deployment === 'cloud' ? templatesForCloud(given) : given;
      const wanted = language ?? recipient.language;
      const message: InvitationMessage = {
        kind,
        to: { email: to, fullName: recipient.fullName },
        project: { key: project.key, name: project.name, ...(options.portalUrl ?? project.portalUrl ? { portalUrl: options.portalUrl ?? project.portalUrl } : {}) },
        mustChangePassword: recipient.mustChangePassword,
        ...(wanted !== undefined ? { language: wanted } : {}),
        messageId: recipient.messageId ?? messageIdFor(project.key, emailKey(email), kind, messageIdDomainFor(from)),
      };
      const rendered = renderInvitation(message, sender, templates);
      if (options.html && rendered.html === undefined) {
        throw new UsageError(
          'no-html-template',
          `this message has no HTML part: ${printable(templates.dir)} has no ${rendered.textFile.replace(/^.*[\\/]/, '').replace(/\.txt$/, '.html')}`,
          'leave out --html to see the text part, or add the HTML template',
        );
      }
      const headers = {
        from: mailbox(sender.name, sender.address),
        to: mailbox(singleLine(recipient.fullName), to),
        subject: rendered.subject,
        messageId: message.messageId,
      };
      const json = {
        target: target.kind,
        project: project.key,
        email: to,
        customer: recipient.found,
        kind,
        language: wanted ?? null,
        templateLanguage: rendered.language,
        templates: { text: rendered.textFile, html: rendered.htmlFile ?? null },
        message: { ...headers, text: rendered.text, html: rendered.html ?? null },
        sent: false,
      };
      const fellBack = wanted !== undefined && rendered.language !== wanted ? ` (no ${kind}.${wanted} template: ${rendered.language ?? 'the default'} is used)` : '';
      out.note(`template ${printable(rendered.htmlFile && options.html ? rendered.htmlFile : rendered.textFile)}${fellBack}; nothing was sent`);
      // The message as it would be made now (From is this run's --mail-from, not the one it went with).
      if (recipient.status === 'sent') out.note(`${printable(to)} was sent this invitation already (${printable(message.messageId)}); this shows it as it would be made now`);
      return {
        outcome: 'done',
        json,
        text: [
          `From: ${shown(headers.from)}`,
          `To: ${shown(headers.to)}`,
          `Subject: ${shown(headers.subject)}`,
          `Message-ID: ${shown(headers.messageId)}`,
          `Content-Type: ${options.html ? 'text/html' : 'text/plain'}; charset=utf-8`,
          '',
          shown(options.html ? (rendered.html ?? '') : rendered.text),
        ].join('\n'),
      };
    },
  );
}
