/**
 * A Jira Service Management Cloud double over node:http on 127.0.0.1:0, written from Atlassian's
 * Cloud REST reference (docs/jsm-api.md "Jira Cloud" lists each fact and its source). Beside the
 * Data Center double (./jsm-double.ts), sharing nothing with it but the idea: on Cloud accounts
 * have an accountId and no username, credentials are an email and an API token, and customers,
 * organizations and searches all speak accountIds.
 *
 *   const cloud = await startJsmCloudDouble({
 *     existingAccounts: [{ email: 'old@example.com', hideEmail: true }],
 *     rateLimit: { perSecond: 10 },
 *   });
 *   // Authorization: Basic base64('admin@example.com:cloud-api-token')
 *   ...
 *   expect(cloud.desk('ITH')?.customers.size).toBe(300);
 *   await cloud.close();
 *
 * Order of handling: record -> latency -> failNext -> authentication (401; serverInfo and
 * servicedeskapi/info need none) -> burst limit (429) -> experimental header (412) -> 415 /
 * invalid JSON -> route (404 unknown, 405 wrong method) -> answer, or cut the socket.
 */
export { DEFAULT_CALLER, startJsmCloudDouble, NOT_AUTHENTICATED, PASSWORD_REFUSED } from './jsm-cloud-double/server.js';
export { createdTwice, rateLimited, requestsByRoute, timeSpan } from './jsm-cloud-double/stats.js';
export type {
  AccountType, CloudAccount, CloudAccountSeed, CloudCaller, CloudCreateRecord, CloudDesk, CloudFailNext, CloudFaultKind,
  CloudOrganization, CloudOrganizationSeed, CloudProjectSeed, CloudRateLimit, CloudRecordedCall, JsmCloudDouble,
  JsmCloudDoubleOptions,
} from './jsm-cloud-double/types.js';
