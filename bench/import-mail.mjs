#!/usr/bin/env node
/**
 * import-mail on a large generated mbox, as a user runs it: the built CLI, `--dry-run --json`, into a
 * fresh local store. Prints the mailbox's size, the run's wall-clock seconds and its peak RSS (read in
 * the CLI process itself through a tiny `--import` probe: process.resourceUsage().maxRSS at exit).
 *
 *   npm run build && node bench/import-mail.mjs [--messages 100000] [--senders 20000] [--keep]
 *
 * The mailbox mixes what a support inbox holds: folded RFC 2047 names (UTF-8 and ISO-8859-1),
 * Received chains, `>From ` escaped body lines, auto-replies, list mail and bounces, and the same
 * people writing many times. Target: well under a minute and under 300 MB peak RSS for 100,000 messages.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    senders: { type: 'string', default: '20000' },
    keep: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);
const senders = Number(values.senders);
const bin = fileURLToPath(new URL('../bin/jsm-provision.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jsm-bench-mail-'));

const FIRST = ['Ana', 'José', 'Renée', 'Łukasz', 'Grace', 'Olivia', 'Taro', 'Chloé', 'Sven', 'Mia'];
const LAST = ['Silva', 'Núñez', 'Dubois', 'Nowak', 'Kim', 'Martin', 'Yamada', 'Lefèvre', 'Ølsen', 'Weber'];

/** A display name as mailers write it: plain, RFC 2047 UTF-8 Q folded over two lines, or ISO-8859-1 Q. */
function fromHeader(i) {
  const first = FIRST[i % FIRST.length];
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
  const address = `customer${i}@example${i % 50}.com`;
  const q = (s) => Buffer.from(s, 'utf8').toString('hex').replace(/(..)/g, '=$1').toUpperCase();
  if (i % 3 === 0) return `From: =?UTF-8?Q?${q(first)}?=\n =?UTF-8?Q?_${q(last)}?= <${address}>`;
  if (i % 3 === 1 && /^[\x00-\xff]*$/.test(first + last)) {
    const latin = (s) => Buffer.from(s, 'latin1').toString('hex').replace(/(..)/g, '=$1').toUpperCase();
    return `From: =?ISO-8859-1?Q?${latin(first)}_${latin(last)}?= <${address}>`;
  }
  return `From: "${last}, ${first}" <${address}>`;
}

function message(n) {
  const person = (n * 7919) % senders;
  const kind = n % 97 === 0 ? 'list' : n % 53 === 0 ? 'auto' : n % 211 === 0 ? 'bounce' : 'person';
  const from = kind === 'bounce' ? 'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>' : fromHeader(person);
  const extra = kind === 'list' ? 'List-Id: <ops.lists.example.net>\n' : kind === 'auto' ? 'Auto-Submitted: auto-replied\n' : '';
  const day = 1 + (n % 28);
  return (
    `From customer${person}@example.com Mon Mar ${String(day).padStart(2, ' ')} 09:12:44 2025\n` +
    `Received: from mail${n % 9}.example.com (mail.example.com [192.0.2.${n % 250}])\n\tby mx.example.com with ESMTPS id ${n.toString(36)}; Mon, ${day} Mar 2025 09:12:40 +0000\n` +
    `${from}\nTo: IT Help <support@example.com>\nSubject: Request ${n}\nDate: Mon, ${day} Mar 2025 09:12:40 +0000\n` +
    `Message-ID: <${n}.${person}@example.com>\n${extra}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n` +
    `Hello,\n\nrequest number ${n}: the printer on floor ${n % 7} is jammed again.\n>From what I can see the tray is empty.\n` +
    `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8)}\n\nThanks\n\n`
  );
}

async function generate(file) {
  const out = createWriteStream(file);
  let batch = '';
  for (let n = 0; n < messages; n++) {
    batch += message(n);
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
}

try {
  const mbox = join(dir, 'support.mbox');
  let started = performance.now();
  await generate(mbox);
  const generated = (performance.now() - started) / 1000;
  execFileSync(process.execPath, [bin, 'project', 'create', 'ITH', '--name', 'IT Help'], { cwd: dir, stdio: 'ignore' });

  const probe = join(dir, 'rss-probe.mjs');
  const rssFile = join(dir, 'rss.txt');
  writeFileSync(probe, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
  started = performance.now();
  const child = spawn(process.execPath, ['--import', probe, bin, 'import-mail', mbox, '--project', 'ITH', '--exclude', 'support@example.com', '--dry-run', '--json'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const chunks = [];
  child.stdout.on('data', (d) => chunks.push(d));
  const [code] = await once(child, 'close');
  const seconds = (performance.now() - started) / 1000;
  const result = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024;

  console.log(`import-mail --dry-run of a generated mbox (${messages.toLocaleString('en-US')} messages, ${senders.toLocaleString('en-US')} senders)`);
  console.log(`  mailbox: ${(statSync(mbox).size / 1024 / 1024).toFixed(1)} MB, generated in ${generated.toFixed(1)} s`);
  console.log(`  exit code ${code}; messages read ${result.messages?.read}, skipped ${result.messages?.skipped}; rows ${result.totals?.rows} (to create ${result.totals?.created})`);
  console.log(`  ${seconds.toFixed(1)} s, ${Math.round(messages / seconds).toLocaleString('en-US')} messages/s, peak RSS ${peakMb.toFixed(0)} MB`);
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
