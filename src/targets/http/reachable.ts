/**
 * A call that gets no answer at all means the instance is unreachable (or its rate limit refuses
 * us for good): the run stops (exit 3). Shared by the Data Center and Cloud targets.
 */
import { TargetError } from '../../core/errors.js';
import { RequestFailed, type HttpClient } from './http.js';

/** A discovery call that gets no answer at all means the instance is unreachable: the run stops (exit 3). */
export async function reachable<T>(http: HttpClient, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RequestFailed) {
      const where = http.baseUrl.href.replace(/\/$/, '');
      if (error.throttled) {
        throw new TargetError(
          'rate-limited',
          `JSM at ${where} kept refusing calls with 429 Too Many Requests: ${error.message}`,
          "the instance's rate limit for this account is used up (by this run or by whatever else the account runs): run again later, lower --concurrency, or ask a Jira admin to exempt the account (Administration > System > Rate limiting)",
        );
      }
      const proxy = http.proxy;
      throw new TargetError(
        'unreachable',
        `cannot reach JSM at ${where}${proxy ? ` through the proxy ${proxy}` : ''}: ${error.message}`,
        proxy
          ? 'check the URL, the proxy (HTTPS_PROXY / HTTP_PROXY; NO_PROXY lists hosts reached directly) and the network, then run again'
          : 'check the URL, the network and a proxy or firewall in between (a proxy is set with HTTPS_PROXY / HTTP_PROXY), then run again',
      );
    }
    throw error;
  }
}
