/** Pure parts of the REST target: URL and credential checks, versions, close keys, answers, notes. */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TargetError, UsageError } from '../../src/core/errors.js';
import { closeMatches, parseVersion, versionAtLeast } from '../../src/targets/rest/discovery.js';
import { checkUrl, credentialSource, credentialsFrom } from '../../src/targets/rest/index.js';
import { settingNotes } from '../../src/targets/rest/target.js';
import { describeAnswer, errorText, i18nKeyOf, isExperimentalRefusal, isReadOnlyDirectory } from '../../src/targets/rest/wire.js';

describe('checkUrl', () => {
  it('keeps a context path and drops the trailing slash', () => {
    expect(checkUrl('https://example.com/jira/').href).toBe('https://example.com/jira');
    expect(checkUrl(' https://jira.example.com ').href).toBe('https://jira.example.com/');
  });

  it('refuses Cloud (exit 3: it has a target of its own), credentials in the URL and queries (exit 2)', () => {
    expect(() => checkUrl('https://acme.atlassian.net/')).toThrow(TargetError);
    expect(() => checkUrl('https://acme.atlassian.net/')).toThrow('https://acme.atlassian.net is Jira Cloud, which the Data Center target does not speak to');
    expect(() => checkUrl('https://admin:pw@jira.example.com')).toThrow(UsageError);
    expect(() => checkUrl('https://jira.example.com/?os_authType=basic')).toThrow(UsageError);
  });
});

describe('credentialsFrom', () => {
  const url = new URL('https://jira.example.com/');
  it('prefers JSM_TOKEN (Bearer), else JSM_USER and JSM_PASSWORD (Basic); never prints them', () => {
    const token = credentialsFrom({ JSM_TOKEN: 'abc', JSM_USER: 'u', JSM_PASSWORD: 'p' }, url);
    expect([token.header.reveal(), token.source]).toEqual(['Bearer abc', 'JSM_TOKEN']);
    const basic = credentialsFrom({ JSM_USER: 'root', JSM_PASSWORD: 'pw:with:colons' }, url);
    expect(basic.header.reveal()).toBe(`Basic ${Buffer.from('root:pw:with:colons').toString('base64')}`);
    expect(`${basic.header} ${JSON.stringify(basic)} ${inspect(basic)}`).not.toContain(Buffer.from('root:pw:with:colons').toString('base64'));
  });

  it('says which variable is missing (exit 2)', () => {
    expect(() => credentialsFrom({}, url)).toThrow('no credentials are set for https://jira.example.com: set JSM_TOKEN');
    expect(() => credentialsFrom({ JSM_PASSWORD: 'x' }, url)).toThrow('JSM_USER is not set');
    expect(() => credentialsFrom({ JSM_USER: 'x', JSM_TOKEN: ' ' }, url)).toThrow(UsageError);
  });

  it('names a secret read from a file by the variable given (JSM_TOKEN_FILE, JSM_PASSWORD_FILE), as doctor does', () => {
    expect(credentialsFrom({ JSM_TOKEN: 'abc', JSM_TOKEN_FILE: '/run/secrets/jsm' }, url).source).toBe('JSM_TOKEN_FILE');
    expect(credentialsFrom({ JSM_USER: 'u', JSM_PASSWORD: 'p', JSM_PASSWORD_FILE: '/run/secrets/pw' }, url).source).toBe('JSM_USER and JSM_PASSWORD_FILE');
    expect(credentialSource({ JSM_TOKEN_FILE: '/run/secrets/jsm' })).toEqual({ kind: 'token', source: 'JSM_TOKEN_FILE' });
    expect(credentialSource({ JSM_USER: 'u' })).toBeNull();
  });
});

describe('versions', () => {
  it('parses leniently and compares with 3.10.0', () => {
    expect(parseVersion('5.17.2-QR-0028').numbers).toEqual([5, 17, 2]);
    expect(parseVersion('4.5').numbers).toEqual([4, 5, 0]);
    expect(parseVersion('unknown').numbers).toBeNull();
    expect(versionAtLeast(parseVersion('3.9.9'), [3, 10, 0])).toBe(false);
    expect(versionAtLeast(parseVersion('3.10.0'), [3, 10, 0])).toBe(true);
    expect(versionAtLeast(parseVersion('10.0.0-m1'), [3, 10, 0])).toBe(true);
    expect(versionAtLeast(parseVersion('n/a'), [3, 10, 0])).toBeNull();
  });

  it('notes what JSM itself does on each side of 3.10.0', () => {
    const old = settingNotes(parseVersion('3.9.0')).join(' ');
    expect(old).toContain('This JSM (3.9.0) cannot stop its own verification emails: that needs JSM 3.10.0 or newer.');
    const current = settingNotes(parseVersion('5.12.0')).join(' ');
    expect(current).toContain('Project settings > Customer notifications');
    expect(current).not.toContain('cannot stop');
    expect(settingNotes(parseVersion('?')).join(' ')).toContain('could not be read');
  });
});

describe('closeMatches', () => {
  it('finds keys one or two edits away, or containing each other, closest first', () => {
    const keys = ['ITH', 'ITX', 'HR', 'ITHELP', 'SALES', 'FILL1'];
    expect(closeMatches('ITG', keys)).toEqual(['ITH', 'ITX']);
    expect(closeMatches('ITHELPX', keys)).toEqual(['ITHELP', 'ITH']);
    expect(closeMatches('ZZZZZ', keys)).toEqual([]);
  });
});

describe('answers', () => {
  it('reads both error families, and HTML from a proxy', () => {
    expect(errorText({ errorMessage: 'A user with that username already exists.', i18nErrorMessage: {} })).toBe('A user with that username already exists.');
    expect(errorText({ errorMessages: ['Bad.'], errors: { username: 'Taken.' } })).toBe('Bad. Taken.');
    expect(describeAnswer(503, '<html><body><h1>Down for maintenance</h1></body></html>')).toBe('503 Service Unavailable: Down for maintenance');
    expect(describeAnswer(502, undefined)).toBe('502 Bad Gateway');
  });

  it('shows an HTML page by its title only, never the page', () => {
    const page = '<!DOCTYPE html><html><head><title>Unauthorized (401)</title><script>var secret=1</script></head><body><p>Long login form ...</p></body></html>';
    expect(describeAnswer(401, page)).toBe('401 Unauthorized: Unauthorized (401)');
    expect(errorText(page)).not.toContain('script');
  });

  it('recognises errors by i18n key, whatever the language of the message', () => {
    const german = { errorMessage: 'Benutzer können nicht hinzugefügt werden: alle Verzeichnisse sind schreibgeschützt.', i18nErrorMessage: { i18nKey: 'admin.errors.cannot.add.user.all.directories.read.only', parameters: [] } };
    expect(i18nKeyOf(german)).toBe('admin.errors.cannot.add.user.all.directories.read.only');
    expect(isReadOnlyDirectory(400, german)).toBe(true);
    expect(isReadOnlyDirectory(400, { errorMessage: 'read-only', i18nErrorMessage: { i18nKey: 'sd.customer.email.invalid' } })).toBe(false);
    expect(isExperimentalRefusal(400, { errorMessage: 'Dies ist eine experimentelle API.', i18nErrorMessage: { i18nKey: 'sd.api.experimental.header.required' } })).toBe(true);
    expect(isExperimentalRefusal(400, { errorMessage: 'experimental', i18nErrorMessage: { i18nKey: 'sd.customer.email.invalid' } })).toBe(false);
  });
});
