import type { ServiceStatus } from './service-state.js';

/**
 * Notifications' shapes, shared by the workflow (notifications.ts), the activities that deliver them
 * (activities/notifications.ts) and the API's settings (docs/decisions/notifications.md).
 */

/** What people hear about. Owners may turn off the e-mail of any but the security events. */
export const NOTIFICATION_EVENTS = [
  'submitted',
  'review-reminder',
  'approved',
  'rejected',
  'approval-failed',
  'deactivated',
  'revoked',
  'credentials-failing',
  'credentials-recovered',
  'staged-secret-soon',
  'staged-secret-live',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Always sent, whatever the preferences say: a cut-off or a secret change must never go unnoticed. */
export const SECURITY_EVENTS: readonly NotificationEvent[] = [
  'deactivated',
  'revoked',
  'staged-secret-soon',
  'staged-secret-live',
];

/** reviewers: REVIEWERS_EMAIL. owner: the service's contact and the owner's e-mail, and its webhook. */
export type NotificationAudience = 'reviewers' | 'owner';
export type NotificationChannel = 'mail' | 'webhook';

/** One notification, as the workflow starts it. No secret: names, addresses, status and a reason. */
export interface NotificationInput {
  /** `<serviceId>/<event>/<projectionVersion>[/<reminder>]`: the Message-ID and the `webhook-id`. */
  key: string;
  event: NotificationEvent;
  audience: NotificationAudience;
  serviceId: string;
  serviceName: string;
  contactEmail: string;
  ownerEmail: string | null;
  status: ServiceStatus;
  at: string;
  reason: string | null;
  /** Review reminders: 1, 2, … */
  reminder?: number;
  /** Staged-secret events: when the secret goes live. */
  activateAt?: string;
}

export interface NotificationOutcome {
  delivered: boolean;
  /** Why nothing went out (no webhook, e-mail turned off, no recipient). */
  skipped?: string;
}

/** From the worker's configuration (a local activity), so tests shorten it. */
export interface NotificationTiming {
  reviewReminderAfterSeconds: number;
  reviewReminderEverySeconds: number;
  /** How long before a staged secret goes live its owner is told. */
  stagedSecretNoticeSeconds: number;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  /** One delivery attempt's limit: a worker that died mid-send is noticed after it, and the send retried. */
  attemptTimeoutSeconds: number;
  /** After this long a notification is dropped, on the record. */
  giveUpAfterSeconds: number;
  /**
   * Which channels can deliver anything on this worker: no mail without an SMTP server, nothing
   * without the notification dependencies. Absent in histories recorded before it: both.
   */
  channels?: Record<NotificationChannel, boolean>;
}

export interface PendingNotification {
  channel: NotificationChannel;
  input: NotificationInput;
}

export interface CarriedNotifications {
  ownerEmail: string | null;
  pending: PendingNotification[];
  /** The submission waiting for review: its projection version, reminders sent, the next one's time. */
  reminder: { submittedAt: string; projectionVersion: number; sent: number; nextAt: string | null } | null;
  /** The staged secret whose owner is told before it goes live (nextAt null: staged too late for a notice). */
  stagedNotice: { secretVersion: number; nextAt: string | null; sent: boolean } | null;
}
