/**
 * Which JSM a base URL is: Cloud when its host ends in `.atlassian.net`, or when the instance's own
 * `serverInfo` says `deploymentType: "Cloud"` (a custom domain); Data Center otherwise. Decided
 * once, before a target is opened, by the command that opens it.
 */
import { UsageError } from '../../core/errors.js';
import { HttpClient, proxyFrom } from './http.js';
import { Pacer } from './rate.js';
import { Secret } from '../../core/secret.js';

export type Deployment = 'dc' | 'cloud';

/** The base URL as given, without a trailing slash; refuses credentials, a query or a fragment in it (exit 2). */
export function checkBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError('bad-target', `--target ${raw}: not a URL`, 'give the base URL of JSM, e.g. https://jira.example.com, https://example.com/jira or https://your-site.atlassian.net');
  }
  if (url.username || url.password) {
    throw new UsageError(
      'bad-target',
      `--target must not carry credentials (they would show in ps and shell history)`,
      'set JSM_TOKEN, or JSM_USER and JSM_PASSWORD (Cloud: JSM_USER and JSM_TOKEN), in the environment instead',
    );
  }
  if (url.search || url.hash) {
    throw new UsageError('bad-target', `--target ${url.origin}${url.pathname}: leave out the query and fragment`, 'give only the base URL, e.g. https://example.com/jira');
  }
  // A page's address copied from the browser (the portal, an issue, a REST call): its base is before it.
  const page = /\/(servicedesk\/customer|jira\/servicedesk|secure|browse|projects|plugins\/servlet|rest)(\/|$)/i.exec(url.pathname);
  if (page !== null) {
    const base = `${url.origin}${url.pathname.slice(0, page.index)}`;
    throw new UsageError(
      'bad-target',
      `--target ${url.origin}${url.pathname}: that is the address of a page of JSM (the portal, an issue, a REST call), not its base URL`,
      `give the base URL, the part before ${url.pathname.slice(page.index, page.index + (page[1] as string).length + 1)}: --target ${base}`,
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, '') || '/';
  return url;
}

/** A host of Atlassian's Cloud (`<site>.atlassian.net`). */
export function isCloudHost(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === 'atlassian.net' || host.endsWith('.atlassian.net');
}

/**
 * Cloud or Data Center. A host of atlassian.net is Cloud without asking; any other, when the
 * credentials may be Cloud's (JSM_USER with JSM_TOKEN, or an email with JSM_PASSWORD), asks `GET /rest/api/2/serverInfo` once, with no credentials (it needs no login on either), and takes
 * `deploymentType: "Cloud"` as Cloud. No answer, or any other: Data Center (whose own first call
 * then says what is wrong).
 */
export async function deploymentOf(url: URL, env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<Deployment> {
  if (isCloudHost(url)) return 'cloud';
  // Only credentials that may be Cloud's make a custom domain worth asking: a user with an API token
  // (an email, or a username said wrong in Cloud's terms), or an email with a password (Cloud's API
  // takes none, and says so in Cloud's terms). A personal access token alone, or a username and
  // password, is a Data Center run and costs no extra call.
  const user = env.JSM_USER?.trim();
  if (!(user && (env.JSM_TOKEN?.trim() || (user.includes('@') && env.JSM_PASSWORD)))) return 'dc';
  return askDeployment(url, env, timeoutMs);
}

/**
 * What the instance's own `GET /rest/api/2/serverInfo` says it is, asked once with no credentials:
 * Cloud when `deploymentType` is `Cloud`; Data Center on any other answer or none. `deploymentOf`
 * asks only when the credentials may be Cloud's; `doctor` asks also when none are set, to say what
 * that site takes.
 */
export async function askDeployment(url: URL, env: NodeJS.ProcessEnv, timeoutMs = 10_000): Promise<Deployment> {
  const proxy = proxyFrom(env);
  const http = new HttpClient({
    baseUrl: url,
    credentials: { header: new Secret(''), source: 'none', kind: 'token' },
    pacer: new Pacer({ maxInFlight: 1 }),
    maxAttempts: 1,
    timeoutMs,
    ...(proxy ? { proxy } : {}),
  });
  try {
    const answer = await http.request('GET', '/rest/api/2/serverInfo', { anonymous: true, pass: [401, 403] });
    const body = answer.body as { deploymentType?: unknown } | undefined;
    return answer.status === 200 && typeof body === 'object' && body !== null && String(body.deploymentType).toLowerCase() === 'cloud' ? 'cloud' : 'dc';
  } catch {
    return 'dc';
  } finally {
    await http.close();
  }
}
