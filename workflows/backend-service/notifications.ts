import {
  ActivityFailure,
  CancellationScope,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import { patched } from './patches.js';
import type { BackendServiceActivities } from '../../activities/backend-service-contract.js';
import { cutOff } from './rules.js';
import type { HistoryEntry, ServiceState } from './service-state.js';
import type {
  CarriedNotifications,
  NotificationAudience,
  NotificationChannel,
  NotificationEvent,
  NotificationInput,
  NotificationTiming,
  PendingNotification,
} from './notification-types.js';

/**
 * People hear about what concerns them (docs/decisions/notifications.md). Notifications are
 * activities the service's workflow starts after a transition's projection, outside the job queue:
 * a job never awaits them, so a slow or failing SMTP server or webhook never delays a state change.
 * They run in non-cancellable scopes (a deactivation's cancel of the running job leaves them be),
 * pending ones are carried across continue-as-new and started again by key, and the workflow waits
 * for them only before it completes. Review reminders and the staged-secret notice are durable
 * timers in the main loop's wait, like the staged secret and credential health.
 *
 * Behind the patch NOTIFICATIONS: histories recorded before it start nothing and schedule nothing.
 */
export const NOTIFICATIONS = 'notifications';

/**
 * A channel the worker reports it cannot deliver on (no SMTP server; no notification dependencies)
 * starts no activity, and review reminders and staged-secret notices with nowhere to go start no
 * timer. Histories recorded before it have no `channels` in their timing marker and replay as before.
 */
export const NOTIFICATION_CHANNELS = 'notification-channels';

/**
 * Whether the worker said `channel` delivers nothing. `patchedNow` is patched(NOTIFICATION_CHANNELS)
 * asked synchronously where the decision starts: never after an await, where its marker's place
 * among other commands could depend on how concurrent continuations interleave.
 */
const channelOff = (t: NotificationTiming, channel: NotificationChannel, patchedNow: boolean) =>
  patchedNow && t.channels?.[channel] === false;

const { notificationTiming } = proxyLocalActivities<BackendServiceActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

interface EventRule {
  event: NotificationEvent;
  audience: NotificationAudience;
  /** Whether the history entry's reason goes into the message (a reviewer's or owner's words). */
  withReason?: boolean;
}

/**
 * Which transitions notify whom, by the history action that records them. A new event is a row
 * here (and its name in NOTIFICATION_EVENTS and a wording in notifications/templates.ts).
 */
export const NOTIFYING_ACTIONS: Partial<Record<HistoryEntry['action'], EventRule>> = {
  submit: { event: 'submitted', audience: 'reviewers' },
  'approval-completed': { event: 'approved', audience: 'owner' },
  'approval-failed': { event: 'approval-failed', audience: 'reviewers', withReason: true },
  reject: { event: 'rejected', audience: 'owner', withReason: true },
  deactivate: { event: 'deactivated', audience: 'owner', withReason: true },
  revoke: { event: 'revoked', audience: 'owner', withReason: true },
  'credentials-failing': { event: 'credentials-failing', audience: 'owner' },
  'credentials-recovered': { event: 'credentials-recovered', audience: 'owner' },
  'activate-staged-secret': { event: 'staged-secret-live', audience: 'owner' },
};

export interface NotifierDeps {
  state: () => ServiceState;
  acts: ActivityInterfaceFor<BackendServiceActivities>;
  /** From the workflow input (the creator's `email` claim); the carried value wins after continue-as-new. */
  ownerEmail: string | undefined;
  carried: CarriedNotifications | undefined;
  /** Queues a history entry for the main loop to project (a dropped notification, while running). */
  record: (entry: HistoryEntry) => void;
  /** Projects a history entry at once (only once the workflow is finishing and no job runs). */
  project: (entry: HistoryEntry) => Promise<void>;
  entry: (action: HistoryEntry['action'], reason: string | null) => HistoryEntry;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createNotifier(deps: NotifierDeps) {
  const carried = deps.carried;
  const ownerEmail = carried?.ownerEmail ?? deps.ownerEmail ?? null;
  let reminder: CarriedNotifications['reminder'] = carried?.reminder ?? null;
  let stagedNotice: CarriedNotifications['stagedNotice'] = carried?.stagedNotice ?? null;
  /** By channel and key: what has been started and not yet settled (carried by continue-as-new). */
  const pending = new Map<string, PendingNotification>();
  const inFlight = new Set<Promise<void>>();
  const droppedWhileClosing: HistoryEntry[] = [];
  let closing = false;
  let timing: Promise<NotificationTiming> | undefined;

  // Started again in the new run by key; a receiver drops the duplicate if the old run had delivered.
  for (const notification of carried?.pending ?? []) start(notification);

  /**
   * Cached per run: one marker in history; a new run (continue-as-new) reads the configuration
   * again. Asked again within a run, it would be a local activity racing the job's own (deliveries
   * are never awaited by a job), and the order of their continuations differs between a live run
   * and its replay. So channels are per run too: a development worker given an SMTP server later
   * mails for runs started after (production requires SMTP_URL, so its mail channel is always on).
   */
  function ensureTiming(): Promise<NotificationTiming> {
    timing ??= notificationTiming().catch((error: unknown) => {
      timing = undefined;
      throw error;
    });
    return timing;
  }

  /** Called by `project` after each projection: a transition with a rule notifies. */
  function afterProjection(history: HistoryEntry | null): void {
    const rule = history ? NOTIFYING_ACTIONS[history.action] : undefined;
    if (!history || !rule || !patched(NOTIFICATIONS)) return;
    const state = deps.state();
    if (history.action === 'submit') {
      reminder = {
        submittedAt: history.at,
        projectionVersion: state.projectionVersion,
        sent: 0,
        nextAt: null,
      };
    }
    notify(rule.event, rule.audience, state.projectionVersion, {
      at: history.at,
      reason: rule.withReason ? history.reason : null,
    });
  }

  function notify(
    event: NotificationEvent,
    audience: NotificationAudience,
    projectionVersion: number,
    extra: { at: string; reason: string | null; reminder?: number; activateAt?: string },
  ): void {
    const state = deps.state();
    const input: NotificationInput = {
      key: [state.serviceId, event, projectionVersion, ...(extra.reminder ? [extra.reminder] : [])].join('/'),
      event,
      audience,
      serviceId: state.serviceId,
      serviceName: state.registration.name,
      contactEmail: state.registration.contactEmail,
      ownerEmail,
      status: state.status,
      at: extra.at,
      reason: extra.reason,
      ...(extra.reminder ? { reminder: extra.reminder } : {}),
      ...(extra.activateAt ? { activateAt: extra.activateAt } : {}),
    };
    start({ channel: 'mail', input });
    if (audience === 'owner') start({ channel: 'webhook', input });
  }

  /** Starts one delivery without awaiting it; tracked until it settles. */
  function start(notification: PendingNotification): void {
    const id = `${notification.channel}:${notification.input.key}`;
    if (pending.has(id)) return;
    const channelsPatched = patched(NOTIFICATION_CHANNELS);
    pending.set(id, notification);
    const run = CancellationScope.nonCancellable(async () => {
      try {
        const t = await ensureTiming();
        if (channelOff(t, notification.channel, channelsPatched)) return;
        const options: ActivityOptions = {
          startToCloseTimeout: t.attemptTimeoutSeconds * 1000,
          // Temporal retries while delivery fails; past the window the notification is dropped, on the record.
          scheduleToCloseTimeout: t.giveUpAfterSeconds * 1000,
          retry: {
            initialInterval: t.retryInitialSeconds * 1000,
            maximumInterval: t.retryMaxSeconds * 1000,
            backoffCoefficient: 2,
          },
          summary: `Notify ${notification.input.event} (${notification.channel})`,
        };
        const send =
          notification.channel === 'mail'
            ? deps.acts.sendNotificationMail
            : deps.acts.deliverNotificationWebhook;
        await send.executeWithOptions(options, [notification.input]);
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        dropped(notification);
      } finally {
        pending.delete(id);
      }
    });
    const tracked: Promise<void> = run.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }

  function dropped(notification: PendingNotification): void {
    const channel = notification.channel === 'mail' ? 'e-mail' : 'webhook';
    const entry = deps.entry(
      'notification-dropped',
      `${channel} for ${notification.input.event} (${notification.input.key}) was not delivered within its retry window`,
    );
    if (closing) droppedWhileClosing.push(entry);
    else deps.record(entry);
  }

  const reviewWaiting = (state: ServiceState) =>
    state.status === 'under_review' && state.approval === null && !cutOff(state) && !state.deletedAt;

  function reminderDueInMs(): number | undefined {
    if (!reminder?.nextAt || !reviewWaiting(deps.state())) return undefined;
    return Math.max(0, Date.parse(reminder.nextAt) - Date.now());
  }

  function stagedNoticeDueInMs(): number | undefined {
    const state = deps.state();
    const staged = state.credentials.stagedSecret;
    if (
      !staged ||
      !stagedNotice?.nextAt ||
      stagedNotice.sent ||
      stagedNotice.secretVersion !== staged.version
    )
      return undefined;
    if (cutOff(state) || state.deletedAt) return undefined;
    return Math.max(0, Date.parse(stagedNotice.nextAt) - Date.now());
  }

  /** Milliseconds until the next reminder or notice (0: now), or undefined without one. */
  function dueInMs(): number | undefined {
    const dues = [reminderDueInMs(), stagedNoticeDueInMs()].filter((d): d is number => d !== undefined);
    return dues.length > 0 ? Math.min(...dues) : undefined;
  }

  /** A waiting submission or a staged secret without a timer yet gets one (timing from the worker's configuration). */
  async function scheduleIfNeeded(): Promise<void> {
    const state = deps.state();
    const staged = state.credentials.stagedSecret;
    const needsReminder = reminder !== null && reminder.nextAt === null && reviewWaiting(state);
    const needsNotice =
      staged != null && stagedNotice?.secretVersion !== staged.version && !cutOff(state) && !state.deletedAt;
    if ((!needsReminder && !needsNotice) || !patched(NOTIFICATIONS)) return;
    const channelsPatched = patched(NOTIFICATION_CHANNELS);
    const t = await ensureTiming();
    // Reminders go to reviewers by mail only; no mail, no reminder for this submission.
    if (needsReminder && reminder && channelOff(t, 'mail', channelsPatched)) reminder = null;
    if (needsReminder && reminder) {
      reminder = {
        ...reminder,
        nextAt: iso(Date.parse(reminder.submittedAt) + t.reviewReminderAfterSeconds * 1000),
      };
    }
    if (
      needsNotice &&
      staged &&
      channelOff(t, 'mail', channelsPatched) &&
      channelOff(t, 'webhook', channelsPatched)
    ) {
      stagedNotice = { secretVersion: staged.version, nextAt: null, sent: false };
    } else if (needsNotice && staged) {
      const noticeAt = Date.parse(staged.activateAt) - t.stagedSecretNoticeSeconds * 1000;
      // Staged closer to its time than the notice: the owner has just seen it; no separate warning.
      stagedNotice = {
        secretVersion: staged.version,
        nextAt: noticeAt > Date.parse(staged.createdAt) ? iso(noticeAt) : null,
        sent: false,
      };
    }
  }

  /** The main loop's timer came: a review reminder, a staged-secret notice, or both. */
  async function fire(): Promise<void> {
    const state = deps.state();
    const t = await ensureTiming();
    const now = iso(Date.now());
    if (reminderDueInMs() === 0 && reminder) {
      const sent = reminder.sent + 1;
      notify('review-reminder', 'reviewers', reminder.projectionVersion, {
        at: now,
        reason: null,
        reminder: sent,
      });
      reminder = { ...reminder, sent, nextAt: iso(Date.now() + t.reviewReminderEverySeconds * 1000) };
    }
    const staged = state.credentials.stagedSecret;
    if (stagedNoticeDueInMs() === 0 && stagedNotice && staged) {
      notify('staged-secret-soon', 'owner', state.projectionVersion, {
        at: now,
        reason: null,
        activateAt: staged.activateAt,
      });
      stagedNotice = { ...stagedNotice, sent: true };
    }
  }

  /** What continue-as-new carries: undelivered notifications (started again by key) and the timers. */
  function carry(): CarriedNotifications {
    return { ownerEmail, pending: [...pending.values()], reminder, stagedNotice };
  }

  /**
   * Before the workflow completes: wait for every delivery (bounded by its retry window), then
   * record the ones given up on. No job runs any more, so the entries are projected here.
   */
  async function settled(): Promise<void> {
    closing = true;
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    for (const entry of droppedWhileClosing.splice(0)) await deps.project(entry);
  }

  return { afterProjection, dueInMs, scheduleIfNeeded, fire, carry, settled };
}
