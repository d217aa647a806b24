// Yardstick: a bare nodemailer pool sending the same invitations (same composer, same pool size).
import nodemailer from 'nodemailer';
import { composeInvitation } from '../src/mail/compose.js';
import { messageIdFor } from '../src/mail/message-id.js';
import { builtInTemplates } from '../src/mail/templates.js';

const [url = '', countText = '2000'] = process.argv.slice(2);
const count = Number(countText);
// Read and checked once, as a run of the CLI does.
const templates = builtInTemplates();
const transport = nodemailer.createTransport({ url, pool: true, maxConnections: 5 } as never);
const send = async (i: number): Promise<void> => {
  const email = `bare${i}@example.com`;
  const options = composeInvitation(
    { kind: 'welcome', to: { email, fullName: `Customer ${i}` }, project: { key: 'ITH', name: 'IT Help' }, mustChangePassword: false, messageId: messageIdFor('ITH', email, 'welcome') },
    'help@example.com',
    templates,
  );
  await transport.sendMail(options as never);
};
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < count) await send(next++);
  }),
);
transport.close();
process.stdout.write(`${count}\n`);
