/** Types of the JSM Cloud double (see ../jsm-cloud-double.ts for the overview, docs/jsm-api.md "Jira Cloud" for the facts). */

/** `customer`: a portal-only customer (what `POST /rest/servicedeskapi/customer` makes); `atlassian`: a full Atlassian account. */
export type AccountType = 'atlassian' | 'customer' | 'app';

export interface CloudAccount {
  /** The only identity Cloud has: no username, no user key. */
  accountId: string;
  accountType: AccountType;
  emailAddress: string;
  displayName: string;
  active: boolean;
  /** Profile visibility: the account hides its email, so answers carry no `emailAddress`. */
  hideEmail: boolean;
  /** How it came to exist: created through the API by this double, or seeded. */
  createdVia: 'customer' | 'seed';
}

export interface CloudDesk {
  id: string;
  projectId: string;
  projectKey: string;
  projectName: string;
  /** accountIds of the desk's customers. */
  customers: Set<string>;
  /** Ids of the organizations on the desk. */
  organizations: Set<string>;
}

export interface CloudOrganization {
  /** A string in answers (a number in the desk request). */
  id: string;
  name: string;
  /** accountIds. */
  members: Set<string>;
}

export interface CloudAccountSeed {
  email: string;
  displayName?: string;
  /** Default 'customer'. */
  accountType?: AccountType;
  accountId?: string;
  active?: boolean;
  /** The account's profile hides its email (answers carry no `emailAddress`). */
  hideEmail?: boolean;
}

export interface CloudProjectSeed {
  key: string;
  name: string;
  /** Emails (of seeded accounts) already customers of the desk. */
  customers?: string[];
}

export interface CloudOrganizationSeed {
  name: string;
  /** Emails of seeded accounts. */
  members?: string[];
  /** Keys of the projects it is on. */
  projects?: string[];
}

export interface CloudRecordedCall {
  method: string;
  /** Path without the query. */
  path: string;
  /** The path with ids replaced by placeholders (`/rest/servicedeskapi/servicedesk/{id}/customer`): a route. */
  route: string;
  query: Record<string, string>;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
  /** Status answered; null while in flight or when the socket was destroyed without an answer. */
  status: number | null;
  /** Date.now() when the request arrived. */
  time: number;
  /** accountId of the authenticated caller, or null. */
  accountId: string | null;
  fault?: CloudFaultKind;
}

export type CloudFaultKind = '503' | '429' | 'cut-after-write' | 'cut-before-write';

/** One precise fault for the next request that matches (consumed when used). */
export interface CloudFailNext {
  method?: string;
  /** Path without query; a string matches exactly. */
  path: string | RegExp;
  kind: CloudFaultKind;
  /** For '429' and '503': the Retry-After value (default 1). */
  retryAfter?: number;
}

/**
 * The burst limit: a token bucket of `burst` tokens (default `perSecond`) refilled at `perSecond`.
 * `scope: 'endpoint'` (default) keeps one bucket per method and route, as Cloud's burst limit is
 * scoped ("one tenant, one endpoint, one HTTP method"); `'account'` one bucket for every call.
 */
export interface CloudRateLimit {
  perSecond: number;
  burst?: number;
  scope?: 'endpoint' | 'account';
  /** Force the Retry-After value; otherwise the whole seconds until a token is back (at least 1). */
  retryAfterSeconds?: number;
}

/** The account the API token belongs to (the caller). */
export interface CloudCaller {
  email: string;
  apiToken: string;
  /** The account's password: Cloud refuses it for the API (401), as it refuses a username. */
  password: string;
  accountId: string;
  displayName: string;
  /** Jira administrator (creates customers; default true). */
  admin: boolean;
  /** Global permission Browse users and groups (default true): without it user search answers `[]`. */
  browseUsers: boolean;
}

export interface JsmCloudDoubleOptions {
  /** The caller's credentials and rights (defaults: admin@example.com, token 'cloud-api-token', password 'cloud-password'). */
  caller?: Partial<CloudCaller>;
  /** Filler desks before the test projects (default 60: the test project is on page 2 of 50). */
  desks?: number;
  /** Default [{key:'ITH', name:'IT Help'}]. */
  projects?: CloudProjectSeed[];
  existingAccounts?: CloudAccountSeed[];
  organizations?: CloudOrganizationSeed[];
  rateLimit?: CloudRateLimit;
  /**
   * Whether `user/search?query=` matches the email of an account whose profile hides it (it is
   * still left out of the answer). Not settled by the reference: 'matches' (default) or 'not-matched'.
   */
  hiddenEmailSearch?: 'matches' | 'not-matched';
  /** Whether `user/search` returns portal-only customers too (default true; not settled by the reference). */
  userSearchFindsCustomers?: boolean;
  /** Delay before every answer. */
  latencyMs?: number;
  failNext?: CloudFailNext[];
  /** Called as each request arrives (recorded, before faults and routes). */
  onRequest?: (call: CloudRecordedCall) => void;
  /** Called after each customer the double created (cut answers included), with the count so far. */
  onCreate?: (count: number, account: CloudAccount) => void;
}

/** One customer the double created (done even when the answer was then cut). */
export interface CloudCreateRecord {
  accountId: string;
  /** Lower-cased. */
  email: string;
  time: number;
  answered: boolean;
}

export interface JsmCloudDouble {
  /** Base URL, without a trailing slash. */
  url: string;
  calls: CloudRecordedCall[];
  /** By accountId. */
  accounts: Map<string, CloudAccount>;
  desks: CloudDesk[];
  organizations: CloudOrganization[];
  /** `${projectKey}/${propertyKey}` -> value. */
  properties: Map<string, unknown>;
  creates: CloudCreateRecord[];
  /** Every organization the double created (by name); memberships `orgId/accountId`; desk additions `deskId/orgId`. */
  organizationCreates: string[];
  organizationJoins: string[];
  deskOrganizationAdds: string[];
  /** The account with this email (case-insensitive), if any. */
  accountByEmail(email: string): CloudAccount | undefined;
  /** The desk of a project key. */
  desk(projectKey: string): CloudDesk | undefined;
  setFailNext(f: CloudFailNext[]): void;
  close(): Promise<void>;
}
