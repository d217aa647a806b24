import { UsageError } from '../core/errors.js';

/** The inbox's own addresses and domains (`--exclude`), lower-cased. */
export interface Exclusions {
  addresses: ReadonlySet<string>;
  /** `@example.com`: that domain only. */
  domains: ReadonlySet<string>;
  /** `@*.example.com`: every subdomain of it (mail.example.com, eu.mail.example.com), not the domain itself. */
  subdomainsOf?: ReadonlySet<string>;
}

/**
 * Parses `--exclude` values: `support@example.com`, `@example.com` (that domain), or
 * `@*.example.com` (its subdomains). Throws UsageError for others.
 */
export function parseExclusions(values: readonly string[]): Exclusions {
  const addresses = new Set<string>();
  const domains = new Set<string>();
  const subdomainsOf = new Set<string>();
  for (const value of values) {
    const v = value.trim().toLowerCase();
    const at = v.lastIndexOf('@');
    if (at < 0 || at === v.length - 1 || /[\s<>,;"]/.test(v) || v.indexOf('@') !== at) {
      throw new UsageError(
        'bad-option',
        `--exclude ${JSON.stringify(value)}: give an address (support@example.com), a domain with its @ (@example.com), or its subdomains (@*.example.com)`,
      );
    }
    const wildcard = v.indexOf('*');
    if (at === 0 && v.startsWith('@*.') && wildcard === 1 && v.length > 3 && !v.slice(3).includes('*')) subdomainsOf.add(v.slice(3));
    else if (wildcard >= 0) {
      throw new UsageError(
        'bad-option',
        `--exclude ${JSON.stringify(value)}: a * may only begin a domain, as in @*.example.com (every subdomain of example.com)`,
      );
    } else if (at === 0) domains.add(v.slice(1));
    else addresses.add(v);
  }
  return { addresses, domains, subdomainsOf };
}

