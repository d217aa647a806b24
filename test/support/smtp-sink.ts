/**
 * A real SMTP server on 127.0.0.1 (smtp-server) that records what arrives, with faults to inject.
 * No TLS, no STARTTLS; AUTH only when `auth` is given (then allowed in clear text, loopback only).
 */
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface Faults {
  /** Answer 553 to MAIL FROM, 550 to RCPT TO, or 550 to the end of the message data. */
  refuse: 'mail' | 'rcpt' | 'data' | null;
  /** Read the whole message, then destroy the socket instead of answering 250. */
  dropAfterData: boolean;
  /** Wait this long before answering the end of the message data. */
  acceptDelayMs: number;
  /** Cut the connection instead of answering the next N MAIL FROM commands (nothing of a message sent yet). */
  dropOnMailFrom: number;
}

export interface HeaderField {
  name: string;
  value: string;
}

export interface ReceivedMessage {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO addresses). */
  rcptTo: string[];
  /** The message exactly as received (dot-unstuffed), as a binary string. */
  raw: string;
  /** Header fields of the top-level header block, unfolded, in order (duplicates kept). */
  headers: HeaderField[];
  /** What the sink answered to the end of data. */
  outcome: 'accepted' | 'refused' | 'dropped';
  /** When the data ended (Date.now()), for rates in benchmarks. */
  at: number;
}

export interface SmtpSink {
  url: string;
  port: number;
  /** Every message whose data arrived in full, whatever the sink answered. */
  messages: ReceivedMessage[];
  /** Messages answered with 250. */
  accepted(): ReceivedMessage[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Calls `listener` after each message is recorded (whatever the sink answered); returns how to stop. */
  onMessage(listener: () => void): () => void;
  /** Resolves once `n` messages were accepted (at once when they were). */
  whenAccepted(n: number): Promise<void>;
  /** Resolves once no connection is open (at once when none is): a closed client can send nothing more. */
  quiet(): Promise<void>;
  /** Every MAIL FROM received (accepted or not), with the name the client gave in EHLO/HELO. */
  mailFrom: { address: string; helo: string }[];
  setFaults(f: Partial<Faults>): void;
  close(): Promise<void>;
}

/** Splits the header block (up to the first empty line) into unfolded fields. */
export function parseHeaders(raw: string): HeaderField[] {
  const end = raw.search(/\r?\n\r?\n/);
  const block = end < 0 ? raw : raw.slice(0, end);
  const fields: HeaderField[] = [];
  for (const line of block.split(/\r?\n/)) {
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line) && last) {
      last.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0) fields.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

/** All values of one header field, matched without regard to case. */
export function headerValues(message: Pick<ReceivedMessage, 'headers'>, name: string): string[] {
  return message.headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value);
}

function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startSmtpSink(
  opts: { faults?: Partial<Faults>; auth?: { user: string; pass: string } } = {},
): Promise<SmtpSink> {
  const faults: Faults = { refuse: null, dropAfterData: false, acceptDelayMs: 0, dropOnMailFrom: 0, ...opts.faults };
  const messages: ReceivedMessage[] = [];
  const mailFrom: { address: string; helo: string }[] = [];
  const sockets = new Map<number, Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let connectionCount = 0;

  const server = new SMTPServer({
    authOptional: !opts.auth,
    allowInsecureAuth: !!opts.auth,
    disabledCommands: ['STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    closeTimeout: 200,
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(smtpError(535, 'Authentication credentials invalid'));
      }
    },
    onMailFrom(address, session, callback) {
      mailFrom.push({ address: address.address, helo: session.hostNameAppearsAs });
      if (faults.refuse === 'mail') return callback(smtpError(553, 'Sender address rejected: not owned by user'));
      if (faults.dropOnMailFrom > 0) {
        faults.dropOnMailFrom--;
        sockets.get(session.remotePort)?.destroy();
        return;
      }
      callback();
    },
    onRcptTo(_address, _session, callback) {
      callback(faults.refuse === 'rcpt' ? smtpError(550, 'No such user here') : null);
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('binary');
        const record = (outcome: ReceivedMessage['outcome']) => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            raw,
            headers: parseHeaders(raw),
            outcome,
            at: Date.now(),
          });
          if (outcome === 'accepted') notifyAccepted();
          for (const listener of [...listeners]) listener();
        };
        const answer = () => {
          if (faults.dropAfterData) {
            record('dropped');
            sockets.get(session.remotePort)?.destroy();
          } else if (faults.refuse === 'data') {
            record('refused');
            callback(smtpError(550, 'Message refused'));
          } else {
            record('accepted');
            callback(null, 'Message queued');
          }
        };
        if (faults.acceptDelayMs > 0) {
          const timer = setTimeout(() => {
            timers.delete(timer);
            answer();
          }, faults.acceptDelayMs);
          timers.add(timer);
        } else {
          answer();
        }
      });
    },
  });

  /** Who is told of each message (onMessage()). */
  const listeners = new Set<() => void>();
  /** Who waits for a number of accepted messages (whenAccepted()). */
  const acceptedWaiters: { n: number; resolve: () => void }[] = [];
  const acceptedCount = (): number => messages.filter((m) => m.outcome === 'accepted').length;
  const notifyAccepted = (): void => {
    const count = acceptedCount();
    for (const w of acceptedWaiters.splice(0)) {
      if (count >= w.n) w.resolve();
      else acceptedWaiters.push(w);
    }
  };
  /** Who waits for every connection to be closed (quiet()). */
  const quietWaiters: (() => void)[] = [];
  // The raw sockets, to cut a connection on purpose and to leave nothing open at close().
  server.server.on('connection', (socket: Socket) => {
    connectionCount++;
    const port = socket.remotePort;
    if (port === undefined) return;
    sockets.set(port, socket);
    socket.once('close', () => {
      sockets.delete(port);
      if (sockets.size === 0) for (const resolve of quietWaiters.splice(0)) resolve();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Errors after start (a client that vanished) are expected in fault tests.
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    mailFrom,
    accepted: () => messages.filter((m) => m.outcome === 'accepted'),
    connections: () => connectionCount,
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenAccepted: (n) => (acceptedCount() >= n ? Promise.resolve() : new Promise<void>((resolve) => acceptedWaiters.push({ n, resolve }))),
    quiet: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => quietWaiters.push(resolve))),
    setFaults(f) {
      Object.assign(faults, f);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets.values()) socket.destroy();
      await closed;
    },
  };
}
