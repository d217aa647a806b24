/** Types of the JSM Data Center double (see ../jsm-double.ts for the overview). */

/** How a user came to exist: `POST /rest/servicedeskapi/customer`, `POST /rest/api/2/user`, or the seed. */
export type CreatedVia = 'customer' | 'user' | 'seed';

export interface User {
  /** Username; the double lower-cases it at creation (Jira usernames are case-insensitive). */
  name: string;
  key: string;
  emailAddress: string;
  displayName: string;
  active: boolean;
  /** Stored as sent, so tests can check what reached the server. */
  password?: string;
  createdVia: CreatedVia;
  /** `[]` for a customer. `POST /rest/api/2/user` without the field gives the default application. */
  applicationKeys: string[];
}

export interface Desk {
  id: string;
  projectId: string;
  projectKey: string;
  projectName: string;
  /** Lower-cased usernames. */
  customers: Set<string>;
  /** Ids of the organizations on the desk. */
  organizations: Set<string>;
  /** Customer access: `open` (anyone with an account, or public signup) refuses removals (docs/jsm-api.md). */
  access: 'closed' | 'open';
}

/** A customer organization. */
export interface Organization {
  /** A string in answers. */
  id: string;
  name: string;
  /** Lower-cased usernames. */
  members: Set<string>;
}

export interface OrganizationSeed {
  name: string;
  /** Usernames of its members. */
  members?: string[];
  /** Keys of the projects it is on. */
  projects?: string[];
}

export interface RecordedCall {
  method: string;
  /** Path without the context path and without the query (the raw path when outside the context path). */
  path: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
  /** Status answered; null while in flight or when the socket was destroyed without an answer. */
  status: number | null;
  /** Date.now() when the request arrived. */
  time: number;
  /** Authenticated username, or null. */
  user: string | null;
  /** The fault injected into this call, if any. */
  fault?: FaultKind;
}

export type FaultKind = '503' | '401' | '403' | '429' | 'cut-after-write' | 'cut-before-write' | 'login-page-200' | 'empty-200';

/** One precise fault for the next request that matches (consumed when used). */
export interface FailNext {
  /** Any method when absent. */
  method?: string;
  /** Path without context path and query; a string matches exactly. */
  path: string | RegExp;
  kind: FaultKind;
  /** For kind '429': the Retry-After value (default 1). */
  retryAfter?: number;
}

export interface Faults {
  /** Fraction of write requests (POST/PUT/DELETE) answered 503 without doing the write. */
  status503Rate: number;
  /** Fraction of write requests where the write is done and the socket is then destroyed. */
  cutAfterWriteRate: number;
  /** Seed of the PRNG that draws the two rates above. Setting it re-seeds. */
  seed: number;
  /** Matched before anything else, first match wins, each entry used once. */
  failNext: FailNext[];
}

export interface RateLimit {
  capacity: number;
  refillPerSecond: number;
  /** Force the Retry-After value (e.g. 0); otherwise the whole seconds until one token is back. */
  retryAfterSeconds?: number;
}

export interface SeedUser {
  name: string;
  emailAddress?: string;
  displayName?: string;
  active?: boolean;
  password?: string;
  key?: string;
  applicationKeys?: string[];
}

export interface ProjectSeed {
  key: string;
  name: string;
  /** Usernames that are already customers of the desk. */
  customers?: string[];
  /** Customer access (default 'closed': "Customers my team adds"); 'open' refuses removals with 400. */
  access?: 'closed' | 'open';
}

