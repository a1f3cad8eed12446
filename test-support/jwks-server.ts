import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/**
 * A developer's key server for tests: publishes a JWKS on 127.0.0.1 (reached as `localhost`, which
 * development mode allows) and signs private_key_jwt assertions with the matching private key.
 */
export interface TestKeyServer {
  /** `http://localhost:<port>/jwks.json` */
  jwksUri: string;
  kid: string;
  /** Replace what the server publishes (e.g. a broken document) until `restore()`. */
  publish(document: unknown): void;
  /** Answer every request with this HTTP status (e.g. 500) until `restore()`. */
  failWith(status: number): void;
  /** The published public key, to build sets around it. */
  publicJwk: JWK;
  restore(): void;
  /** A client assertion for `clientId` at `tokenUrl` (SMART Backend Services, RS384). */
  assertion(clientId: string, tokenUrl: string, overrides?: { expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

export async function startKeyServer(): Promise<TestKeyServer> {
  const kid = `k-${randomUUID().slice(0, 8)}`;
  const { publicKey, privateKey } = await generateKeyPair('RS384', { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS384', use: 'sig' };
  const goodDocument = { keys: [publicJwk] };
  let document: unknown = goodDocument;
  let failure: number | null = null;

  const server: Server = createServer((request, response) => {
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    if (failure !== null) {
      response.writeHead(failure, { 'Content-Type': 'text/plain' }).end('key server failing');
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
    response.end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    jwksUri: `http://localhost:${port}/jwks.json`,
    kid,
    publish: (next) => (document = next),
    failWith: (status) => (failure = status),
    publicJwk,
    restore: () => {
      document = goodDocument;
      failure = null;
    },
    assertion: (clientId, tokenUrl, overrides = {}) =>
      signAssertion(privateKey, kid, clientId, tokenUrl, overrides),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
