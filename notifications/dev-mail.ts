import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Development only: a local SMTP catcher (smtp-server on 127.0.0.1) that `npm start` runs, so
 * notifications can be read without a mail server. Caught mail is appended to a JSON-lines file in
 * DATA_DIR; the API's `GET /dev/mail` lists it to an administrator in development mode.
 */
export interface CaughtMail {
  messageId: string | null;
  from: string | null;
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

export const CAUGHT_MAIL_FILE = 'dev-mail.jsonl';
/** At most this much is kept per message: a catcher, not an archive. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

const addresses = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((a) => a.value.map((v) => v.address ?? ''));

/** Parses one RFC 5322 message into what the list shows. */
export async function parseMail(raw: Buffer, envelopeTo: string[]): Promise<CaughtMail> {
  const parsed = await simpleParser(raw);
  const to = addresses(parsed.to);
  return {
    messageId: parsed.messageId ?? null,
    from: parsed.from?.value[0]?.address ?? null,
    to: to.length > 0 ? to : envelopeTo,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    receivedAt: new Date().toISOString(),
  };
}

export interface MailCatcher {
  port: number;
  close(): Promise<void>;
}

/** An SMTP server on 127.0.0.1 that accepts any mail without authentication and hands it to `onMail`. */
export async function startMailCatcher(options: {
  port: number;
  onMail: (mail: CaughtMail) => void;
}): Promise<MailCatcher> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        parseMail(Buffer.concat(chunks), envelopeTo).then(
          (mail) => {
            options.onMail(mail);
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function appendCaughtMail(file: string, mail: CaughtMail): void {
  appendFileSync(file, JSON.stringify(mail) + '\n', { mode: 0o600 });
}

/** The newest first, at most `limit`. */
export function readCaughtMail(file: string, limit = 100): CaughtMail[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CaughtMail)
    .reverse()
    .slice(0, limit);
}
