import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { openCsv, parseMapOption } from '../../src/csv/index.js';
import { languageFallbacks, normaliseLanguage } from '../../src/core/language.js';
import { composeInvitation, createOutboxMailer, loadTemplates, messageIdDomainFor, messageIdFor } from '../../src/mail/index.js';
import { BUILT_IN_TEMPLATE_DIR, builtInTemplates, escapeHtml } from '../../src/mail/templates.js';
import { headerValues, parseHeaders } from '../support/smtp-sink.js';
import { useTempDirs } from '../support/tmp.js';
import { FROM, invitation } from './fixtures.js';
import { decodeWords, htmlPart, textPart } from './mime.js';

const tempDir = useTempDirs();
const PORTAL = 'https://help.example.com/servicedesk/customer/portal/3';
const FIXTURES = path.resolve('fixtures/templates');

/** A template folder holding these files. */
async function templateDir(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** The UsageError loadTemplates throws (fails the test when it loads). */
function refusal(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected a UsageError, the templates loaded');
}

const WELCOME = 'Subject: Hi {{name}}, welcome to {{project}}\n\nDear {{name}},\nyour login is {{email}}.\n{{#passwordSet}}Change the password we set.\n{{/passwordSet}}{{^passwordSet}}Choose your own password.\n{{/passwordSet}}-- {{from}}\n';

describe('custom templates', () => {
  it('render subject, text and HTML from the folder, HTML-escaped only in the HTML part, CRLF throughout', async () => {
    const dir = await templateDir({
      'welcome.txt': WELCOME,
      'welcome.html': '<p>Dear {{name}}, <a href="{{portalUrl}}">{{project}}</a></p>\n<p>{{#passwordSet}}set{{/passwordSet}}{{^passwordSet}}unset{{/passwordSet}}</p>\n',
    });
    const templates = loadTemplates({ dir, kinds: ['welcome'] });
    const msg = invitation('ann@example.com', 'Ann <b>& "Co"</b>', { portalUrl: PORTAL, mustChangePassword: true, projectName: 'R&D' });
    const mail = composeInvitation(msg, FROM, templates);
    expect(mail.subject).toBe('Hi Ann <b>& "Co"</b>, welcome to R&D');
    expect(mail.text).toBe('Dear Ann <b>& "Co"</b>,\r\nyour login is ann@example.com.\r\nChange the password we set.\r\n-- Help Desk\r\n');
    expect(mail.html).toBe(
      `<p>Dear Ann &lt;b&gt;&amp; &quot;Co&quot;&lt;/b&gt;, <a href="${PORTAL}">R&amp;D</a></p>\r\n<p>set</p>\r\n`,
    );
    expect(composeInvitation(invitation('bo@example.com', 'Bo'), FROM, templates).text).toContain('Choose your own password.');
  });

  it('are whole pages as written: a layout.html in the folder is not used (only the built-in parts share one)', async () => {
    const dir = await templateDir({ 'welcome.txt': WELCOME, 'welcome.html': '<p>{{name}}</p>\n', 'layout.html': '<html>[[body]]</html>\n' });
    const mail = composeInvitation(invitation('ann@example.com', 'Ann'), FROM, loadTemplates({ dir, kinds: ['welcome'] }));
    expect(mail.html).toBe('<p>Ann</p>\r\n');
  });

  it('send text only when the folder has no HTML template', async () => {
    const templates = loadTemplates({ dir: await templateDir({ 'welcome.txt': WELCOME }), kinds: ['welcome'] });
    const mail = composeInvitation(invitation('ann@example.com', 'Ann'), FROM, templates);
    expect(mail.html).toBeUndefined();
    const eml = (await new MailComposer(mail).compile().build()).toString('binary');
    expect(eml).toMatch(/^Content-Type: text\/plain/m);
    expect(eml).not.toContain('text/html');
  });

  it('choose the language: pt-BR -> pt -> default, de-AT -> de, a language without template -> default (said once per language)', async () => {
    const dir = await templateDir({
      'welcome.txt': 'Subject: Welcome\n\nHello {{name}}\n',
      'welcome.de.txt': 'Subject: Willkommen\n\nHallo {{name}}\n',
      'welcome.de.html': '<p>Hallo {{name}}</p>\n',
      'welcome.pt.txt': 'Subject: Boas-vindas\n\nOlá {{name}}\n',
      'welcome.pt_BR.txt': 'Subject: Bem-vindo ao Brasil\n\nOi {{name}}\n',
    });
    const templates = loadTemplates({ dir, kinds: ['welcome'] });
    const subject = (language?: string) => String(composeInvitation({ ...invitation('a@example.com', 'A'), ...(language ? { language } : {}) }, FROM, templates).subject);
    expect(subject()).toBe('Welcome');
    expect(subject('de')).toBe('Willkommen');
    expect(subject('de-AT')).toBe('Willkommen');
    expect(subject('pt-BR')).toBe('Bem-vindo ao Brasil');
    expect(subject('pt-PT')).toBe('Boas-vindas');
    expect(subject('fr')).toBe('Welcome');
    expect(subject('fr-CA')).toBe('Welcome');
    // the HTML part follows the language of the text part, never another language's HTML
    expect(composeInvitation({ ...invitation('a@example.com', 'A'), language: 'de' }, FROM, templates).html).toBe('<p>Hallo A</p>\r\n');
    expect(composeInvitation({ ...invitation('a@example.com', 'A'), language: 'pt' }, FROM, templates).html).toBeUndefined();
    expect(templates.notes()).toEqual([
      `1 invitation(s) in de-AT used welcome.de.txt: ${dir} has no welcome.de-AT.txt`,
      `1 invitation(s) in pt-PT used welcome.pt.txt: ${dir} has no welcome.pt-PT.txt`,
      `1 invitation(s) in fr used welcome.txt: ${dir} has no welcome.fr.txt`,
      `1 invitation(s) in fr-CA used welcome.txt: ${dir} has no welcome.fr-CA.txt`,
    ]);
  });

  it('--language is the default for messages that name none; a row\'s language wins', async () => {
    const dir = await templateDir({ 'welcome.txt': 'Subject: Welcome\n\nx\n', 'welcome.de.txt': 'Subject: Willkommen\n\nx\n', 'welcome.fr.txt': 'Subject: Bienvenue\n\nx\n' });
    const templates = loadTemplates({ dir, kinds: ['welcome'], language: 'DE' });
    expect(templates.defaultLanguage).toBe('de');
    expect(composeInvitation(invitation('a@example.com', 'A'), FROM, templates).subject).toBe('Willkommen');
    expect(composeInvitation({ ...invitation('a@example.com', 'A'), language: 'fr' }, FROM, templates).subject).toBe('Bienvenue');
  });

  it('the shipped example folder (fixtures/templates) loads for both kinds and renders German and Portuguese', () => {
    const templates = loadTemplates({ dir: FIXTURES, kinds: ['welcome', 'verify'] });
    expect(templates.languages('welcome')).toEqual(['de', 'pt']);
    const de = composeInvitation({ ...invitation('a@example.com', 'Anna', { portalUrl: PORTAL }), language: 'de-CH' }, FROM, templates);
    expect(de.subject).toBe('Ihr Support-Konto für IT Help ist bereit');
    expect(de.text).toContain(`Ihr Portal: ${PORTAL}\r\n`);
    const br = composeInvitation({ ...invitation('a@example.com', 'Ana'), language: 'pt-BR' }, FROM, templates);
    expect(br.subject).toBe('Sua conta de suporte IT Help está pronta');
  });
});

describe('templates are checked when the folder is opened', () => {
  it('an unknown field is refused with the file, the line and a suggestion', async () => {
    const dir = await templateDir({ 'welcome.txt': 'Subject: Welcome\n\nHello,\n\nDear {{nmae}},\n' });
    const error = refusal(() => loadTemplates({ dir, kinds: ['welcome'] }));
    expect(error.code).toBe('bad-template');
    expect(error.message).toBe(`the template ${path.join(dir, 'welcome.txt')} line 5: {{nmae}} is not a field the tool knows`);
    expect(error.hint).toMatch(/^did you mean \{\{name\}\}\? the fields are name, email, project, portalUrl, from/);
  });

  it('unknown fields inside sections, in the subject, in HTML and in another language\'s file are found too; a password never is a field', async () => {
    const cases: [Record<string, string>, string, number, string][] = [
      [{ 'welcome.txt': 'Subject: Welcome\n\n{{#passwordSet}}\nYour password: {{password}}\n{{/passwordSet}}\n' }, 'welcome.txt', 4, 'password'],
      [{ 'welcome.txt': 'Subject: Welcome {{customer}}\n\nx\n' }, 'welcome.txt', 1, 'customer'],
      [{ 'welcome.txt': 'Subject: Welcome\n\nx\n', 'welcome.html': '<p>\n{{name.first}}</p>\n' }, 'welcome.html', 2, 'name.first'],
      [{ 'welcome.txt': 'Subject: Welcome\n\nx\n', 'welcome.de.txt': 'Subject: Willkommen\n\n\n{{#vip}}x{{/vip}}\n' }, 'welcome.de.txt', 4, 'vip'],
    ];
    for (const [files, file, line, field] of cases) {
      const dir = await templateDir(files);
      expect(refusal(() => loadTemplates({ dir, kinds: ['welcome'] })).message).toBe(
        `the template ${path.join(dir, file)} line ${line}: {{${field}}} is not a field the tool knows`,
      );
    }
  });

  it('a template without a subject line, or without the blank line after it, or with an empty body', async () => {
    const cases: [string, string][] = [
      ['Hello {{name}}\n\nbody\n', 'line 1: the first line is not a subject line'],
      ['Subject:   \n\nbody\n', 'line 1: the subject is empty'],
      ['Subject: Welcome\nBcc: someone@evil.test\n\nbody\n', 'line 2: it must be blank'],
      ['Subject: Welcome\n\n\n', 'line 3: the body is empty'],
    ];
    for (const [text, why] of cases) {
      const dir = await templateDir({ 'welcome.txt': text });
      const error = refusal(() => loadTemplates({ dir, kinds: ['welcome'] }));
      expect(error.message).toContain(`${path.join(dir, 'welcome.txt')} ${why}`);
    }
  });

  it('refuses {{{field}}} and {{&field}} in HTML (the value would not be escaped), and an unquoted attribute value; accepts {{{field}}} in text', async () => {
    for (const html of ['<p>{{{name}}}</p>', '<p>\n{{&name}}</p>', '<a href={{portalUrl}}>x</a>']) {
      const dir = await templateDir({ 'welcome.txt': 'Subject: S\n\nx\n', 'welcome.html': html });
      const error = refusal(() => loadTemplates({ dir, kinds: ['welcome'] }));
      expect(error.message).toMatch(new RegExp(`^the template ${path.join(dir, 'welcome.html').replace(/[.\\/]/g, '\\$&')} line \\d: \\{\\{`));
      expect(error.message).toMatch(/without escaping|without quotes/);
    }
    const dir = await templateDir({ 'welcome.txt': 'Subject: S\n\nHello {{{name}}}\n' });
    expect(composeInvitation(invitation('a@example.com', 'A & B'), FROM, loadTemplates({ dir, kinds: ['welcome'] })).text).toBe('Hello A & B\r\n');
  });

  it('refuses broken Mustache, partials, control characters and stray HTML templates, naming the line', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'welcome.txt': 'Subject: S\n\nline 3\n{{#passwordSet}}never closed\n' }, /welcome\.txt line \d: it is not valid Mustache: Unclosed section "passwordSet"/],
      [{ 'welcome.txt': 'Subject: S\n\n{{> footer}}\n' }, /welcome\.txt line 3: \{\{> footer\}\} includes another template/],
      [{ 'welcome.txt': 'Subject: S\n\nx\n\u001b[2Jy\n' }, /welcome\.txt line 4: it contains the control character U\+001B/],
      [{ 'welcome.txt': 'Subject: S\n\nx\n', 'welcome.de.html': '<p>x</p>' }, /welcome\.de\.html: there is no welcome\.de\.txt beside it/],
      [{ 'welcome.txt': 'Subject: S\n\nx\n', 'welcome.deutsch!.txt': 'Subject: S\n\nx\n' }, /welcome\.deutsch!\.txt: "deutsch!" in its name is not a language code/],
      [{ 'welcome.txt': 'Subject: S\n\nx\n', 'welcome.pt-BR.txt': 'Subject: S\n\nx\n', 'welcome.pt_br.txt': 'Subject: S\n\nx\n' }, /is the same template as welcome\.pt-BR\.txt/],
    ];
    for (const [files, message] of cases) {
      const dir = await templateDir(files);
      expect(refusal(() => loadTemplates({ dir, kinds: ['welcome'] })).message).toMatch(message);
    }
  });

  it('a missing folder, or a folder without the template a command needs', async () => {
    const missing = path.join(await tempDir(), 'nope');
    const gone = refusal(() => loadTemplates({ dir: missing, kinds: ['welcome'] }));
    expect([gone.code, gone.message]).toEqual(['missing-template-dir', `the template folder ${missing} does not exist`]);
    const dir = await templateDir({ 'welcome.txt': 'Subject: S\n\nx\n' });
    const verify = refusal(() => loadTemplates({ dir, kinds: ['verify'] }));
    expect(verify.code).toBe('missing-template');
    expect(verify.message).toBe(`the template folder ${dir} has no verify.txt, which import-mail's verification messages need`);
    expect(loadTemplates({ dir, kinds: ['welcome'] }).has('verify')).toBe(false);
  });
});

