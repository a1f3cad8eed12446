/**
 * Fetching a client's `jwks_uri` (docs/aidbox-contract.md §4 "JWKS fetching"; docs/architecture.md
 * "JWKS fetching" and "Tests never open a connection to a non-loopback address").
 *
 * - Names are resolved by an injected resolver (tests and development: `localhostOnlyResolver`).
 * - The address checks run on the address actually connected to (undici `connect.lookup`), so a
 *   name cannot resolve to one address for the check and another for the connection.
 * - Production mode: https only, no IP literals, only public unicast addresses.
 * - Development mode additionally allows the host `localhost` (http or https); nothing else.
 * - No redirects, 3 s connect, 5 s total, 64 KiB, 20 keys at most.
 * - Cache 5 minutes (the Smartbox g(10) attestation, section 4); `refresh` re-fetches (unknown kid, docs/smart-rules.md A8).
 */
import ipaddr from 'ipaddr.js';
import type { JWK } from 'jose';
import type { LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Resolver } from '../../platform/network.js';

export class JwksFetchError extends Error {
  override name = 'JwksFetchError';
}

export interface JwksFetcherOptions {
  resolver: Resolver;
  mode: 'development' | 'production';
  cacheMs?: number;
  timeoutMs?: number;
  maxBytes?: number;
  maxKeys?: number;
}

export interface JwksFetcher {
  keys(uri: string, options?: { refresh?: boolean }): Promise<JWK[]>;
  close(): Promise<void>;
}

function isPublicUnicast(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

export function createJwksFetcher(options: JwksFetcherOptions): JwksFetcher {
  const {
    resolver,
    mode,
    cacheMs = 5 * 60_000,
    timeoutMs = 5_000,
    maxBytes = 64 * 1024,
    maxKeys = 20,
  } = options;
  const cache = new Map<string, { keys: JWK[]; at: number }>();

  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const developmentLocalhost = mode === 'development' && hostname.toLowerCase() === 'localhost';
    resolver(hostname).then(
      (answers) => {
        const allowed = answers.filter((a) => developmentLocalhost || isPublicUnicast(a.address));
        const first = allowed[0];
        if (!first) {
          callback(
            new JwksFetchError(`${hostname} resolves to no allowed address`) as NodeJS.ErrnoException,
            '',
            4,
          );
          return;
        }
        if (lookupOptions.all)
          callback(
            null,
            allowed.map((a) => ({ address: a.address, family: a.family })),
          );
        else callback(null, first.address, first.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 4),
    );
  };
  const agent = new Agent({ connect: { timeout: 3_000, lookup } });

  function checkUrl(uri: string): URL {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new JwksFetchError('jwks_uri is not a URL');
    }
    const localhost = url.hostname.toLowerCase() === 'localhost';
    if (mode === 'development' && localhost && (url.protocol === 'http:' || url.protocol === 'https:'))
      return url;
    if (url.protocol !== 'https:') throw new JwksFetchError('jwks_uri must use https');
    if (ipaddr.isValid(url.hostname.replace(/^\[|\]$/g, '')))
      throw new JwksFetchError('jwks_uri must not be an IP literal');
    return url;
  }

  async function download(uri: string): Promise<JWK[]> {
    const url = checkUrl(uri);
    let response;
    try {
      response = await undiciFetch(url, {
        dispatcher: agent,
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json, application/jwk-set+json' },
      });
    } catch (error) {
      const cause = (error as { cause?: Error }).cause;
      throw new JwksFetchError(`could not fetch jwks_uri: ${cause?.message ?? (error as Error).message}`);
    }
    if (!response.ok) throw new JwksFetchError(`jwks_uri answered ${response.status}`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).byteLength;
      if (size > maxBytes) throw new JwksFetchError(`jwks_uri document exceeds ${maxBytes} bytes`);
      chunks.push(chunk as Uint8Array);
    }
    let document: unknown;
    try {
      document = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new JwksFetchError('jwks_uri document is not JSON');
    }
    const keys = (document as { keys?: unknown })?.keys;
    if (!Array.isArray(keys) || keys.length === 0) throw new JwksFetchError('jwks_uri document has no keys'); // docs/smart-rules.md D1
    if (keys.length > maxKeys) throw new JwksFetchError(`jwks_uri document has more than ${maxKeys} keys`); // D11
    return keys.filter((k): k is JWK => typeof k === 'object' && k !== null);
  }

  return {
    async keys(uri, { refresh = false } = {}) {
      const cached = cache.get(uri);
      if (!refresh && cached && Date.now() - cached.at < cacheMs) return cached.keys;
      const keys = await download(uri);
      cache.set(uri, { keys, at: Date.now() });
      return keys;
    },
    close: () => agent.close(),
  };
}
