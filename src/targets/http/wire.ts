/**
 * What JSM answers, Data Center and Cloud alike, read leniently with zod: the two error families
 * (JSM's `errorMessage` in the singular, the platform's `errorMessages` + `errors`), pages, desks,
 * the project property; what only one of them answers lives with its target.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

export const deskSchema = z
  .object({ id: z.coerce.string(), projectKey: z.string(), projectName: z.string(), projectId: z.coerce.string().optional() })
  .loose();
export type DeskJson = z.infer<typeof deskSchema>;

/** A JSM page: `values` plus `isLastPage` (and `size`, `start`). */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z
    .object({ values: z.array(item), isLastPage: z.boolean().optional(), size: z.number().optional(), start: z.number().optional() })
    .loose();
}

export const propertySchema = z.object({ value: z.unknown() }).loose();
export const settingSchema = z.object({ sendVerificationEmails: z.boolean() }).loose();

const errorSchema = z
  .object({
    errorMessage: z.string().optional(),
    errorMessages: z.array(z.string()).optional(),
    errors: z.record(z.string(), z.unknown()).optional(),
    message: z.string().optional(),
  })
  .loose();

/** The sentences of an error answer, whichever family it comes from; a short excerpt of text otherwise. */
export function errorText(body: unknown): string {
  const parsed = errorSchema.safeParse(body);
  if (parsed.success) {
    const e = parsed.data;
    const parts = [
      ...(e.errorMessage ? [e.errorMessage] : []),
      ...(e.errorMessages ?? []),
      ...Object.values(e.errors ?? {}).filter((v): v is string => typeof v === 'string'),
      ...(e.message && !e.errorMessage ? [e.message] : []),
    ];
    if (parts.length > 0) return parts.join(' ');
  }
  if (typeof body === 'string') {
    // An HTML page (a login page, a proxy's error) is never shown: its title says enough.
    if (isHtml(body)) return htmlTitle(body);
    const text = body.replace(/\s+/g, ' ').trim();
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
  }
  return '';
}

export function isHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body|<\?xml)/i.test(text) || /<\/(html|body|head|title|h1|div|p)>/i.test(text);
}

/** The `<title>` of an HTML page, folded and cut short ('' when there is none). */
export function htmlTitle(html: string): string {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html) ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html);
  const text = (m?.[1] ?? '').replace(/<[^>]*>/g, ' ').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#?\w+;/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** JSM's language-independent error key (`i18nErrorMessage.i18nKey`), when the answer has one. */
export function i18nKeyOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const i18n = (body as { i18nErrorMessage?: unknown }).i18nErrorMessage;
  if (typeof i18n !== 'object' || i18n === null) return undefined;
  const key = (i18n as { i18nKey?: unknown }).i18nKey;
  return typeof key === 'string' && key !== '' ? key : undefined;
}

/** "503 Service Unavailable: <what JSM said>" */
export function describeAnswer(status: number, body: unknown): string {
  const said = errorText(body);
  const head = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  return said && !said.startsWith(head) ? `${head}: ${said}` : head;
}

/** The header the experimental JSM endpoints require. */
export const EXPERIMENTAL = { 'x-experimentalapi': 'opt-in' } as const;

/** Whether this is the experimental-API refusal: any 412 (Cloud), or a 400 by its i18n key, else by its (English) words. */
export function isExperimentalRefusal(status: number, body: unknown): boolean {
  if (status === 412) return true;
  if (status !== 400) return false;
  const key = i18nKeyOf(body);
  if (key !== undefined) return /experimental/i.test(key);
  return /experimental/i.test(errorText(body));
}
