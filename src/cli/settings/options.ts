import { Option, type Command } from 'commander';
import { z } from 'zod';
import { wholeNumberIssue } from './numbers.js';

/** Options every command takes (docs/contract.md). */
export interface CommonOptions {
  target?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface ProjectOption {
  project?: string;
}

import { DEFAULT_STORE } from './target-setting.js';

export { DEFAULT_STORE };

export function addCommonOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--target <path-or-url>', `the local JSON store (default ${DEFAULT_STORE}) or a JSM Server/DC base URL`).env(
        'JSM_TARGET',
      ),
    )
    .option('--json', 'print exactly one JSON object on stdout when the command ends')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--config <file>', 'read settings from this JSON file (default: ./jsm-provision.config.json if there is one)').env('JSM_CONFIG'))
    .addOption(new Option('--profile <name>', 'use the settings of this profile of the config file').env('JSM_PROFILE'));
}

export function addProjectOption(command: Command): Command {
  return command.addOption(new Option('--project <KEY>', 'the service project customers are added to').env('JSM_PROJECT'));
}

export function addMailOptions(command: Command): Command {
  return command
    .addOption(new Option('--smtp <url>', 'send invitations by SMTP: smtp://[user@]host:port or smtps://... (the password never goes in the URL)').env('JSM_SMTP_URL'))
    .addOption(
      new Option('--smtp-password-file <file>', "the SMTP user's password, the first line of this file (or set JSM_SMTP_PASSWORD)").env('JSM_SMTP_PASSWORD_FILE'),
    )
    .addOption(new Option('--smtp-name <name>', "the name this host gives in EHLO (default: the host's fully qualified name)").env('JSM_SMTP_NAME'))
    .addOption(new Option('--mail-from <address>', 'sender of invitations').env('JSM_MAIL_FROM'))
    .addOption(
      new Option('--outbox <dir>', 'with no SMTP configured, write each invitation there as an .eml file (default: outbox/ beside the local store)').env(
        'JSM_OUTBOX',
      ),
    )
    .addOption(
      new Option('--template-dir <dir>', 'your invitation templates: welcome.txt, welcome.html, verify.txt, verify.html, welcome.<language>.txt ... (default: the built-in ones)').env(
        'JSM_TEMPLATE_DIR',
      ),
    )
    .option('--language <code>', 'language of the invitations whose row names none, e.g. de or pt-BR (falls back pt-BR -> pt -> default)')
    .addOption(portalUrlOption());
}

/** `--portal-url`: where invitations send customers (default: the portal a REST target names; none for the local store). */
export function portalUrlOption(): Option {
  return new Option('--portal-url <url>', "the customer portal invitations link to (default: the REST target's portal; the local store has none)").env('JSM_PORTAL_URL');
}

/** JSM project keys: a capital letter, then capitals, digits or underscores; 2 to 10 characters. */
export const projectKeySchema = z
  .string()
  .trim()
  .regex(/^[A-Z][A-Z0-9_]{1,9}$/, 'a project key is 2 to 10 characters: a capital letter, then capitals, digits or underscores (e.g. ITH)');

/**
 * A whole number between min and max, from an option's text (or a config file's number), with
 * errors in plain words ("must be a whole number"), never zod's ("expected number, received NaN").
 */
export function wholeNumber(min: number, max: number): z.ZodType<number> {
  return z.union([z.string(), z.number()], { error: 'must be a whole number' }).transform((value, ctx) => {
    const issue = wholeNumberIssue(value, min, max);
    if (issue === undefined) return Number(String(value).trim());
    ctx.addIssue({ code: 'custom', message: issue });
    return z.NEVER;
  }) as unknown as z.ZodType<number>;
}

