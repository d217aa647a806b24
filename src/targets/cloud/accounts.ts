/**
 * Accounts on JSM Cloud, by accountId (Cloud has no usernames). The create is the look-up for new
 * people: `POST /rest/servicedeskapi/customer?strictConflictStatusCode=true` answers 201 with the
 * new account, or 409 when the email is in use; only then is the existing account looked for: an
 * exact-email user search, else the project's customer list, else the one account the search finds
 * whose profile hides its email. No password or username is ever sent (Cloud takes neither).
 * docs/jsm-api.md says where each behaviour relied on here comes from.
 */
import { z } from 'zod';
import type { Answer, HttpClient } from '../http/http.js';
import { RequestFailed } from '../http/http.js';
import { describeAnswer, errorText } from '../http/wire.js';

export const cloudUserSchema = z
  .object({
    accountId: z.string(),
    emailAddress: z.string().optional(),
    displayName: z.string().optional(),
    active: z.boolean().optional(),
    accountType: z.string().optional(),
  })
  .loose();
export type CloudUser = z.infer<typeof cloudUserSchema>;

export const sameEmail = (a: string | undefined, b: string): boolean => a !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();

/** What a create answered: the new account, the email in use already, or a refusal in words. */
export type CreateResult =
  | { kind: 'created'; user: CloudUser }
  /** `lostAnswers`: earlier attempts of this create whose answer was lost (one of them may have made the account). */
  | { kind: 'conflict'; lostAnswers: number }
  | { kind: 'refused'; answer: Answer }
  | { kind: 'lost'; error: RequestFailed };

export const CREATE_PATH = '/rest/servicedeskapi/customer';

export async function createCustomer(http: HttpClient, email: string, displayName: string): Promise<CreateResult> {
  let answer: Answer;
  try {
    answer = await http.request('POST', CREATE_PATH, {
      query: { strictConflictStatusCode: 'true' },
      // displayName, not the deprecated fullName; nothing else (Cloud sets no password by API).
      json: { email, displayName },
      returnsJson: true,
    });
  } catch (error) {
    if (error instanceof RequestFailed) return { kind: 'lost', error };
    throw error;
  }
  if (answer.status === 200 || answer.status === 201) {
    const user = cloudUserSchema.safeParse(answer.body);
    if (user.success) return { kind: 'created', user: user.data };
    return { kind: 'refused', answer };
  }
  // 409 with the conflict flag; a 400 saying the email is in use where a proxy dropped the flag.
  if (answer.status === 409 || (answer.status === 400 && /already|exist|in use/i.test(errorText(answer.body)))) return { kind: 'conflict', lostAnswers: answer.lostAnswers };
  return { kind: 'refused', answer };
}

/** The accounts a user search finds for an email: those showing it exactly, and those hiding their email. */
export async function searchByEmail(http: HttpClient, email: string): Promise<{ exact: CloudUser[]; hidden: CloudUser[] }> {
  const answer = await http.request('GET', '/rest/api/3/user/search', { query: { query: email, maxResults: 50 } });
  const users = z.array(cloudUserSchema).safeParse(answer.body);
  if (answer.status !== 200 || !users.success) {
    throw new RequestFailed(`Jira did not search its users (GET /rest/api/3/user/search: ${describeAnswer(answer.status, answer.body)})`, 0, false);
  }
  // App and bot accounts are never customers.
  const people = users.data.filter((u) => u.accountType === undefined || u.accountType === 'atlassian' || u.accountType === 'customer');
  return {
    exact: people.filter((u) => sameEmail(u.emailAddress, email)),
    hidden: people.filter((u) => u.emailAddress === undefined || u.emailAddress === ''),
  };
}