export interface JsmDoubleOptions {
  /** JSM version for /info (default '5.12.0'); may carry a suffix such as '5.17.2-QR-0028'. */
  version?: string;
  /** Jira platform version for /info and /serverInfo (default: JSM major + 4, same minor and patch). */
  platformVersion?: string;
  /** Accepted Bearer token (default 'test-token'); its owner is `tokenUser`. */
  token?: string;
  /** Owner of `token` (default 'admin'); rate-limit buckets are per owner. */
  tokenUser?: string;
  /** `token` works for this many calls, then is refused (401) as a token expired or revoked mid-run is. */
  revokeTokenAfter?: number;
  /** Accepted Basic credentials. */
  basic?: { user: string; password: string };
  /** A Bearer token that authenticates (as 'agent') but is refused 403 everywhere except /info. */
  forbiddenToken?: string;
  /** Filler desks before the test projects (default 60: the test project is on page 2 of 50). */
  desks?: number;
  /** The test projects, after the filler desks (default [{key:'ITH', name:'IT Help'}]). */
  projects?: ProjectSeed[];
  /** e.g. '/jira': every route lives under it, anything else answers 404. */
  contextPath?: string;
  /** Status of a duplicate on POST /rest/servicedeskapi/customer (default 400). */
  duplicateStatus?: 400 | 409;
  /** The desk customer listing is refused as an instance without it would: true or 404 -> 404, 403 -> 403, 405 -> 405 (no such method, as many DC versions). */
  customerListRefused?: boolean | 403 | 404 | 405;
  /** The instance's default language: messages in it, `i18nErrorMessage.i18nKey` unchanged (default 'en'). */
  language?: 'en' | 'de';
  /** Only read-only or delegated directories (LDAP/AD): every user create is refused. */
  readOnlyDirectory?: boolean;
  /** 401 answers as Jira's HTML login-required page instead of JSON. */
  html401?: boolean;
  /**
   * Basic logins and sessions: a successful Basic call sets `JSESSIONID`; a call with a live session
   * cookie is authenticated by it. A session ends after `maxRequests` calls or `ttlMs` (default: never),
   * or when `expireSessions()` is called; a call with an ended session's cookie (and no credentials) gets 401.
   */
  sessions?: { maxRequests?: number; ttlMs?: number };
  /**
   * CAPTCHA after failed logins, as Seraph does: after `afterFailures` failed Basic logins of a user
   * (default 3), or from the start with `active`, every Basic call of that user gets 403 with
   * `X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE; login-url=...`, right password or not.
   */
  captcha?: { afterFailures?: number; active?: boolean };
  /** Called as each request arrives (recorded, before faults and routes): lets a test act as another client in between. */
  onRequest?: (call: RecordedCall, users: Map<string, User>) => void;
  /** Called after each user-creating write (cut answers included), with the number of creates so far. */
  onCreate?: (count: number, username: string) => void;
  /** Delay before every answer. */
  latencyMs?: number;
  rateLimit?: RateLimit;
  existingUsers?: SeedUser[];
  /** Organizations that exist before the run. */
  organizations?: OrganizationSeed[];
  faults?: Partial<Faults>;
  /**
   * Administration > System > General configuration > User email visibility (default 'public').
   * Hidden: answers carry no `emailAddress` and the user search does not match emails; masked:
   * `john dot smith at corp dot example`, not matched either (Jira's EmailFormatterImpl and
   * DefaultUserPickerSearchService).
   */
  emailVisibility?: 'public' | 'hidden' | 'masked';
  /**
   * What the authenticated account may do (default: everything, as a Jira admin). Without
   * `browseUsers` (global permission Browse users and groups, USER_PICKER) the user search answers
   * `200 []`; an account that is neither `admin` nor an agent of a project (`agentOf`) sees only the
   * organizations it belongs to.
   */
  account?: { browseUsers?: boolean; admin?: boolean; agentOf?: string[]; emailAddress?: string };
  /** Every servicedeskapi call but /info without `X-ExperimentalApi: opt-in` is refused with this status (412 as Cloud, or 400). */
  experimentalEverywhere?: 400 | 412;
  /**
   * A Data Center cluster of `nodes` behind a load balancer that pins a client to a node with its
   * own cookie (`cookie`, e.g. ROUTEID); a request without it goes to the next node in turn and is
   * given it. Sessions (JSESSIONID) live on the node that made them: another node does not know them.
   */
  cluster?: { nodes: number; cookie: string };
  /** Reads are open to anonymous users: a GET with wrong credentials is answered as to anyone (200), with `X-Seraph-LoginReason: AUTHENTICATED_FAILED`. */
  anonymousReads?: boolean;
  /** Jira's password policy: `POST /rest/api/2/user` with a shorter password is refused 400 in the policy's words (errors.password). */
  passwordPolicy?: { minLength: number };
  /** Jira 8.16+ with Basic authentication turned off: every Basic call gets 403 `{"message":"Basic Authentication has been disabled on this instance."}`. */
  basicDisabled?: boolean;
}

/** One write that created a user (done even when the answer was then cut). */
export interface CreateRecord {
  username: string;
  via: 'customer' | 'user';
  time: number;
  /** false when the socket was destroyed instead of answering. */
  answered: boolean;
  /** Date.now() when the connection that carried the create was accepted. */
  connectedAt?: number;
}

export interface NotificationSent {
  username: string;
  /** The `notification` value as sent. */
  value: unknown;
  time: number;
}

export interface JsmDouble {
  /** Base URL including the context path, without a trailing slash. */
  url: string;
  calls: RecordedCall[];
  /** By lower-cased username. */
  users: Map<string, User>;
  desks: Desk[];
  organizations: Organization[];
  /** Every organization the double created (by name), and memberships (`orgId/username`) and desk additions (`deskId/orgId`) it made. */
  organizationCreates: string[];
  organizationJoins: string[];
  deskOrganizationAdds: string[];
  /** Removals the double made: `deskId/username` taken off a desk, `orgId/username` out of an organization. */
  customerRemovals: string[];
  organizationLeaves: string[];
  /** `${projectKey}/${propertyKey}` -> value. */
  properties: Map<string, unknown>;
  /** Every user-creating write the double performed. */
  creates: CreateRecord[];
  /** `POST /rest/api/2/user` calls with notification true/"true": should stay empty. */
  notificationsSent: NotificationSent[];
  /** The current faults (a copy). */
  readonly faults: Faults;
  /** Successful Basic logins (calls authenticated by credentials rather than a session cookie). */
  readonly logins: number;
  /** Failed Basic logins (on /info too: Jira checks credentials sent to it, although it needs none). */
  readonly failedLogins: number;
  /** Sessions that a node was asked for but did not know (a cluster's lost sessions). */
  readonly lostSessions: number;
  /** Ends every session (the next cookie call gets 401). */
  expireSessions(): void;
  setFaults(f: Partial<Faults>): void;
  close(): Promise<void>;
}
