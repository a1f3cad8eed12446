import nodemailer from 'nodemailer';
import type { MailTransport } from '../activities/notifications.js';

/**
 * The SMTP transport (nodemailer, https://nodemailer.com/smtp/). `smtps://` speaks TLS from the
 * first byte; `smtp://` upgrades with STARTTLS, which production requires (`requireTLS`), so a
 * server or a man in the middle that does not offer it gets no mail in clear text. Development may
 * talk plain SMTP to its loopback catcher. Short timeouts: a failed attempt is retried by Temporal.
 */
export function smtpTransport(url: string, mode: 'development' | 'production'): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    requireTLS: mode === 'production',
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // Never log message bodies or the SMTP conversation (it would carry the credentials' exchange).
    logger: false,
    debug: false,
  });
  return { sendMail: (message) => transporter.sendMail(message) };
}
