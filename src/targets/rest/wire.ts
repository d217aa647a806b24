/**
 * What JSM answers, read leniently with zod: the two error families (JSM's `errorMessage` in the
 * singular, the platform's `errorMessages` + `errors`), pages, desks, users, the version.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

export const infoSchema = z.object({ version: z.string() }).loose();

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

export const userSchema = z
  .object({ name: z.string(), emailAddress: z.string().optional(), displayName: z.string().optional(), active: z.boolean().optional() })
  .loose();

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
    const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    return text.length > 160 ? `${text.slice(0, 157)}...` : text;
  }
  return '';
}

/** "503 Service Unavailable: <what JSM said>" */
export function describeAnswer(status: number, body: unknown): string {
  const said = errorText(body);
  const head = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  return said && !said.startsWith(head) ? `${head}: ${said}` : head;
}

/** A create refused because the user exists: 409 (any shape), or 400 saying so (both families). */
export function isAlreadyExists(status: number, body: unknown): boolean {
  if (status === 409) return true;
  return status === 400 && /already exists|already in use|already taken/i.test(errorText(body));
}

/** The header the experimental JSM endpoints require. */
export const EXPERIMENTAL = { 'x-experimentalapi': 'opt-in' } as const;

/** Whether the experimental-API refusal is what this 400 says. */
export function isExperimentalRefusal(status: number, body: unknown): boolean {
  return status === 400 && /experimental/i.test(errorText(body));
}
