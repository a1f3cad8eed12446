import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { publicUnicastOnly, type AddressPolicy } from '../credentials/address-policy.js';
import { guardedConnector, type Connector } from '../credentials/guarded-connector.js';
import { checkJwksUrl, type AppMode } from '../credentials/jwks-url.js';
import type { Resolver } from '../platform/network.js';

/**
 * Webhooks after the Standard Webhooks convention (https://www.standardwebhooks.com/, its spec at
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature` = `v1,` + base64 of
 * HMAC-SHA256 over `<id>.<timestamp>.<body>`, keyed with the base64 part of a `whsec_` secret.
 *
 * The URL is someone else's choice, so it gets the JWKS URI's SSRF rules (credentials/jwks-url.ts,
 * credentials/guarded-connector.ts): https on the default port, a host name (not an IP literal), no
 * credentials; every resolved address must be public unicast, judged in the connector on the
 * address actually dialled. Development mode exempts `localhost` (127.0.0.1) only, as for JWKS.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** 32 random bytes, base64, behind the `whsec_` prefix the convention's libraries expect. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error('not a whsec_ webhook secret');
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
}

/** `v1,<base64 HMAC-SHA256(id.timestamp.body)>`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** What a receiver does: any of the space-separated `v1,` signatures matches (constant-time compare). */
export function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  const timestamp = Number(headers.timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(timestamp) || Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300))
    return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, timestamp, body).slice(3), 'base64');
  return headers.signature.split(' ').some((candidate) => {
    const [version, mac] = candidate.split(',', 2);
    if (version !== 'v1' || !mac) return false;
    const given = Buffer.from(mac, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export type WebhookUrlVerdict = { ok: true; url: string } | { ok: false; message: string };

/** The URL rules of a JWKS URI, worded for a webhook. */
export function checkWebhookUrl(raw: string, mode: AppMode): WebhookUrlVerdict {
  const verdict = checkJwksUrl(raw, mode);
  if (!verdict.ok) return { ok: false, message: verdict.message.replaceAll('JWKS URL', 'webhook URL') };
  return { ok: true, url: verdict.canonical };
}

/**
 * At registration: the URL's rules, then its host name resolved and every answer judged, so an
 * internal target is refused before anything is stored (delivery judges the dialled address again).
 */
export async function refuseWebhookUrl(
  raw: string,
  options: { mode: AppMode; resolver: Resolver; addressPolicy?: AddressPolicy },
): Promise<string | null> {
  const verdict = checkWebhookUrl(raw, options.mode);
  if (!verdict.ok) return verdict.message;
  const host = new URL(verdict.url).hostname.replace(/^\[|\]$/g, '');
  if (options.mode === 'development' && host === 'localhost') return null;
  let addresses: string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : (await options.resolver(host)).map((a) => a.address);
  } catch {
    return `the webhook host '${host}' could not be resolved`;
  }
  if (addresses.length === 0) return `the webhook host '${host}' could not be resolved`;
  const policy = options.addressPolicy ?? publicUnicastOnly;
  for (const address of addresses) {
    const judged = policy(address);
    if (!judged.allowed)
      return `the webhook host '${host}' resolves to ${judged.reason}, which the registry never connects to`;
  }
  return null;
}

export interface WebhookDeliveryOptions {
  mode: AppMode;
  resolver: Resolver;
  /** Tests record and refuse every non-loopback connection here, as for JWKS fetches. */
  wrapConnector?: (real: Connector) => Connector;
  ca?: string | string[];
  timeoutMs?: number;
}

export type WebhookDelivery = { ok: true; status: number } | { ok: false; reason: string };

/** One POST of a signed body; any 2xx is delivered, anything else is a failure to retry. */
export async function deliverWebhook(
  url: string,
  secret: string,
  message: { id: string; body: string },
  options: WebhookDeliveryOptions,
): Promise<WebhookDelivery> {
  const checked = checkWebhookUrl(url, options.mode);
  if (!checked.ok) return { ok: false, reason: checked.message };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const real = buildConnector({
    timeout: timeoutMs,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    maxCachedSessions: 0,
    ...(options.ca ? { ca: options.ca } : {}),
  });
  const connector = guardedConnector(
    { mode: options.mode, resolver: options.resolver, addressPolicy: publicUnicastOnly },
    options.wrapConnector ? options.wrapConnector(real) : real,
    timeoutMs,
  );
  // One Agent per delivery: every delivery resolves and judges the address afresh (DNS rebinding).
  const agent = new Agent({ connect: connector, connections: 1, pipelining: 0, allowH2: false });
  const timestamp = Math.floor(Date.now() / 1000);
  try {
    const response = await request(checked.url, {
      dispatcher: agent,
      method: 'POST',
      // No redirect is followed: a 3xx is a failed delivery.
      headers: {
        'content-type': 'application/json',
        'user-agent': 'backend-services-registry (webhook)',
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, message.id, timestamp, message.body),
      },
      body: message.body,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.dump();
    if (response.statusCode >= 200 && response.statusCode < 300)
      return { ok: true, status: response.statusCode };
    return { ok: false, reason: `the webhook answered HTTP ${response.statusCode}` };
  } catch (error) {
    const forbidden = (error as { cause?: unknown })?.cause ?? error;
    const name = (forbidden as { name?: string })?.name;
    return {
      ok: false,
      reason:
        name === 'ForbiddenAddress'
          ? (forbidden as Error).message
          : `the webhook could not be reached (${(error as { code?: string })?.code ?? name ?? 'error'})`,
    };
  } finally {
    agent.destroy().catch(() => undefined);
  }
}
