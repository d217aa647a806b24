import type { InvitationKind, InvitationMessage } from '../../src/core/types.js';
import { messageIdFor } from '../../src/mail/index.js';

export const FROM = 'Help Desk <help@example.com>';

/** An invitation for `email` in project ITH ("IT Help"), with its deterministic Message-ID. */
export function invitation(
  email: string,
  fullName: string,
  opts: { kind?: InvitationKind; portalUrl?: string; mustChangePassword?: boolean; projectName?: string } = {},
): InvitationMessage {
  const kind = opts.kind ?? 'welcome';
  return {
    kind,
    to: { email, fullName },
    project: {
      key: 'ITH',
      name: opts.projectName ?? 'IT Help',
      ...(opts.portalUrl !== undefined ? { portalUrl: opts.portalUrl } : {}),
    },
    mustChangePassword: opts.mustChangePassword ?? false,
    messageId: messageIdFor('ITH', email.toLowerCase(), kind),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `fn` and returns what it rejected with; fails the test when it resolves. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got a result');
}
