import { ApplicationFailure } from '@temporalio/common';
import type { NotificationSettingsStore } from '../notifications/settings-store.js';
import { renderMail, webhookBody } from '../notifications/templates.js';
import { deliverWebhook, type WebhookDeliveryOptions } from '../notifications/webhook.js';
import {
  SECURITY_EVENTS,
  type NotificationInput,
  type NotificationOutcome,
  type NotificationTiming,
} from '../workflows/backend-service/notification-types.js';

/** What nodemailer's transporter offers; tests and the worker pass a real SMTP transport. */
export interface MailTransport {
  sendMail(message: {
    from: string;
    to: string[];
    subject: string;
    text: string;
    html: string;
    messageId: string;
    headers: Record<string, string>;
  }): Promise<unknown>;
}

export interface NotificationDependencies {
  /** Null: no SMTP_URL in development, nothing is mailed (logged as skipped). */
  transport: MailTransport | null;
  from: string;
  reviewers: string[];
  /** Links in messages point here (`<publicUrl>/portal/services/<id>`, `/admin/services/<id>`). */
  publicUrl: string;
  settings: NotificationSettingsStore;
  webhook: WebhookDeliveryOptions;
  timing: NotificationTiming;
}

export const DEFAULT_NOTIFICATION_TIMING: NotificationTiming = {
  reviewReminderAfterSeconds: 2 * 86_400,
  reviewReminderEverySeconds: 86_400,
  stagedSecretNoticeSeconds: 86_400,
  retryInitialSeconds: 10,
  retryMaxSeconds: 600,
  attemptTimeoutSeconds: 60,
  giveUpAfterSeconds: 86_400,
};

/** Message-IDs are `<key@domain>`; the key's slashes are allowed in a local part (RFC 5322 atext). */
function messageId(input: NotificationInput, publicUrl: string): string {
  const domain = new URL(publicUrl).hostname || 'localhost';
  return `<${input.key}@${domain}>`;
}

function recipients(input: NotificationInput, reviewers: string[]): string[] {
  const all = input.audience === 'reviewers' ? reviewers : [input.contactEmail, input.ownerEmail ?? ''];
  const seen = new Set<string>();
  return all.filter((address) => {
    const key = address.trim().toLowerCase();
    if (!key || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The notification activities (docs/decisions/notifications.md). Each is retried by Temporal while
 * delivery fails; a retried e-mail carries the same Message-ID and a retried webhook the same
 * `webhook-id`, so receivers drop what they already have. Preferences are read at send time.
 */
export function createNotificationActivities(deps: NotificationDependencies | undefined) {
  return {
    async sendNotificationMail(input: NotificationInput): Promise<NotificationOutcome> {
      if (!deps?.transport) return { delivered: false, skipped: 'no SMTP server configured' };
      if (input.audience === 'owner' && !SECURITY_EVENTS.includes(input.event)) {
        const settings = await deps.settings.get(input.serviceId);
        if (settings.email[input.event] === false)
          return { delivered: false, skipped: 'turned off by the owner' };
      }
      const to = recipients(input, deps.reviewers);
      if (to.length === 0) return { delivered: false, skipped: 'no recipient' };
      const mail = renderMail(input, deps.publicUrl);
      await deps.transport.sendMail({
        from: deps.from,
        to,
        ...mail,
        messageId: messageId(input, deps.publicUrl),
        headers: { 'X-Backend-Service-Event': input.event },
      });
      return { delivered: true };
    },

    async deliverNotificationWebhook(input: NotificationInput): Promise<NotificationOutcome> {
      if (!deps) return { delivered: false, skipped: 'notifications not configured' };
      const hook = await deps.settings.webhook(input.serviceId);
      if (!hook) return { delivered: false, skipped: 'no webhook' };
      const result = await deliverWebhook(
        hook.url,
        hook.secret,
        { id: input.key, body: webhookBody(input, deps.publicUrl) },
        deps.webhook,
      );
      // Retried by Temporal with backoff until the notification's window closes (then dropped, on the record).
      if (!result.ok) throw ApplicationFailure.retryable(result.reason, 'WebhookDeliveryFailed');
      return { delivered: true };
    },

    /** A local activity: the worker's configured timing, so tests shorten it and a new run follows a change. */
    async notificationTiming(): Promise<NotificationTiming> {
      // The workflow starts no delivery on a channel that could only skip it.
      return {
        ...(deps?.timing ?? DEFAULT_NOTIFICATION_TIMING),
        channels: { mail: Boolean(deps?.transport), webhook: deps !== undefined },
      };
    },
  };
}
