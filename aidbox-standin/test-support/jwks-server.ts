/**
 * A tiny JWKS host for tests: listens on 127.0.0.1 port 0 and is reached as `http://localhost:<port>`,
 * the one name `localhostOnlyResolver` answers (docs/architecture.md, "Tests and the network rule").
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

export interface JwksHost {
  url: string;
  setKeys(keys: JWK[]): void;
  requests(): number;
  close(): Promise<void>;
}

export async function startJwksHost(initial: JWK[]): Promise<JwksHost> {
  let keys = initial;
  let count = 0;
  const server = createServer((request, response) => {
    count += 1;
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/jwks.json`,
    setKeys: (next) => {
      keys = next;
    },
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
