/** The proxy settings as curl reads them, NO_PROXY's matching, and a proxy URL without its credentials. */
import { describe, expect, it } from 'vitest';
import { bypassed, proxyFrom, withoutCredentials } from '../../src/targets/http/http.js';
import { sameEmail } from '../../src/targets/rest/accounts.js';
import { isExperimentalRefusal } from '../../src/targets/rest/wire.js';

describe('proxyFrom', () => {
  it('reads lower case first, then upper case; none set is no proxy', () => {
    expect(proxyFrom({})).toBeUndefined();
    expect(proxyFrom({ NO_PROXY: 'x' })).toBeUndefined();
    expect(proxyFrom({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128', NO_PROXY: 'a', no_proxy: 'b' })).toEqual({
      httpsProxy: 'http://lower:3128',
      noProxy: 'b',
    });
    expect(proxyFrom({ HTTP_PROXY: ' http://p:8080 ' })).toEqual({ httpProxy: 'http://p:8080' });
  });
});

describe('bypassed (NO_PROXY)', () => {
  const url = new URL('https://jira.corp.example:8443/jira');
  it.each([
    ['*', true],
    ['jira.corp.example', true],
    ['corp.example', true],
    ['.corp.example', true],
    ['*.corp.example', true],
    ['jira.corp.example:8443', true],
    ['jira.corp.example:443', false],
    ['other.example, ira.corp.example', false],
    ['localhost,127.0.0.1', false],
    ['', false],
  ])('%j -> %s', (noProxy, direct) => {
    expect(bypassed(url, noProxy)).toBe(direct);
  });
});

describe('withoutCredentials', () => {
  it('takes the user and password out of a proxy URL', () => {
    expect(withoutCredentials('http://user:s3cret@proxy.corp.example:3128/')).toBe('http://proxy.corp.example:3128');
    expect(withoutCredentials('not a url')).not.toContain('not a url');
  });
});

describe('what JSM shows of an email', () => {
  it('hidden (none) cannot say no; masked is read back; others compare without regard to case', () => {
    expect(sameEmail('', 'a@b.example')).toBe(true);
    expect(sameEmail('john dot smith at corp dot example', 'John.Smith@corp.example')).toBe(true);
    expect(sameEmail('jane at corp dot example', 'john@corp.example')).toBe(false);
    expect(sameEmail('A@B.example', 'a@b.example')).toBe(true);
    expect(sameEmail('x@b.example', 'a@b.example')).toBe(false);
  });
});

describe('the experimental-API refusal', () => {
  it('is any 412 (Cloud), or a 400 that says so', () => {
    expect(isExperimentalRefusal(412, undefined)).toBe(true);
    expect(isExperimentalRefusal(400, { errorMessage: 'This is an experimental API.' })).toBe(true);
    expect(isExperimentalRefusal(400, { errorMessage: 'A user with that username already exists.' })).toBe(false);
  });
});
