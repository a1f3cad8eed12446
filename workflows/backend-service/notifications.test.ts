import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationDependencies } from '../../activities/notifications.js';
import { createKeyring } from '../../credentials/keyring.js';
import { smtpTransport } from '../../notifications/mail.js';
import { createNotificationSettingsStore } from '../../notifications/settings-store.js';
import { verifyWebhook } from '../../notifications/webhook.js';
import { localhostOnlyResolver } from '../../platform/network.js';
import { recordHistory } from '../../test-support/histories.js';
import { startTestSmtp, startWebhookReceiver, until, type TestSmtp } from '../../test-support/mail.js';
import { registerSecret } from '../../test-support/secret-registry.js';
import { registration, startService, waitForProjection } from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { startTestWorker, uniqueTaskQueue, type RunningWorker } from '../../test-support/temporal.js';
import { spawnWorkerProcess } from '../../test-support/worker-process.js';
import {
  approveUpdate,
  rejectUpdate,
  revokeUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
} from './messages.js';
import { CURRENT_RUN } from './patches.js';
import type { NotificationTiming } from './notification-types.js';
import type { backendService } from './workflow.js';

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };
const OWNER_EMAIL = 'alice@owner.example';
const CONTACT = 'ops@acme.example';
const REVIEWERS = ['reviewers@registry.example', 'second-reviewer@registry.example'];
const PUBLIC_URL = 'https://registry.example';
const ownerRecipients = [CONTACT, OWNER_EMAIL].sort();

/** Short timings, as the issue asks: everything else is the production code path. */
const timing = (overrides: Partial<NotificationTiming> = {}): NotificationTiming => ({
  reviewReminderAfterSeconds: 3_600,
  reviewReminderEverySeconds: 3_600,
  stagedSecretNoticeSeconds: 3,
  retryInitialSeconds: 1,
  retryMaxSeconds: 1,
  attemptTimeoutSeconds: 5,
  giveUpAfterSeconds: 300,
  ...overrides,
});

