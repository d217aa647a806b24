import { describe, expect, it } from 'vitest';
import { checkOrganizations } from '../../src/core/organizations.js';
import { Secret } from '../../src/core/secret.js';
import { characterCount, emailProblem, passwordProblem, validateRow } from '../../src/core/validate.js';

function check(email: string, fullName = 'Ann Lee') {
  return validateRow({ line: 2, email, fullName });
}
function reason(email: string, fullName = 'Ann Lee'): string {
  const result = check(email, fullName);
  return result.ok ? '' : result.reason;
}

describe('email addresses (RFC 5321/5322 dot-atom local part, LDH domain labels)', () => {
  it.each([
    'bill&ted@example.com',
    'a=b@example.com',
    'x/y@example.com',
    '{x}@example.com',
    "o'brien@example.ie",
    'first.last+tag@sub.example.co.uk',
    '!#$%*?^_`|~-@example.com',
    'ivan@пример.xn--p1ai'.replace('пример', 'xn--e1afmkfd'),
    'a@xn--bcher-kva.example',
    'a@1example.com',
  ])('accepts %s', (email) => {
    expect(emailProblem(email)).toBeUndefined();
    expect(check(email).ok).toBe(true);
  });

  it.each([
    ['a@example-.com', 'starts or ends with "-"'],
    ['a@-example.com', 'starts or ends with "-"'],
    ['a@example', 'has no dot'],
    ['a@exa_mple.com', 'only letters, digits and "-"'],
    ['a..b@example.com', 'dot may not'],
    ['.a@example.com', 'dot may not'],
    ['a b@example.com', 'U+0020'],
    ['a@example..com', 'empty label'],
    ['a@example.123', 'ends in a number'],
    ['no-at.example.com', 'has no @'],
    ['@example.com', 'nothing before the @'],
    [`${'a'.repeat(65)}@example.com`, 'longer than 64'],
  ])('refuses %s', (email, why) => {
    expect(reason(email)).toContain(why);
  });

  it('shows an invisible character in an address as U+XXXX, never raw', () => {
    const why = reason('ann\u200b@example.com');
    expect(why).toBe("'annU+200B@example.com' is not an email address: it contains U+200B (white space, a control or an invisible character); remove it");
    expect(reason('a b@example.com')).toBe("'aU+0020b@example.com' is not an email address: it contains U+0020 (white space, a control or an invisible character); remove it");
  });

  it('an address as mail programs copy it (a name and <address>, mailto:, a ; list): invalid, with the address to give', () => {
    expect(reason('Ann Lee <ann.lee@example.com>')).toBe("'Ann Lee <ann.lee@example.com>' is a name and an address: give the address alone, ann.lee@example.com");
    expect(reason('"Lee, Ann" <ann.lee@example.com>')).toBe('\'"Lee, Ann" <ann.lee@example.com>\' is a name and an address: give the address alone, ann.lee@example.com');
    expect(reason('<ann.lee@example.com>')).toBe("'<ann.lee@example.com>' is an address in <>: give the address alone, ann.lee@example.com");
    expect(reason('mailto:bob@example.com')).toBe("'mailto:bob@example.com' is a mailto: link: give the address alone, bob@example.com");
    expect(reason('carl@example.com;')).toBe("'carl@example.com;' ends with \";\": give the address alone, carl@example.com");
    expect(reason('carl@example.com; dan@example.com')).toBe("'carl@example.com; dan@example.com' holds more than one address: give one customer a row (one address in the email column)");
    // One that is not an address inside stays with the reason it had.
    expect(reason('Ann <not-an-address>')).toContain('U+0020');
  });

  it('refuses quoted local parts and non-ASCII addresses with a reason a person can act on', () => {
    expect(reason('"john doe"@example.com')).toMatch(/quoted local part.*ask the customer for an address without quotes/);
    expect(reason('jürgen@example.de')).toMatch(/non-ASCII characters before the @.*ask the customer for an ASCII address/);
    expect(reason('info@bücher.example')).toContain('write it as info@xn--bcher-kva.example');
  });
});

