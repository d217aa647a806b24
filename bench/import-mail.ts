import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { expectCode, measureCli, memoryFigure, scratch, type Figure } from './harness.js';

/*
 * import-mail --dry-run on a large generated mbox, as a user runs it. The mailbox mixes what a
 * support inbox holds: folded RFC 2047 names (UTF-8 and ISO-8859-1), Received chains, `>From `
 * escaped body lines, auto-replies, list mail and bounces, and the same people writing many times.
 */
const FIRST = ['Ana', 'José', 'Renée', 'Łukasz', 'Grace', 'Olivia', 'Taro', 'Chloé', 'Sven', 'Mia'];
const LAST = ['Silva', 'Núñez', 'Dubois', 'Nowak', 'Kim', 'Martin', 'Yamada', 'Lefèvre', 'Ølsen', 'Weber'];

/** A display name as mailers write it: plain, RFC 2047 UTF-8 Q folded over two lines, or ISO-8859-1 Q. */
function fromHeader(i: number, senders: number): string {
  const first = FIRST[i % FIRST.length] ?? '';
  const last = LAST[Math.floor(i / FIRST.length) % LAST.length] ?? '';
  const address = `customer${i}@example${i % 50}.com`;
  const q = (s: string) => Buffer.from(s, 'utf8').toString('hex').replace(/(..)/g, '=$1').toUpperCase();
  if (i % 3 === 0) return `From: =?UTF-8?Q?${q(first)}?=\n =?UTF-8?Q?_${q(last)}?= <${address}>`;
  if (i % 3 === 1 && /^[\x00-\xff]*$/.test(first + last)) {
    const latin = (s: string) => Buffer.from(s, 'latin1').toString('hex').replace(/(..)/g, '=$1').toUpperCase();
    return `From: =?ISO-8859-1?Q?${latin(first)}_${latin(last)}?= <${address}>`;
  }
  return `From: "${last}, ${first}" <${address}>`;
}

function message(n: number, senders: number): string {
  const person = (n * 7919) % senders;
  const kind = n % 97 === 0 ? 'list' : n % 53 === 0 ? 'auto' : n % 211 === 0 ? 'bounce' : 'person';
  const from = kind === 'bounce' ? 'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>' : fromHeader(person, senders);
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

async function generate(file: string, messages: number, senders: number): Promise<void> {
  const out = createWriteStream(file);
  let batch = '';
  for (let n = 0; n < messages; n++) {
    batch += message(n, senders);
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
}


export async function mailBench(messages = 100_000, senders = 20_000): Promise<Figure[]> {
  const { dir, remove } = await scratch('mail-import');
  try {
    const mbox = join(dir, 'support.mbox');
    await generate(mbox, messages, senders);
    expectCode(await measureCli(['project', 'create', 'ITH', '--name', 'IT Help'], dir), [0], 'project create');
    const run = await measureCli(['import-mail', mbox, '--project', 'ITH', '--exclude', 'support@example.com', '--dry-run', '--json'], dir);
    expectCode(run, [0, 1], 'import-mail --dry-run');
    const result = JSON.parse(run.stdout) as { messages?: { read?: number } };
    if (result.messages?.read !== messages) throw new Error(`expected ${messages} messages read, got ${result.messages?.read}`);
    const rate = `${Math.round(messages / run.seconds).toLocaleString('en-US')} messages/s, `;
    return [memoryFigure(`import-mail: ${messages.toLocaleString('en-US')}-message mbox, --dry-run`, run, rate)];
  } finally {
    await remove();
  }
}
