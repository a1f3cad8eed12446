import path from 'node:path';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { CAUGHT_MAIL_FILE, readCaughtMail } from '../../notifications/dev-mail.js';
import { WebhookSecretsUnavailable, type NotificationSettings } from '../../notifications/settings-store.js';
import { refuseWebhookUrl } from '../../notifications/webhook.js';
import {
  NOTIFICATION_EVENTS,
  SECURITY_EVENTS,
  type NotificationEvent,
} from '../../workflows/backend-service/notification-types.js';
import type { AppEnv, Services } from '../context.js';
import { unavailable, validationError } from '../problems.js';
import { commonErrors, serviceErrors, ServiceIdParam } from '../schemas/common.js';
import { loadOwnedService, requireRole } from '../services/access.js';
import { TAGS, bearerAuth, json, jsonBody, ok } from './openapi-helpers.js';

const EmailPreferences = z
  .strictObject(
    Object.fromEntries(NOTIFICATION_EVENTS.map((e) => [e, z.boolean().optional()])) as Record<
      NotificationEvent,
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .openapi('EmailPreferences', {
    description: 'Per event: true sends the e-mail, false does not. Absent events are on.',
  });

const NotificationSettingsBody = z
  .strictObject({
    email: EmailPreferences.optional(),
    webhookUrl: z.string().max(2048).nullable().optional().openapi({
      description:
        'https URL on the default port, a public host (the JWKS URI rules); null removes the webhook. A new URL answers with its signing secret once.',
    }),
  })
  .openapi('NotificationSettingsRequest');

const NotificationSettingsSchema = z
  .object({
    email: z.record(z.string(), z.boolean()),
    alwaysSent: z.array(z.string()).openapi({
      description: 'Security events: their e-mail goes out whatever `email` says.',
    }),
    webhookUrl: z.string().nullable(),
    webhookSecret: z.string().optional().openapi({
      description:
        'whsec_…: shown once, when a webhook URL is set. Verify `webhook-signature` with it (Standard Webhooks).',
    }),
  })
  .openapi('NotificationSettings');

function present(settings: NotificationSettings, webhookSecret: string | null) {
  const email = Object.fromEntries(
    NOTIFICATION_EVENTS.map((e) => [e, SECURITY_EVENTS.includes(e) || settings.email[e] !== false]),
  );
  return {
    email,
    alwaysSent: [...SECURITY_EVENTS],
    webhookUrl: settings.webhookUrl,
    ...(webhookSecret ? { webhookSecret } : {}),
  };
}

/**
 * The owner's notification preferences (docs/decisions/notifications.md): stored in PostgreSQL and
 * read at send time, so no workflow update is involved. The webhook URL passes the SSRF guard here
 * and again, on the address dialled, at every delivery.
 */
export function registerNotificationRoutes(app: OpenAPIHono<AppEnv>, services: Services): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/backend-services/{id}/notifications',
      tags: [TAGS.services],
      security: bearerAuth,
      summary: 'Which e-mails the owner gets, and the webhook URL (owner)',
      request: { params: ServiceIdParam },
      responses: {
        200: ok(NotificationSettingsSchema, 'The preferences'),
        ...serviceErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await loadOwnedService(services.db, id, c.var.principal);
      return json(c, present(await services.notificationSettings.get(id), null), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/backend-services/{id}/notifications',
      tags: [TAGS.services],
      security: bearerAuth,
      summary:
        'Turn e-mails on or off, set or remove the webhook (owner); a new webhook URL answers with its secret once',
      description:
        'Security events (deactivated, revoked, staged-secret-soon, staged-secret-live) cannot be turned off. Setting the same URL again keeps its secret; set null, then the URL, for a new one.',
      request: {
        params: ServiceIdParam,
        body: jsonBody(NotificationSettingsBody),
      },
      responses: {
        200: ok(
          NotificationSettingsSchema,
          'The preferences (with webhookSecret when a new webhook URL was set)',
        ),
        ...serviceErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await loadOwnedService(services.db, id, c.var.principal);
      const body = c.req.valid('json');
      const refusedOff = NOTIFICATION_EVENTS.filter(
        (e) => SECURITY_EVENTS.includes(e) && body.email?.[e] === false,
      );
      if (refusedOff.length > 0) {
        throw validationError(
          refusedOff.map((e) => ({ field: `/email/${e}`, message: 'a security event is always sent' })),
        );
      }
      if (body.webhookUrl) {
        const refusal = await refuseWebhookUrl(body.webhookUrl, {
          mode: services.config.APP_MODE,
          resolver: services.resolver,
        });
        if (refusal) throw validationError([{ field: '/webhookUrl', message: refusal }]);
      }
      try {
        const { settings, webhookSecret } = await services.notificationSettings.put(id, {
          ...(body.email ? { email: body.email } : {}),
          ...(body.webhookUrl !== undefined ? { webhookUrl: body.webhookUrl } : {}),
        });
        return json(c, present(settings, webhookSecret), 200);
      } catch (error) {
        if (error instanceof WebhookSecretsUnavailable) throw unavailable(error.message, 60);
        throw error;
      }
    },
  );
}

const CaughtMailSchema = z
  .object({
    items: z.array(
      z.object({
        messageId: z.string().nullable(),
        from: z.string().nullable(),
        to: z.array(z.string()),
        subject: z.string(),
        text: z.string(),
        receivedAt: z.string(),
      }),
    ),
  })
  .openapi('CaughtMail');

/** Development only (app.ts mounts it in development mode): what `npm start`'s SMTP catcher caught. */
export function registerDevMailRoute(app: OpenAPIHono<AppEnv>, services: Services): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/dev/mail',
      tags: ['Development'],
      security: bearerAuth,
      summary: "Development mode only: the mail npm start's local SMTP catcher caught, newest first (admin)",
      responses: {
        200: ok(CaughtMailSchema, 'Caught mail'),
        ...commonErrors,
      },
    }),
    async (c) => {
      requireRole(c.var.principal, 'admin');
      const file = path.join(path.resolve(services.config.DATA_DIR), CAUGHT_MAIL_FILE);
      return json(c, { items: readCaughtMail(file) }, 200);
    },
  );
}