describe('names', () => {
  it.each([
    ['ZWJ in an emoji family', 'Ana 👩\u200d💻 Ruiz'],
    ['ZWNJ inside a Persian word', 'می\u200cخواهم رضایی'],
    ['a soft hyphen', 'Zu\u00adsammen Müller'],
    ['a right-to-left mark', 'Dana \u200fכהן'],
    ['an emoji flag sequence (tag characters)', 'Iain 🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f} Ross'],
    ['Hangul', '김민준'],
    ['a Mongolian vowel separator', 'ᠬᠠᠷ\u180eᠠ'],
  ])('accepts %s', (_what, name) => {
    expect(check('a@example.com', name).ok).toBe(true);
  });

  it.each([
    ['a right-to-left override', 'Ann\u202Egnp.exe', 'U+202E'],
    ['a first-strong isolate', 'Bob \u2068x\u2069', 'U+2068, U+2069'],
    ['an escape sequence', 'Eve\u001b[2J', 'U+001B'],
    ['a zero-width space', 'Zoe\u200bZ', 'U+200B'],
    ['a DEL', 'Del\u007f', 'U+007F'],
    ['tag characters outside a flag', 'Ann \u{e0041}Lee', 'U+E0041'],
    ['a name of a Hangul filler only', '\u3164', 'U+3164'],
    ['a combining grapheme joiner', 'An\u034fn', 'U+034F'],
  ])('refuses %s and names it as U+XXXX, never raw', (_what, name, shown) => {
    const why = reason('a@example.com', name);
    expect(why).toContain(shown);
    expect(why).not.toMatch(/[\u0000-\u001f\u007f\u200b\u202a-\u202e\u2066-\u2069]/);
  });

  it('says why bidi controls are refused', () => {
    expect(reason('a@example.com', 'Ann\u202Egnp.exe')).toMatch(/display as something else/);
  });

  it('refuses a name holding a MIME encoded word (a mail program could show it decoded, bidi overrides and all)', () => {
    const spoof = `=?utf-8?b?${Buffer.from('Support Team \u202emoc.elpmaxe@troppus').toString('base64')}?=`;
    expect(reason('spoof@example.com', spoof)).toMatch(/holds a MIME encoded word/);
    expect(reason('a@example.com', 'Ann =?ISO-8859-1?Q?Lee?= Jr')).toMatch(/holds a MIME encoded word/);
    expect(reason('a@example.com', 'Ann =? Lee')).toBe('');
  });

  it('refuses a name with U+FFFD (bytes decoded in the wrong character set), whatever its source', () => {
    expect(reason('a@example.com', 'Bad \uFFFD Name')).toBe(
      "the name 'Bad \uFFFD Name' has characters that could not be decoded (shown as \"\uFFFD\"): it was written in another character set than it says; correct it at its source",
    );
  });
});

describe('predefined passwords: only what can be typed at a login', () => {
  const withPassword = (password: string) => {
    const result = validateRow({ line: 2, email: 'ann@example.com', fullName: 'Ann Lee', password: new Secret(password) });
    return result.ok ? 'ok' : result.reason;
  };

  it('refuses line breaks, tabs and control characters, never quoting the password', () => {
    for (const password of ['Line1234\nLine2', 'Tab\tbed-password', 'Old-mac\rpassword', 'Sep\u2028arator-pw', 'Bell\u0007password']) {
      const reason = withPassword(password);
      expect(reason, JSON.stringify(password)).toMatch(/^the password contains a line break, a tab or another control character/);
      expect(reason).not.toContain(password.slice(0, 4));
    }
  });

  it('refuses white space alone the same way at any length', () => {
    for (const password of ['   ', '        ', ' \u00a0 \u3000        ']) {
      expect(withPassword(password), JSON.stringify(password)).toMatch(/^the password is only white space/);
    }
  });

  it('counts characters as typed (grapheme clusters), not UTF-16 units', () => {
    expect(withPassword('🔑🔑🔑🔑')).toMatch(/^the password is shorter than 8 characters/);
    expect(withPassword('👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻👩‍💻')).toMatch(/^the password is shorter than 8 characters/);
    expect(withPassword('🔑🔑🔑🔑🔑🔑🔑🔑')).toBe('ok');
    expect(withPassword('Pässwörd')).toBe('ok');
    expect(passwordProblem('Pa\u0301ssword'.slice(0, 8))).toMatch(/shorter/);
    expect(characterCount('e\u0301')).toBe(1);
  });

  it('refuses a lone surrogate, which no keyboard makes and UTF-8 cannot hold', () => {
    expect(withPassword('password\ud83d')).toMatch(/lone UTF-16 surrogate/);
  });
});

describe('names a lossy export turned into question marks', () => {
  it('refuses them with the way to a good file: customers and organizations', () => {
    for (const name of ['?? ??', '???????', 'Dimitris ????????', 'Jos? Nu?ez', '?', 'Ann ?', '😀 ??']) {
      expect(reason('ann@example.com', name), name).toMatch(/has question marks where letters were: .* save it again as UTF-8/);
    }
    expect(checkOrganizations(['Legal', '???????'])).toEqual({ ok: false, reason: expect.stringMatching(/^the organization name '\?{7}' has question marks where letters were/) });
  });

  it('keeps names whose question mark is their own', () => {
    for (const name of ['Who? Lee', 'Ann Lee (?)', 'Ann Lee']) expect(reason('ann@example.com', name), name).toBe('');
    expect(checkOrganizations(['Who? Ltd'])).toEqual({ ok: true, names: ['Who? Ltd'] });
  });
});
