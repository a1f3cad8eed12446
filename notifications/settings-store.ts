import type { SecretKeyring } from '../credentials/keyring.js';
import { decryptSecret, encryptSecret, type SecretBinding } from '../credentials/secret-crypto.js';
import type { Db } from '../db/database.js';
import {
  NOTIFICATION_EVENTS,
  type NotificationEvent,
} from '../workflows/backend-service/notification-types.js';
import { generateWebhookSecret } from './webhook.js';

/**
 * A service's notification preferences in PostgreSQL (docs/decisions/notifications.md), read by the
 * notification activities at send time. The webhook's signing secret is encrypted like a client
 * secret (credentials/secret-crypto.ts), bound to `webhook:<serviceId>` and its version so a
 * ciphertext is never taken for a client secret or moved to another service; the plaintext is
 * returned once, by the call that set the URL.
 */
export interface NotificationSettings {
  /** Only the events turned off or on explicitly; an absent event is on. */
  email: Partial<Record<NotificationEvent, boolean>>;
  webhookUrl: string | null;
}

export interface NotificationSettingsStore {
  get(serviceId: string): Promise<NotificationSettings>;
  /**
   * Merges `email`; sets or clears the webhook. A URL different from the stored one (or a first
   * one) gets a new secret, returned here and never again; the same URL keeps its secret.
   */
  put(
    serviceId: string,
    change: { email?: Partial<Record<NotificationEvent, boolean>>; webhookUrl?: string | null },
  ): Promise<{ settings: NotificationSettings; webhookSecret: string | null }>;
  /** For delivery: the URL and the decrypted secret, or null without a webhook. */
  webhook(serviceId: string): Promise<{ url: string; secret: string } | null>;
}

/** Without a keyring (an API built without SECRET_KEYS), a webhook cannot be stored. */
export class WebhookSecretsUnavailable extends Error {
  override name = 'WebhookSecretsUnavailable';
  constructor() {
    super('webhook secrets cannot be stored: no secret keyring is configured');
  }
}

const binding = (serviceId: string, version: number): SecretBinding => ({
  serviceId: `webhook:${serviceId}`,
  secretVersion: version,
});

function cleanEmail(value: unknown): Partial<Record<NotificationEvent, boolean>> {
  const result: Partial<Record<NotificationEvent, boolean>> = {};
  if (!value || typeof value !== 'object') return result;
  for (const event of NOTIFICATION_EVENTS) {
    const on = (value as Record<string, unknown>)[event];
    if (typeof on === 'boolean') result[event] = on;
  }
  return result;
}

export function createNotificationSettingsStore(
  db: Db,
  keyring: SecretKeyring | undefined,
): NotificationSettingsStore {
  async function row(serviceId: string) {
    return db
      .selectFrom('notification_settings')
      .selectAll()
      .where('service_id', '=', serviceId)
      .executeTakeFirst();
  }

  return {
    async get(serviceId) {
      const found = await row(serviceId);
      return { email: cleanEmail(found?.email), webhookUrl: found?.webhook_url ?? null };
    },

    async put(serviceId, change) {
      return db.transaction().execute(async (trx) => {
        await trx
          .insertInto('notification_settings')
          .values({ service_id: serviceId })
          .onConflict((oc) => oc.column('service_id').doNothing())
          .execute();
        const current = await trx
          .selectFrom('notification_settings')
          .selectAll()
          .where('service_id', '=', serviceId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        const email = { ...cleanEmail(current.email), ...cleanEmail(change.email) };
        let webhookSecret: string | null = null;
        const values: Record<string, unknown> = {
          email: JSON.stringify(email),
          updated_at: new Date().toISOString(),
        };
        if (change.webhookUrl === null) {
          Object.assign(values, {
            webhook_url: null,
            webhook_key_id: null,
            webhook_iv: null,
            webhook_ciphertext: null,
            webhook_auth_tag: null,
          });
        } else if (change.webhookUrl !== undefined && change.webhookUrl !== current.webhook_url) {
          if (!keyring) throw new WebhookSecretsUnavailable();
          webhookSecret = generateWebhookSecret();
          const version = current.webhook_secret_version + 1;
          const encrypted = encryptSecret(keyring, webhookSecret, binding(serviceId, version));
          Object.assign(values, {
            webhook_url: change.webhookUrl,
            webhook_secret_version: version,
            webhook_key_id: encrypted.keyId,
            webhook_iv: encrypted.iv,
            webhook_ciphertext: encrypted.ciphertext,
            webhook_auth_tag: encrypted.authTag,
          });
        }
        await trx
          .updateTable('notification_settings')
          .set(values)
          .where('service_id', '=', serviceId)
          .execute();
        const webhookUrl = change.webhookUrl === undefined ? current.webhook_url : change.webhookUrl;
        return { settings: { email, webhookUrl }, webhookSecret };
      });
    },

    async webhook(serviceId) {
      const found = await row(serviceId);
      if (!found?.webhook_url) return null;
      if (!found.webhook_key_id || !found.webhook_iv || !found.webhook_ciphertext || !found.webhook_auth_tag)
        return null;
      if (!keyring) throw new WebhookSecretsUnavailable();
      const secret = decryptSecret(
        keyring,
        {
          keyId: found.webhook_key_id,
          iv: found.webhook_iv,
          ciphertext: found.webhook_ciphertext,
          authTag: found.webhook_auth_tag,
        },
        binding(serviceId, found.webhook_secret_version),
      );
      return { url: found.webhook_url, secret };
    },
  };
}