describe('language codes', () => {
  it('are written one way, and nothing that could leave the folder passes', () => {
    expect(['de', 'DE', 'pt_br', 'pt-BR', 'zh-hant-tw', 'es-419', ' fr ']).toSatisfy((codes: string[]) => codes.every((c) => normaliseLanguage(c)));
    expect(normaliseLanguage('pt_br')).toBe('pt-BR');
    expect(normaliseLanguage('zh-hant-tw')).toBe('zh-Hant-TW');
    expect(normaliseLanguage('es-419')).toBe('es-419');
    for (const bad of ['../de', 'de/../../etc', 'de.txt', '..', '', 'Deutsch', 'de DE', 'de-', 'x', 'de\u0000']) expect(normaliseLanguage(bad)).toBeUndefined();
    expect(languageFallbacks('zh-Hant-TW')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh']);
  });

  it('a CSV carries the language cell on its row, from a language, lang or locale column, or --map language=', async () => {
    const read = async (csv: string, map: string[] = []) => {
      const reader = await openCsv(Readable.from([Buffer.from(csv)]), { map: parseMapOption(map) });
      const rows = [];
      for await (const r of reader.records) rows.push(r.language);
      return rows;
    };
    expect(await read('email,name,Language\na@x.example,A, pt_BR \nb@x.example,B,\n')).toEqual(['pt_BR', undefined]);
    expect(await read('email,name,LANG\na@x.example,A,de\n')).toEqual(['de']);
    expect(await read('email,name,Locale\na@x.example,A,fr-CA\n')).toEqual(['fr-CA']);
    expect(await read('email,name,Sprache\na@x.example,A,de\n', ['language=Sprache'])).toEqual(['de']);
    expect(await read('email,name\na@x.example,A\n')).toEqual([undefined]);
  });

  it('--language with a path in it is refused before any file is looked at', () => {
    const error = refusal(() => loadTemplates({ kinds: ['welcome'], language: '../../etc/passwd' }));
    expect(error.code).toBe('bad-language');
  });
});

describe('the built-in templates', () => {
  it('are the default, ship English, German, French, Spanish and Portuguese for both kinds, and render each case without a password', async () => {
    const templates = builtInTemplates();
    expect(templates.dir).toBe(BUILT_IN_TEMPLATE_DIR);
    expect(templates.languages('welcome')).toEqual(['de', 'es', 'fr', 'pt']);
    expect(templates.languages('verify')).toEqual(['de', 'es', 'fr', 'pt']);
    // Beside the templates: cloud/ (Cloud's) and layout.html (the page every built-in HTML part is put into).
    const names = (await readdir(BUILT_IN_TEMPLATE_DIR)).filter((n) => n !== 'cloud' && n !== 'layout.html');
    expect(names).toHaveLength(20);
    for (const language of [undefined, 'de', 'es', 'fr', 'pt']) {
      for (const kind of ['welcome', 'verify'] as const) {
        for (const mustChangePassword of [false, true]) {
          for (const portalUrl of [undefined, PORTAL]) {
            const msg = {
              ...invitation('jane@example.com', 'Jane Doe', { kind, mustChangePassword, ...(portalUrl ? { portalUrl } : {}) }),
              ...(language ? { language } : {}),
              password: 'S3cret-Pa55',
            };
            const mail = composeInvitation(msg, FROM, templates);
            const all = `${String(mail.subject)}\n${String(mail.text)}\n${String(mail.html)}`;
            expect(all).not.toMatch(/\{\{|\}\}|S3cret/);
            expect(all).toContain('IT Help');
            expect(String(mail.text)).toContain('Jane Doe');
            expect(String(mail.text).includes(PORTAL)).toBe(portalUrl !== undefined);
            expect(String(mail.html).includes(`href="${PORTAL}"`)).toBe(portalUrl !== undefined);
            expect(String(mail.text)).not.toMatch(/(?<!\r)\n/);
          }
        }
      }
    }
    expect(templates.notes()).toEqual([]);
  });
});

describe('the built-in HTML parts', () => {
  it('are each a whole page in its language, the subject as its title and heading (templates/layout.html around the part)', () => {
    for (const set of [builtInTemplates(), loadTemplates({ kinds: ['welcome', 'verify'], builtIn: 'cloud' })]) {
      for (const language of [undefined, 'de', 'pt']) {
        const mail = composeInvitation({ ...invitation('ann@example.com', 'Ann', { projectName: 'R&D' }), ...(language ? { language } : {}) }, FROM, set);
        const html = String(mail.html);
        expect(html.startsWith(`<!doctype html>\r\n<html lang="${language ?? 'en'}">\r\n`)).toBe(true);
        expect(html).toContain(`<title>${escapeHtml(String(mail.subject))}</title>`);
        expect(html).toContain(`>${escapeHtml(String(mail.subject))}</h1>\r\n<p style="margin:0 0 16px;">`);
        expect(html.endsWith('</td></tr>\r\n</table>\r\n</td></tr>\r\n</table>\r\n</body>\r\n</html>\r\n')).toBe(true);
        expect(html).not.toContain('[[');
      }
    }
  });
});

describe("JSM Cloud's built-in templates", () => {
  it('ship every language of the default ones; no password line in any case; the portal link; how to set a password there', async () => {
    const templates = loadTemplates({ kinds: ['welcome', 'verify'], builtIn: 'cloud' });
    expect(templates.dir).toBe(path.join(BUILT_IN_TEMPLATE_DIR, 'cloud'));
    expect(await readdir(templates.dir)).toEqual((await readdir(BUILT_IN_TEMPLATE_DIR)).filter((n) => n !== 'cloud' && n !== 'layout.html'));
    expect(templates.languages('welcome')).toEqual(['de', 'es', 'fr', 'pt']);
    expect(templates.languages('verify')).toEqual(['de', 'es', 'fr', 'pt']);
    // How each language tells the customer to set a password on the portal.
    const howTo: Record<string, RegExp> = { en: /Forgot your password\?/, de: /Passwort vergessen\?/, es: /¿Olvidó su contraseña\?/, fr: /Mot de passe oublié/, pt: /Esqueceu a senha\?/ };
    for (const language of ['en', 'de', 'es', 'fr', 'pt']) {
      for (const kind of ['welcome', 'verify'] as const) {
        // Even a record that says a password was set renders no password line: Cloud never has one.
        for (const mustChangePassword of [false, true]) {
          const msg = { ...invitation('jane@example.com', 'Jane Doe', { kind, mustChangePassword, portalUrl: PORTAL }), language, password: 'S3cret-Pa55' };
          const mail = composeInvitation(msg, FROM, templates);
          const all = `${String(mail.subject)}\n${String(mail.text)}\n${String(mail.html)}`;
          expect(all).not.toMatch(/\{\{|\}\}|S3cret|administrator has set|Administrator hat|administrador|administrateur/i);
          expect(String(mail.text)).toContain(PORTAL);
          expect(String(mail.html)).toContain(`href="${PORTAL}"`);
          expect(String(mail.text)).toMatch(howTo[language] as RegExp);
        }
      }
    }
    expect(templates.notes()).toEqual([]);
  });
});

describe('hostile names and values', () => {
  it('a name with CRLF + "Bcc:" and a project name with line breaks stay on the one Subject line; one recipient, no Bcc', async () => {
    const dir = await templateDir({ 'welcome.txt': 'Subject: {{name}} / {{project}} / {{email}}\n\nHello {{name}}\n', 'welcome.html': '<title>{{name}}</title>' });
    const templates = loadTemplates({ dir, kinds: ['welcome'] });
    const hostile = 'Eve\r\nBcc: victim@evil.test\r\n\r\nInjected body';
    const msg = invitation('eve@example.com', hostile, { projectName: 'IT\nX-Evil: 1\u2028Help\u0085Desk\u000b!' });
    const mail = composeInvitation(msg, FROM, templates);
    expect(mail.subject).toBe('Eve Bcc: victim@evil.test Injected body / IT X-Evil: 1 Help Desk ! / eve@example.com');
    expect(mail.envelope).toEqual({ from: 'help@example.com', to: ['eve@example.com'] });
    const eml = (await new MailComposer(mail).compile().build()).toString('binary');
    const headers = parseHeaders(eml);
    expect(headerValues({ headers }, 'Bcc')).toEqual([]);
    expect(headerValues({ headers }, 'X-Evil')).toEqual([]);
    expect(headerValues({ headers }, 'To')).toHaveLength(1);
    expect(headers.map((h) => h.name.toLowerCase()).filter((n) => n === 'subject')).toHaveLength(1);
    expect(decodeWords(headerValues({ headers }, 'Subject')[0]!)).toBe(mail.subject);
    expect(eml).not.toMatch(/(?<!\r)\n/);
    expect(htmlPart(eml)).toBe('<title>Eve Bcc: victim@evil.test Injected body</title>');
  });

  it('a name holding HTML and Mustache is escaped in HTML and never rendered as a template', async () => {
    const templates = builtInTemplates();
    const msg = invitation('mal@example.com', '<img src=x onerror=alert(1)> {{project}} {{#passwordSet}}', { portalUrl: PORTAL });
    const mail = composeInvitation(msg, FROM, templates);
    expect(String(mail.html)).toContain('Hello &lt;img src=x onerror=alert(1)&gt; {{project}} {{#passwordSet}},');
    expect(String(mail.html)).not.toContain('<img');
    expect(String(mail.text)).toContain('Hello <img src=x onerror=alert(1)> {{project}} {{#passwordSet}},');
  });
});

describe('Message-ID and the outbox', () => {
  it('the Message-ID domain is the sender\'s (in ASCII), the .invalid default without one; the same every time', () => {
    expect(messageIdDomainFor('Help Desk <help@Support.Example.COM>')).toBe('support.example.com');
    expect(messageIdDomainFor('help@bücher.example')).toBe('xn--bcher-kva.example');
    expect(messageIdDomainFor(undefined)).toBe('jsm-provision.invalid');
    expect(messageIdDomainFor('help@localhost')).toBe('localhost');
    const id = messageIdFor('ITH', 'jane@example.com', 'welcome', messageIdDomainFor('help@example.com'));
    expect(id).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect(messageIdFor('ITH', 'jane@example.com', 'welcome', messageIdDomainFor('Other Name <HELP@example.com>'))).toBe(id);
  });

  it('an outbox .eml is CRLF throughout, with the custom template, and the text and HTML parts as rendered', async () => {
    const dir = await templateDir({ 'welcome.txt': WELCOME, 'welcome.html': '<p>\n{{name}}\n</p>\n' });
    const outbox = path.join(await tempDir(), 'outbox');
    await mkdir(outbox);
    const mailer = createOutboxMailer({ dir: outbox, from: FROM, templates: loadTemplates({ dir, kinds: ['welcome'] }) });
    await mailer.send(invitation('jane@example.com', 'Jäne Doe', { portalUrl: PORTAL }));
    await mailer.close();
    const [file] = await readdir(outbox);
    const raw = (await readFile(path.join(outbox, file!))).toString('binary');
    expect(raw).not.toMatch(/(?<!\r)\n/);
    expect(raw).not.toMatch(/\r(?!\n)/);
    expect(textPart(raw)).toBe('Dear Jäne Doe,\r\nyour login is jane@example.com.\r\nChoose your own password.\r\n-- Help Desk\r\n');
    expect(htmlPart(raw)).toBe('<p>\r\nJäne Doe\r\n</p>\r\n');
  });
});

/** The words an HTML part shows: tags out, entities decoded, white space folded. */
function shownText(html: string): string {
  const at = html.indexOf('<body');
  return (at < 0 ? html : html.slice(at))
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('the built-in HTML invitations', () => {
  it('say what the text part says, in every language and case, with the subject as heading and a button that opens the portal', () => {
    const templates = builtInTemplates();
    for (const language of [undefined, 'de', 'es', 'fr', 'pt']) {
      for (const kind of ['welcome', 'verify'] as const) {
        for (const mustChangePassword of [false, true]) {
          for (const portalUrl of [undefined, PORTAL]) {
            const msg = { ...invitation('jane@example.com', 'Jane Doe', { kind, mustChangePassword, ...(portalUrl ? { portalUrl } : {}) }), ...(language ? { language } : {}) };
            const mail = composeInvitation(msg, FROM, templates);
            const html = String(mail.html);
            const shown = shownText(html);
            const lines = String(mail.text).split('\r\n').map((line) => line.trim()).filter((line) => line !== '');
            const where = `${kind} ${language ?? 'en'} ${portalUrl ? 'with' : 'without'} portal, password ${mustChangePassword}`;
            // Every line of the text part is in the HTML; the line that introduces the link is the button's label.
            for (const line of lines) expect(shown, `${where}: ${line}`).toContain(line.replace(/\s*:$/, ''));
            expect(html, where).toContain(`<h1 style=`);
            expect(shownText(html.slice(html.indexOf('<h1'), html.indexOf('</h1>') + 5)).trim(), where).toBe(String(mail.subject));
            expect(html, where).toMatch(new RegExp(`<html lang="${language ?? 'en'}">`));
            expect(html, where).not.toMatch(/<img|<script|url\(/i);
            const buttons = html.match(/<td align="center" bgcolor="#0052cc"[^>]*>\s*<a [^>]*href="([^"]+)"[^>]*>([^<]+)<\/a>/g) ?? [];
            expect(buttons.length, where).toBe(portalUrl ? 1 : 0);
            if (portalUrl) expect(buttons[0], where).toContain(`href="${PORTAL}"`);
            // Every layout table is marked presentational for screen readers.
            expect((html.match(/<table /g) ?? []).length, where).toBe((html.match(/<table role="presentation"/g) ?? []).length);
          }
        }
      }
    }
  });

  it('no verification message promises a link that confirms the address, in any language', () => {
    const texts = ['', '.de', '.es', '.fr', '.pt'].map((suffix) => path.join(BUILT_IN_TEMPLATE_DIR, `verify${suffix}.txt`));
    return Promise.all(texts.map(async (file) => expect(await readFile(file, 'utf8'), file).not.toMatch(/this link to confirm|diesen Link, um Ihre Adresse|este enlace para confirmar|ce lien pour confirmer|este link para confirmar/)));
  });
});

describe('English rows and the built-in templates', () => {
  it('en and en-GB are served by the English welcome.txt and verify.txt without a note; other languages still get theirs', () => {
    const templates = builtInTemplates();
    for (const language of ['en', 'en-GB', 'en-US']) {
      for (const kind of ['welcome', 'verify'] as const) {
        const mail = composeInvitation({ ...invitation('a@example.com', 'A', { kind }), language }, FROM, templates);
        expect(String(mail.subject)).toMatch(/^(Welcome to|Verify your email for) IT Help$/);
      }
    }
    composeInvitation({ ...invitation('a@example.com', 'A'), language: 'nl' }, FROM, templates);
    expect(templates.notes()).toEqual(['1 invitation(s) in nl used welcome.txt: the built-in templates have no welcome.nl.txt']);
  });
});
