import { Agent, buildConnector, request } from 'undici';
import type { Resolver } from '../platform/network.js';
import { publicUnicastOnly, type AddressPolicy } from './address-policy.js';
import { guardedConnector, type Connector } from './guarded-connector.js';
import { classifyFetchError, FetchStop, type JwksFetchFailed } from './jwks-fetch-failure.js';
import { checkJwksUrl, type AppMode } from './jwks-url.js';

/**
 * Fetches a JWKS from an address someone else chose (docs/architecture.md, JWKS fetching; docs/smart-rules.md
 * U1–U5). The guard sits in the connector (credentials/guarded-connector.ts), so the address checked is
 * the address connected to, on the first request and on the one redirect allowed; a name that
 * re-resolves elsewhere between the two (DNS rebinding) is checked again.
 */

export interface JwksFetchLimits {
  /** Name resolution plus TCP plus TLS handshake. */
  connectTimeoutMs: number;
  /** The whole fetch, redirect included. */
  totalTimeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_JWKS_FETCH_LIMITS: JwksFetchLimits = {
  connectTimeoutMs: 3_000,
  totalTimeoutMs: 5_000,
  maxBytes: 64 * 1024,
};

export interface JwksFetcherOptions {
  mode: AppMode;
  /** systemResolver in production; tests inject localhostOnlyResolver or a staticResolver. */
  resolver: Resolver;
  limits?: Partial<JwksFetchLimits>;
  /**
   * Trust anchors (PEM). When given they replace the default store: tests trust their own CA
   * through this and nothing else. Production leaves it unset (public CAs).
   */
  ca?: string | string[];
  /** Wraps the real TCP/TLS connector; tests record and refuse every non-loopback connection here. */
  wrapConnector?: (real: Connector) => Connector;
  /** Which connected addresses are allowed. Only a negative-control test replaces the default. */
  addressPolicy?: AddressPolicy;
}

export interface JwksFetched {
  ok: true;
  url: string;
  finalUrl: string;
  redirected: boolean;
  status: number;
  contentType: string;
  cacheControl: string | null;
  bytes: number;
  document: unknown;
}

export type JwksFetchResult = JwksFetched | JwksFetchFailed;

export type JwksFetcher = (jwksUri: string) => Promise<JwksFetchResult>;

/** RFC 7517 §8.5 registers application/jwk-set+json; most servers send application/json. */
const JSON_MEDIA_TYPES = new Set(['application/json', 'application/jwk-set+json']);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      throw new FetchStop({
        kind: 'too-large',
        rule: 'U5',
        message: `the JWKS is larger than ${maxBytes} bytes; a key set is a few kilobytes at most`,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function createJwksFetcher(options: JwksFetcherOptions): JwksFetcher {
  const limits: JwksFetchLimits = { ...DEFAULT_JWKS_FETCH_LIMITS, ...options.limits };
  const addressPolicy = options.addressPolicy ?? publicUnicastOnly;

  return async (jwksUri) => {
    const fail = (failure: Omit<JwksFetchFailed, 'ok' | 'url'>): JwksFetchFailed => ({
      ok: false,
      url: jwksUri,
      ...failure,
    });
    const first = checkJwksUrl(jwksUri, options.mode);
    if (!first.ok) return fail({ kind: 'url', rule: first.rule, message: first.message });

    const real = buildConnector({
      timeout: limits.connectTimeoutMs,
      minVersion: 'TLSv1.2', // SP2 / U1: TLS 1.2 or later
      rejectUnauthorized: true,
      maxCachedSessions: 0,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    const connector = guardedConnector(
      { mode: options.mode, resolver: options.resolver, addressPolicy },
      options.wrapConnector ? options.wrapConnector(real) : real,
      limits.connectTimeoutMs,
    );
    // One Agent per fetch: no pooled connection is reused across fetches, so every fetch resolves and judges afresh.
    const agent = new Agent({ connect: connector, connections: 1, pipelining: 0, allowH2: false });
    const signal = AbortSignal.timeout(limits.totalTimeoutMs);
    let url = first.url;
    let redirected = false;
    try {
      for (;;) {
        const response = await request(url, {
          dispatcher: agent,
          method: 'GET',
          // U4: Accept JSON, and no credentials of any kind (no cookies, no Authorization).
          headers: {
            accept: 'application/jwk-set+json, application/json',
            'user-agent': 'backend-services-registry (JWKS check)',
          },
          signal,
          headersTimeout: limits.totalTimeoutMs,
          bodyTimeout: limits.totalTimeoutMs,
        });
        if (REDIRECT_STATUSES.has(response.statusCode)) {
          await response.body.dump();
          const location = response.headers.location;
          if (redirected)
            throw new FetchStop({
              kind: 'redirect',
              rule: 'U3',
              message: 'the JWKS URL redirected more than once; at most one redirect is followed',
            });
          if (typeof location !== 'string')
            throw new FetchStop({
              kind: 'redirect',
              rule: 'U3',
              message: `the JWKS URL answered ${response.statusCode} without a Location`,
            });
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            throw new FetchStop({
              kind: 'redirect',
              rule: 'U3',
              message: 'the JWKS URL redirected to an invalid URL',
            });
          }
          const verdict = checkJwksUrl(next.href, options.mode);
          if (!verdict.ok)
            throw new FetchStop({
              kind: 'redirect',
              rule: verdict.rule,
              message: `the redirect is refused: ${verdict.message}`,
            });
          // U3: one same-host redirect (Keycloak's rule); the new connection's address is judged again by the connector.
          if (verdict.url.host !== url.host || verdict.url.protocol !== url.protocol) {
            throw new FetchStop({
              kind: 'redirect',
              rule: 'U3',
              message: `the JWKS URL redirected to another host or scheme (${verdict.url.origin}); only a redirect on the same host is followed`,
            });
          }
          url = verdict.url;
          redirected = true;
          continue;
        }
        if (response.statusCode !== 200) {
          await response.body.dump();
          const hint =
            response.statusCode === 401 || response.statusCode === 403
              ? '; the JWKS must be readable without any authentication (SMART)'
              : '';
          throw new FetchStop({
            kind: 'http-status',
            rule: 'U4',
            message: `the JWKS URL answered HTTP ${response.statusCode}, not 200${hint}`,
          });
        }
        const contentType = String(response.headers['content-type'] ?? '');
        const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
        if (!JSON_MEDIA_TYPES.has(mediaType)) {
          await response.body.dump();
          throw new FetchStop({
            kind: 'content-type',
            rule: 'U5',
            message: `the JWKS is served as '${contentType || '(no Content-Type)'}'; it must be application/json or application/jwk-set+json`,
          });
        }
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > limits.maxBytes) {
          response.body.destroy();
          throw new FetchStop({
            kind: 'too-large',
            rule: 'U5',
            message: `the JWKS is ${declared} bytes; at most ${limits.maxBytes} are read`,
          });
        }
        const bytes = await readCapped(response.body, limits.maxBytes);
        let document: unknown;
        try {
          document = JSON.parse(bytes.toString('utf8'));
        } catch {
          throw new FetchStop({ kind: 'not-json', rule: 'D1', message: 'the body is not valid JSON' });
        }
        const cacheControl = response.headers['cache-control'];
        return {
          ok: true,
          url: jwksUri,
          finalUrl: url.href,
          redirected,
          status: response.statusCode,
          contentType,
          cacheControl:
            typeof cacheControl === 'string'
              ? cacheControl
              : Array.isArray(cacheControl)
                ? cacheControl.join(', ')
                : null,
          bytes: bytes.length,
          document,
        };
      }
    } catch (error) {
      return fail(classifyFetchError(error, url.hostname, limits, signal.aborted));
    } finally {
      agent.destroy().catch(() => undefined);
    }
  };
}
