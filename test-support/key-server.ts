import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/**
 * The one key server of the tests: a developer's JWKS host on 127.0.0.1 (reached as `localhost`,
 * which development mode and `localhostOnlyResolver` allow; docs/architecture.md, "Tests and the
 * network rule"). `/jwks.json` publishes a key set, by default the public half of a fresh RS384 key
 * whose private half signs private_key_jwt assertions. More paths (redirects, slow or broken answers)
 * and HTTPS come from the options; every request is recorded.
 */
export type Route = (request: IncomingMessage, response: ServerResponse) => void;

export interface KeyServerOptions {
  /** The key set `/jwks.json` publishes at first and after `restore()`; default: the signing key's. */
  keys?: JWK[];
  /** More paths and how they answer (a path listed here wins over `/jwks.json`). */
  routes?: Record<string, Route>;
  /** Serve HTTPS with this key and certificate (test-ca.ts) instead of HTTP. */
  tls?: { key: string; cert: string };
}

export interface TestKeyServer {
  port: number;
  /** `http://localhost:<port>/jwks.json` (https with `tls`). */
  jwksUri: string;
  /** The signing key's kid. */
  kid: string;
  /** The signing key's public JWK, to build sets around it. */
  publicJwk: JWK;
  /** Every request, oldest first. */
  requests: Array<{ path: string; headers: IncomingMessage['headers'] }>;
  /** Replace what `/jwks.json` publishes (e.g. a broken document) until `restore()`. */
  publish(document: unknown): void;
  /** Answer `/jwks.json` with this HTTP status (e.g. 500) until `restore()`. */
  failWith(status: number): void;
  restore(): void;
  /** A client assertion for `clientId` at `tokenUrl` (SMART Backend Services, RS384). */
  assertion(clientId: string, tokenUrl: string, overrides?: { expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startKeyServer(options: KeyServerOptions = {}): Promise<TestKeyServer> {
  const kid = `k-${randomUUID().slice(0, 8)}`;
  const { publicKey, privateKey } = await generateKeyPair('RS384', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS384', use: 'sig' };
  const initialDocument = { keys: options.keys ?? [publicJwk] };
  let document: unknown = initialDocument;
  let failure: number | null = null;
  const requests: TestKeyServer['requests'] = [];

  const routes: Record<string, Route> = {
    '/jwks.json': (_request, response) => {
      if (failure !== null) {
        response.writeHead(failure, { 'Content-Type': 'text/plain' }).end('key server failing');
        return;
      }
      json(document)(_request, response);
    },
    ...options.routes,
  };
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    requests.push({ path: request.url ?? '', headers: request.headers });
    const route = routes[request.url ?? ''];
    if (route) route(request, response);
    else response.writeHead(404).end();
  };
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    port,
    jwksUri: `${options.tls ? 'https' : 'http'}://localhost:${port}/jwks.json`,
    kid,
    publicJwk,
    requests,
    publish: (next) => (document = next),
    failWith: (status) => (failure = status),
    restore: () => {
      document = initialDocument;
      failure = null;
    },
    assertion: (clientId, tokenUrl, overrides = {}) =>
      signAssertion(privateKey, kid, clientId, tokenUrl, overrides),
    close: () =>
      new Promise<void>((resolve) => {
        // Slow routes leave connections open; they must not hold the close.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A route answering 200 with this JSON body (a published key set caches for five minutes by default). */
export function json(
  body: unknown,
  headers: Record<string, string> = { 'Cache-Control': 'max-age=300' },
): Route {
  return (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
}

function signAssertion(
  key: CryptoKey,
  kid: string,
  clientId: string,
  tokenUrl: string,
  overrides: { expiresInSeconds?: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS384', kid, typ: 'JWT' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(tokenUrl)
    .setIssuedAt(now)
    .setExpirationTime(now + (overrides.expiresInSeconds ?? 240))
    .setJti(randomUUID())
    .sign(key);
}
