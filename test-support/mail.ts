import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 (smtp-server) that keeps every message, raw and parsed, and can
 * be stopped and started again on the same port (an SMTP outage). `onMessage` runs once a message
 * is accepted (after the 250), so a test can kill a worker right after it sent.
 */
export interface CaughtMessage {
  messageId: string;
  event: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface TestSmtp {
  port: number;
  messages: CaughtMessage[];
  onMessage?: (message: CaughtMessage) => void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startTestSmtp(): Promise<TestSmtp> {
  let server: SMTPServer | undefined;
  const smtp: TestSmtp = {
    port: 0,
    messages: [],
    async start() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['AUTH', 'STARTTLS'],
        logger: false,
        onData(stream, _session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const raw = Buffer.concat(chunks);
            void simpleParser(raw).then((parsed) => {
              const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) =>
                a.value.map((v) => v.address ?? ''),
              );
              const message: CaughtMessage = {
                messageId: parsed.messageId ?? '',
                event: String(parsed.headers.get('x-backend-service-event') ?? ''),
                to: to.sort(),
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                html: typeof parsed.html === 'string' ? parsed.html : '',
                raw: raw.toString('utf8'),
              };
              smtp.messages.push(message);
              callback();
              smtp.onMessage?.(message);
            }, callback);
          });
        },
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(smtp.port, '127.0.0.1', () => resolve());
      });
      smtp.port = (server.server.address() as AddressInfo).port;
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
  await smtp.start();
  return smtp;
}

export interface WebhookCall {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that records every POST and answers 204. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  calls: WebhookCall[];
  close(): Promise<void>;
}> {
  const calls: WebhookCall[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      calls.push({
        id: String(request.headers['webhook-id'] ?? ''),
        timestamp: String(request.headers['webhook-timestamp'] ?? ''),
        signature: String(request.headers['webhook-signature'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    // Development mode maps the name localhost to 127.0.0.1 and nothing else (credentials/jwks-fetch.ts).
    url: `http://localhost:${port}/hooks/backend-services`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