describe('people hear about what concerns them', () => {
  let system: TestSystem;
  let smtp: TestSmtp;
  let hooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let notifying: RunningWorker;
  let reminding: RunningWorker;
  const spawned: ChildProcess[] = [];
  const secretKey = randomBytes(32);
  const keyring = createKeyring(new Map([['test', secretKey]]), 'test');

  const notificationDeps = (t: NotificationTiming): NotificationDependencies => ({
    transport: smtpTransport(`smtp://127.0.0.1:${smtp.port}`, 'development'),
    from: 'Backend Services <registry@registry.example>',
    reviewers: REVIEWERS,
    publicUrl: PUBLIC_URL,
    settings: createNotificationSettingsStore(system.db, keyring),
    webhook: { mode: 'development', resolver: localhostOnlyResolver },
    timing: t,
  });

  beforeAll(async () => {
    system = await startTestSystem({ secretKey });
    smtp = await startTestSmtp();
    hooks = await startWebhookReceiver();
    notifying = await startTestWorker({ ...system.deps, notifications: notificationDeps(timing()) });
    reminding = await startTestWorker({
      ...system.deps,
      notifications: notificationDeps(
        timing({ reviewReminderAfterSeconds: 3, reviewReminderEverySeconds: 2 }),
      ),
    });
  });
  afterAll(async () => {
    for (const child of spawned) child.kill('SIGKILL');
    await notifying?.stop();
    await reminding?.stop();
    await hooks?.close();
    await smtp?.stop();
    await system?.stop();
  });

  const mailFor = (serviceId: string) => smtp.messages.filter((m) => m.messageId.includes(`${serviceId}/`));
  /** Distinct Message-IDs per event: what a receiver that drops duplicates sees. */
  const distinctByEvent = (serviceId: string) => {
    const byId = new Map(mailFor(serviceId).map((m) => [m.messageId, m]));
    const counts: Record<string, number> = {};
    for (const m of byId.values()) counts[m.event] = (counts[m.event] ?? 0) + 1;
    return counts;
  };

  async function submitted(taskQueue: string) {
    const started = await startService(system, registration({ type: 'client_secret' }), {
      taskQueue,
      input: { ownerEmail: OWNER_EMAIL },
    });
    await waitForProjection(system.db, started.serviceId, (s) => s.sandbox.state === 'ready');
    await started.handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    return started;
  }

  async function approve(handle: WorkflowHandle<typeof backendService>) {
    const { submission } = await handle.query(stateQuery);
    await handle.executeUpdate(approveUpdate, {
      args: [
        { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
      ],
    });
  }

  it(
    'a full lifecycle produces exactly the mails of the table, signed webhooks for the owner, and no secret anywhere',
    { timeout: 120_000 },
    async () => {
      const { serviceId, handle } = await submitted(notifying.taskQueue);
      const { webhookSecret } = await createNotificationSettingsStore(system.db, keyring).put(serviceId, {
        webhookUrl: hooks.url,
      });
      expect(webhookSecret).toMatch(/^whsec_/);
      registerSecret(webhookSecret!, 'notifications test: webhook secret');

      await until('the submission mail', () => mailFor(serviceId).some((m) => m.event === 'submitted'));
      await handle.executeUpdate(rejectUpdate, { args: [{ actor: bob, reason: 'Scope <b>too</b> wide' }] });
      await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
      await approve(handle);
      await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
      // A staged secret 5 s ahead: the notice (3 s before) and then the switch.
      const activateAt = new Date(Date.now() + 5_000).toISOString();
      const staged = await handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice, activateAt }] });
      const stagedSecret = await system.secretStore.reveal(serviceId, staged.secretVersion);
      await waitForProjection(
        system.db,
        serviceId,
        (s) => s.credentials.secret?.version === staged.secretVersion,
      );
      await handle.executeUpdate(revokeUpdate, { args: [{ actor: alice, reason: 'done with it' }] });
      // The workflow completes only once its notifications are delivered.
      await handle.result();

      const distinct = [...new Map(mailFor(serviceId).map((m) => [m.messageId, m])).values()];
      const table = distinct
        .map((m) => ({ event: m.event, to: m.to, subject: m.subject }))
        .sort((a, b) => a.event.localeCompare(b.event) || a.subject.localeCompare(b.subject));
      expect(table).toEqual(
        [
          { event: 'approved', to: ownerRecipients, subject: 'Approved: Acme bulk export is active' },
          { event: 'rejected', to: ownerRecipients, subject: 'Declined at review: Acme bulk export' },
          { event: 'revoked', to: ownerRecipients, subject: 'Revoked: Acme bulk export' },
          { event: 'staged-secret-live', to: ownerRecipients, subject: 'New secret live: Acme bulk export' },
          {
            event: 'staged-secret-soon',
            to: ownerRecipients,
            subject: 'A new secret goes live soon: Acme bulk export',
          },
          { event: 'submitted', to: [...REVIEWERS].sort(), subject: 'Review requested: Acme bulk export' },
          { event: 'submitted', to: [...REVIEWERS].sort(), subject: 'Review requested: Acme bulk export' },
        ].sort((a, b) => a.event.localeCompare(b.event) || a.subject.localeCompare(b.subject)),
      );
      for (const m of distinct) {
        const page = m.event === 'submitted' ? 'admin' : 'portal';
        expect(m.text, m.event).toContain(`${PUBLIC_URL}/${page}/services/${serviceId}`);
        expect(m.messageId).toMatch(new RegExp(`^<${serviceId}/${m.event}/\\d+@registry\\.example>$`));
      }
      // Every value is escaped in the HTML body.
      const rejected = distinct.find((m) => m.event === 'rejected')!;
      expect(rejected.text).toContain('Reason: Scope <b>too</b> wide');
      expect(rejected.html).toContain('Scope &lt;b&gt;too&lt;/b&gt; wide');

      // Webhooks: the owner's events, each verified with the shown secret; a tampered body fails.
      await until('the revocation webhook', () =>
        hooks.calls.some((c) => c.body.includes('"backend_service.revoked"')),
      );
      const ownCalls = hooks.calls.filter((c) => c.id.startsWith(`${serviceId}/`));
      expect(new Set(ownCalls.map((c) => JSON.parse(c.body).type))).toEqual(
        new Set([
          'backend_service.rejected',
          'backend_service.approved',
          'backend_service.staged-secret-soon',
          'backend_service.staged-secret-live',
          'backend_service.revoked',
        ]),
      );
      for (const call of ownCalls) {
        expect(verifyWebhook(webhookSecret!, call, call.body), call.id).toBe(true);
        expect(verifyWebhook(webhookSecret!, call, call.body.replace('Acme', 'Acmf')), call.id).toBe(false);
      }
      // No secret in any mail or webhook body: the client secret, the staged one, the webhook's.
      const everything = [...mailFor(serviceId).map((m) => m.raw), ...ownCalls.map((c) => c.body)].join('\n');
      expect(everything).not.toContain(stagedSecret);
      expect(everything).not.toContain(webhookSecret!.slice('whsec_'.length));
      await recordHistory(handle, 'folded-notifications.json');
    },
  );

  it(
    'with SMTP down during an approval the service still becomes active on time, and each mail arrives once SMTP is back',
    { timeout: 120_000 },
    async () => {
      await smtp.stop();
      let serviceId = '';
      try {
        const started = await submitted(notifying.taskQueue);
        serviceId = started.serviceId;
        const before = Date.now();
        await approve(started.handle);
        await waitForProjection(system.db, serviceId, (s) => s.status === 'active', 15_000);
        // On time: the approval did not wait for the mail server (production here takes about a second).
        expect(Date.now() - before).toBeLessThan(10_000);
        expect(mailFor(serviceId)).toEqual([]);
        // The outage lasts 10 s (the 30 s, shortened; deliveries retry every second meanwhile).
        await new Promise((r) => setTimeout(r, 10_000 - (Date.now() - before)));
      } finally {
        await smtp.start();
      }
      await until('both mails after SMTP returned', () => distinctByEvent(serviceId).approved === 1);
      await until('the submission mail', () => distinctByEvent(serviceId).submitted === 1);
      expect(distinctByEvent(serviceId)).toEqual({ submitted: 1, approved: 1 });
    },
  );

  it(
    'a worker SIGKILLed right after sending: every event still produces exactly one mail (by Message-ID)',
    { timeout: 180_000 },
    async () => {
      const taskQueue = uniqueTaskQueue('notify-kill');
      const spawn = async () => {
        const child = await spawnWorkerProcess({
          taskQueue,
          secretKey,
          environments: system.environments,
          env: {
            SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
            REVIEWERS_EMAIL: REVIEWERS.join(','),
            PUBLIC_URL,
            NOTIFICATION_RETRY_MAX_INTERVAL: '1s',
            NOTIFICATION_ATTEMPT_TIMEOUT: '5s',
          },
        });
        spawned.push(child);
        return child;
      };
      let worker = await spawn();
      const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
        taskQueue,
        input: { ownerEmail: OWNER_EMAIL },
      });
      await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
      const killedAfter = new Set<string>();
      smtp.onMessage = (message) => {
        if (!message.messageId.includes(`${serviceId}/`) || killedAfter.has(message.event)) return;
        killedAfter.add(message.event);
        worker.kill('SIGKILL');
      };
      try {
        await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
        await until('the submission mail', () => killedAfter.has('submitted'));
        await new Promise((resolve) =>
          worker.exitCode !== null || worker.signalCode !== null
            ? resolve(null)
            : worker.once('exit', resolve),
        );
        worker = await spawn();
        await approve(handle);
        await waitForProjection(system.db, serviceId, (s) => s.status === 'active', 60_000);
        await until('the approval mail', () => killedAfter.has('approved'), 60_000);
        await new Promise((resolve) =>
          worker.exitCode !== null || worker.signalCode !== null
            ? resolve(null)
            : worker.once('exit', resolve),
        );
        worker = await spawn();
        // Give a retried send of the killed worker's activities time to arrive, then count.
        await new Promise((r) => setTimeout(r, 8_000));
      } finally {
        smtp.onMessage = undefined;
      }
      expect(distinctByEvent(serviceId)).toEqual({ submitted: 1, approved: 1 });
    },
  );

  it(
    'review reminders: after REVIEW_REMINDER_AFTER, then every REVIEW_REMINDER_EVERY, across a continue-as-new, until the decision',
    { timeout: 120_000 },
    async () => {
      const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
        taskQueue: reminding.taskQueue,
        input: { ownerEmail: OWNER_EMAIL },
        continueAsNewAfterEvents: 12,
      });
      await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
      // The submission's reminder is made in this run; the run rolls over after the submit job.
      const firstRun = (await handle.describe()).runId;
      await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
      const reminders = () => mailFor(serviceId).filter((m) => m.event === 'review-reminder');
      await until('two reminders', () => new Set(reminders().map((m) => m.messageId)).size >= 2, 30_000);
      // The service continued as new while waiting; the reminders' timer went with it.
      expect((await handle.describe()).runId).not.toBe(firstRun);
      const ids = [...new Set(reminders().map((m) => m.messageId))];
      expect(ids.map((id) => id.replace(/^.*\/(\d+)@.*$/, '$1')).slice(0, 2)).toEqual(['1', '2']);
      expect(reminders()[0]!.to).toEqual([...REVIEWERS].sort());
      expect(reminders()[0]!.text).toContain(`${PUBLIC_URL}/admin/services/${serviceId}`);
      await handle.executeUpdate(rejectUpdate, { args: [{ actor: bob, reason: 'not now' }] });
      const atDecision = new Set(reminders().map((m) => m.messageId)).size;
      await new Promise((r) => setTimeout(r, 5_000));
      expect(new Set(reminders().map((m) => m.messageId)).size).toBe(atDecision);
      await recordHistory(handle, 'folded-notifications-reminders.json');
      // Some earlier run rolled over after a reminder's timer work (patch continue-after-timers): find
      // it back along the chain of runs and record it too.
      let runHandle = system.client.workflow.getHandle(handle.workflowId);
      for (let hops = 0; hops < 20; hops += 1) {
        const history = await runHandle.fetchHistory();
        const events = history.events ?? [];
        // A run that continued as new after a reminder's timer fired (patch continue-after-timers;
        // a run of today's code carries it in its one CURRENT_RUN marker).
        const rolledAfterTimer =
          events.some((e) => e.timerFiredEventAttributes) &&
          Boolean(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) &&
          events.some((e) =>
            [CURRENT_RUN, 'continue-after-timers'].some((id) =>
              Buffer.from(e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data ?? [])
                .toString()
                .includes(id),
            ),
          );
        if (rolledAfterTimer) {
          await recordHistory(runHandle, 'folded-notifications-reminders-rolled-over.json');
          break;
        }
        const previous =
          history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        expect(previous, 'no run rolled over after a reminder').toBeTruthy();
        runHandle = system.client.workflow.getHandle(handle.workflowId, previous!);
      }
    },
  );
});
