import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { LocalIssuer } from '../api/auth/local-issuer.js';

/** The two small HTTP servers the Temporal cluster (platform/temporal-cluster.ts) runs itself. */

/** A JWKS endpoint on 127.0.0.1 with the development issuer's public keys (the server's key source). */
export function serveJwks(issuer: LocalIssuer): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(issuer.jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

/**
 * Stands for the operators' SSO proxy in front of the Web UI: forwards every request to the
 * ui-server with `Authorization: Bearer <token>` (the UI's `<namespace>:read` token, read from its
 * file at each request so renewals apply), which the ui-server passes on to the frontend.
 */
export function identityProxy(
  publicPort: number,
  target: number,
  tokenFile: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` };
    headers.host = `127.0.0.1:${target}`;
    const upstream = http.request(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(publicPort, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ port, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
