/**
 * The two writes of provisioning: create one customer (the answer says whether they existed, so no
 * look-up first), then make many customers members of the desk in one call. Neither makes JSM send
 * an email: `POST /rest/servicedeskapi/customer` sends none, and `POST /rest/api/2/user` is asked
 * not to (`notification: "false"`).
 */
import { TargetError } from '../../core/errors.js';
import type { ProvisionRequest } from '../../core/target.js';
import type { ProvisionOutcome } from '../../core/types.js';
import { RequestFailed, type Answer, type HttpClient } from './http.js';
import { describeAnswer, errorText, EXPERIMENTAL, isAlreadyExists, isExperimentalRefusal, userSchema } from './wire.js';

/** A row whose account now exists, waiting to be made a member of the desk. */
export interface Created {
  index: number;
  username: string;
  email: string;
  status: 'created' | 'existing';
}

export async function createCustomer(http: HttpClient, row: ProvisionRequest, index: number): Promise<Created | { failed: string }> {
  if (row.exists === true) return { index, username: row.email, email: row.email, status: 'existing' };
  const path = row.password ? '/rest/api/2/user' : '/rest/servicedeskapi/customer';
  let answer: Answer;
  try {
    answer = row.password
      ? await http.request('POST', path, {
          json: {
            name: row.email,
            emailAddress: row.email,
            displayName: row.fullName,
            password: row.password.reveal(),
            notification: 'false',
            applicationKeys: [],
          },
        })
      : await http.request('POST', path, { json: { email: row.email, fullName: row.fullName }, headers: EXPERIMENTAL });
  } catch (error) {
    if (!(error instanceof RequestFailed)) throw error;
    const maybe = error.lostAnswers > 0 ? '; the account may have been created' : '';
    return { failed: `${error.message}${maybe}: run the same command again to finish this row` };
  }
  if (answer.status === 200 || answer.status === 201) {
    const user = userSchema.safeParse(answer.body);
    return { index, username: user.success ? user.data.name : row.email, email: row.email, status: 'created' };
  }
  if (isAlreadyExists(answer.status, answer.body)) {
    // "Exists" after an attempt whose answer was lost: that attempt created it, in this run.
    return { index, username: row.email, email: row.email, status: answer.lostAnswers > 0 ? 'created' : 'existing' };
  }
  if (answer.status === 404 || answer.status === 405 || isExperimentalRefusal(answer.status, answer.body)) {
    throw new TargetError(
      'unsupported',
      `${http.baseUrl.href.replace(/\/$/, '')} does not accept POST ${path} (${describeAnswer(answer.status, answer.body)})`,
      row.password ? 'this JSM cannot create users with a password over REST' : 'this JSM lacks the customer API this tool needs (JSM 3.x or newer): try with passwords (--password-file, or a password column)',
    );
  }
  return { failed: `JSM refused to create the customer: ${describeAnswer(answer.status, answer.body)}` };
}

/**
 * Makes a batch of users customers of the desk, in as few calls as JSM allows: one call for the
 * batch; a 400 that names missing users fails those rows and the rest go again; one that names no
 * one is split in two until the culprit is alone.
 */
export async function addMembers(
  http: HttpClient,
  deskId: string,
  projectKey: string,
  batch: readonly Created[],
): Promise<[number, ProvisionOutcome][]> {
  const results: [number, ProvisionOutcome][] = [];
  const path = `/rest/servicedeskapi/servicedesk/${encodeURIComponent(deskId)}/customer`;
  const fail = (c: Created, why: string): void => {
    const after = c.status === 'created' ? `the account was created, but ${why}; run the same command again to finish` : why;
    results.push([c.index, c.status === 'created' ? { status: 'failed', reason: after, accountCreated: true } : { status: 'failed', reason: after }]);
  };
  const groups: Created[][] = [[...batch]];
  while (groups.length > 0) {
    const group = groups.shift() ?? [];
    if (group.length === 0) continue;
    let answer: Answer;
    try {
      answer = await http.request('POST', path, { json: { usernames: group.map((c) => c.username) } });
    } catch (error) {
      if (!(error instanceof RequestFailed)) throw error;
      for (const c of group) fail(c, `it could not be made a customer of ${projectKey}: ${error.message}`);
      continue;
    }
    if (answer.status >= 200 && answer.status < 300) {
      for (const c of group) results.push([c.index, { status: c.status }]);
      continue;
    }
    const said = describeAnswer(answer.status, answer.body);
    if (answer.status !== 400) {
      for (const c of group) fail(c, `JSM did not make it a customer of ${projectKey} (${said})`);
      continue;
    }
    const words = tokens(errorText(answer.body));
    const named = group.filter((c) => words.has(c.username.toLowerCase()));
    if (named.length > 0) {
      for (const c of named) fail(c, `JSM says the user ${c.username} does not exist, so it could not be made a customer of ${projectKey}`);
      groups.push(group.filter((c) => !named.includes(c)));
    } else if (group.length > 1) {
      const half = Math.ceil(group.length / 2);
      groups.push(group.slice(0, half), group.slice(half));
    } else {
      for (const c of group) fail(c, `JSM did not make it a customer of ${projectKey} (${said})`);
    }
  }
  return results;
}

/** The words of a message, lower-cased, with surrounding punctuation taken off (usernames keep @ . - _ +). */
function tokens(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[\s,;:'"()[\]{}<>]+/)
      .map((w) => w.replace(/^[.]+|[.]+$/g, ''))
      .filter((w) => w !== ''),
  );
}
