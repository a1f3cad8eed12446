import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring } from '../credentials/keyring.js';
import { signWebhook, verifyWebhook } from '../notifications/webhook.js';
import { staticResolver } from '../platform/network.js';
import { registerSecret } from '../test-support/secret-registry.js';
import {
  buildApp,
  createIdentities,
  jsonRequest,
  routeTestResources,
  seedService,
  serviceState,
} from '../test-support/api-harness.js';

/**
 * The owner's notification preferences (PUT/GET …/notifications): the SSRF guard at registration
 * (names resolve through a static table: no connection is ever made), the secret shown once, the
 * security events that cannot be turned off.
 */
describe('notification preferences', async () => {
  const { config, db, temporal } = routeTestResources();
  const ids = await createIdentities();
  const app = buildApp(db, temporal, ids, {
    config: { ...config, APP_MODE: 'production' },
    keyring: createKeyring(new Map([['n1', randomBytes(32)]]), 'n1'),
    resolver: staticResolver({
      'hooks.partner.example': '93.184.216.34',
      'internal.partner.example': '10.0.0.7',
      'metadata.partner.example': '169.254.169.254',
      'mixed.partner.example': ['93.184.216.34', '127.0.0.1'],
    }),
  });
  const owner = await ids.bearer('olivia', ['developer']);
  const put = async (id: string, body: unknown) =>
    app.request(`/v1/backend-services/${id}/notifications`, jsonRequest('PUT', body, owner));
  const newService = async () => (await seedService(db, serviceState({ ownerId: 'olivia' }))).serviceId;

  it('refuses SSRF targets at registration, naming the field', async () => {
    const id = await newService();
    for (const url of [
      'https://internal.partner.example/hook',
      'https://metadata.partner.example/hook',
      'https://mixed.partner.example/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.7/hook',
      'http://hooks.partner.example/hook',
      'https://hooks.partner.example:8443/hook',
      'https://user:pass@hooks.partner.example/hook',
      'https://localhost/hook',
      'https://unknown.partner.example/hook',
    ]) {
      const response = await put(id, { webhookUrl: url });
      expect(response.status, url).toBe(400);
      const problem = (await response.json()) as { errors: Array<{ field: string; message: string }> };
      expect(problem.errors[0]!.field, url).toBe('/webhookUrl');
    }
    expect(
      (await (await app.request(`/v1/backend-services/${id}/notifications`, { headers: owner })).json())
        .webhookUrl,
    ).toBeNull();
  });

  it('a public webhook URL answers with its signing secret once; the same URL again keeps it', async () => {
    const id = await newService();
    const first = await put(id, { webhookUrl: 'https://hooks.partner.example/hook' });
    expect(first.status).toBe(200);
    const body = (await first.json()) as { webhookSecret?: string; webhookUrl: string };
    expect(body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    registerSecret(body.webhookSecret!, 'api notifications test');
    const again = (await (await put(id, { webhookUrl: 'https://hooks.partner.example/hook' })).json()) as {
      webhookSecret?: string;
    };
    expect(again.webhookSecret).toBeUndefined();
    const read = (await (
      await app.request(`/v1/backend-services/${id}/notifications`, { headers: owner })
    ).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ webhookUrl: 'https://hooks.partner.example/hook' });
    expect(read.webhookSecret).toBeUndefined();
    // Stored encrypted: the plaintext is in no column.
    const row = await db
      .selectFrom('notification_settings')
      .selectAll()
      .where('service_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(body.webhookSecret!.slice(6));
  });

  it('e-mails can be turned off, except the security events', async () => {
    const id = await newService();
    const off = await put(id, { email: { approved: false, 'credentials-failing': false } });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { email: Record<string, boolean> }).email).toMatchObject({
      approved: false,
      'credentials-failing': false,
      rejected: true,
      revoked: true,
    });
    const refused = await put(id, { email: { revoked: false } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: Array<{ field: string }> }).errors[0]!.field).toBe(
      '/email/revoked',
    );
  });
});

describe('webhook signatures (Standard Webhooks)', () => {
  it("match the convention's published example", () => {
    // The example of https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const timestamp = 1614265330;
    const body = '{"test": 2432232314}';
    expect(signWebhook(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    const headers = { id, timestamp: String(timestamp), signature: signWebhook(secret, id, timestamp, body) };
    expect(verifyWebhook(secret, headers, body, { nowSeconds: timestamp })).toBe(true);
    expect(verifyWebhook(secret, headers, body + ' ', { nowSeconds: timestamp })).toBe(false);
    expect(verifyWebhook(secret, headers, body, { nowSeconds: timestamp + 3600 })).toBe(false);
  });
});
