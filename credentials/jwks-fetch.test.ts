import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localhostOnlyResolver, staticResolver, type Resolver } from '../platform/network.js';
import { checkJwksUri } from './check-jwks.js';
import { createJwksFetcher, type JwksFetcherOptions } from './jwks-fetch.js';
import type { JwksFetchFailed } from './jwks-fetch-failure.js';
import { createFakeNetwork, type FakeNetwork } from '../test-support/fake-network.js';
import { rsaKeyPair, type TestKeyPair } from '../test-support/key-pairs.js';
import { json, startKeyServer, type TestKeyServer } from '../test-support/key-server.js';
import { createTestCa, type TestCa } from '../test-support/test-ca.js';

/**
 * The JWKS fetch against servers on 127.0.0.1 only (docs/architecture.md, "Tests never open a
 * connection to a non-loopback address"). Every fetcher here gets an injected resolver and the
 * fake network's connector, which records every connection and refuses every non-loopback one.
 * PUBLIC is a pretend public address: the fake network delivers it to the loopback HTTPS server,
 * it is never dialled.
 */
const PUBLIC = '93.184.215.14';
const HOST = 'jwks.example.test';

let ca: TestCa;
let key: TestKeyPair;
let https: TestKeyServer;
let http: TestKeyServer;
const servers: TestKeyServer[] = [];

const jwks = () => ({ keys: [{ ...key.publicJwk, kid: 'k1', alg: 'RS384', use: 'sig' }] });

beforeAll(async () => {
  ca = createTestCa([HOST, 'localhost']);
  key = rsaKeyPair(2048);
  const routes = {
    '/jwks': json(jwks()),
    '/no-cache-control': json(jwks(), {}),
    '/redirect-same-host': (_req: unknown, res: ServerResponse) =>
      res.writeHead(302, { location: '/jwks', connection: 'close' }).end(),
    '/redirect-twice': (_req: unknown, res: ServerResponse) =>
      res.writeHead(302, { location: '/redirect-same-host' }).end(),
    '/redirect-metadata': (_req: unknown, res: ServerResponse) =>
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    '/redirect-other-host': (_req: unknown, res: ServerResponse) =>
      res.writeHead(301, { location: 'https://internal.example.test/jwks' }).end(),
    '/oversized': json({ keys: [{ kty: 'RSA', kid: 'x', n: 'A'.repeat(70 * 1024), e: 'AQAB' }] }),
    '/oversized-chunked': (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 80; i++) res.write(' '.repeat(1024));
      res.end('{}');
    },
    '/slow-headers': () => undefined, // never answers
    '/slow-body': (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys": [');
    },
    '/html': (_req: unknown, res: ServerResponse) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    '/not-json': (_req: unknown, res: ServerResponse) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": ['),
    '/private': json({ keys: [{ ...key.privateJwk, kid: 'k1' }] }),
    '/auth': (_req: unknown, res: ServerResponse) => res.writeHead(401).end(),
  };
  https = await startKeyServer({ routes, tls: { key: ca.serverKeyPem, cert: ca.serverCertPem } });
  http = await startKeyServer({ routes });
  servers.push(https, http);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function fetcherFor(network: FakeNetwork, options: Partial<JwksFetcherOptions> = {}) {
  return createJwksFetcher({
    mode: 'production',
    resolver: staticResolver({ [HOST]: PUBLIC }),
    ca: ca.caPem,
    wrapConnector: network.wrapConnector,
    limits: { totalTimeoutMs: 1_500, connectTimeoutMs: 1_000 },
    ...options,
  });
}

function routedNetwork() {
  return createFakeNetwork({ [PUBLIC]: https.port });
}

function expectFailure(
  result: Awaited<ReturnType<ReturnType<typeof createJwksFetcher>>>,
  kind: JwksFetchFailed['kind'],
): JwksFetchFailed {
  expect(result.ok, JSON.stringify(result)).toBe(false);
  const failure = result as JwksFetchFailed;
  expect(failure.kind, failure.message).toBe(kind);
  return failure;
}

describe('JWKS fetch: production mode over HTTPS', () => {
  it('fetches and validates a JWKS from a public host, trusting the test CA only through configuration', async () => {
    const network = routedNetwork();
    const report = await checkJwksUri(fetcherFor(network), `https://${HOST}/jwks`);
    expect(report.valid, report.summary).toBe(true);
    expect(report.fetch).toMatchObject({ status: 200, cacheControl: 'max-age=300', redirected: false });
    expect(report.keys[0]).toMatchObject({ kid: 'k1', usableAlgorithms: ['RS384'] });
    expect(network.attempts).toEqual([{ address: PUBLIC, port: '443', servername: HOST, outcome: 'routed' }]);
    // U4: a plain GET that asks for JSON and carries no credentials.
    const request = https.requests.at(-1)!;
    expect(request.headers.accept).toContain('application/json');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.headers.cookie).toBeUndefined();
  });

  it('refuses a certificate from a CA it was not given (TLS error with the cause)', async () => {
    const failure = expectFailure(
      await fetcherFor(routedNetwork(), { ca: ca.strangerCaPem })(`https://${HOST}/jwks`),
      'tls',
    );
    expect(failure.message).toMatch(/TLS connection to 'jwks.example.test' failed \(\w+/);
  });

  it('does not trust the test CA through the system store', async () => {
    // No `ca` option: the default trust store applies, and it has never heard of the test CA.
    const fetcher = createJwksFetcher({
      mode: 'production',
      resolver: staticResolver({ [HOST]: PUBLIC }),
      wrapConnector: routedNetwork().wrapConnector,
    });
    expectFailure(await fetcher(`https://${HOST}/jwks`), 'tls');
  });

  it.each([
    ['http in production', `http://${HOST}/jwks`, 'U1'],
    ['an IP literal', `https://${PUBLIC}/jwks`, 'U1'],
    ['localhost in production', 'https://localhost/jwks', 'U3'],
    ['a port other than 443', `https://${HOST}:8443/jwks`, 'U3'],
    ['user info', `https://user:pass@${HOST}/jwks`, 'U2'],
    ['a fragment', `https://${HOST}/jwks#k1`, 'U2'],
    ['not a URL', 'jwks.example.test/jwks', 'U1'],
  ])('refuses %s before any connection', async (_name, url, rule) => {
    const network = routedNetwork();
    const failure = expectFailure(await fetcherFor(network)(url), 'url');
    expect(failure.rule).toBe(rule);
    expect(network.attempts).toEqual([]);
  });

  it('reports a missing Cache-Control as a warning only (U6)', async () => {
    const report = await checkJwksUri(fetcherFor(routedNetwork()), `https://${HOST}/no-cache-control`);
    expect(report.valid).toBe(true);
    expect(report.findings).toEqual([expect.objectContaining({ rule: 'U6', severity: 'warning' })]);
  });

  it('turns a fetch failure into a document-level error in the report', async () => {
    const report = await checkJwksUri(fetcherFor(routedNetwork()), `https://${HOST}/slow-headers`);
    expect(report.valid).toBe(false);
    expect(report.findings[0]).toMatchObject({ rule: 'U5', severity: 'error' });
    expect(report.keys).toEqual([]);
  });

  it('judges a fetched set that holds a private key', async () => {
    const report = await checkJwksUri(fetcherFor(routedNetwork()), `https://${HOST}/private`);
    expect(report.valid).toBe(false);
    expect(report.summary).toContain("key 'k1' contains the private exponent d");
  });
});

describe('JWKS fetch: limits and content', () => {
  it.each([
    ['/oversized', 'too-large'],
    ['/oversized-chunked', 'too-large'],
    ['/slow-headers', 'timeout'],
    ['/slow-body', 'timeout'],
    ['/html', 'content-type'],
    ['/not-json', 'not-json'],
    ['/auth', 'http-status'],
  ] as const)('%s → %s', async (path, kind) => {
    const started = Date.now();
    const failure = expectFailure(await fetcherFor(routedNetwork())(`https://${HOST}${path}`), kind);
    expect(Date.now() - started).toBeLessThan(3_000);
    if (path === '/auth') expect(failure.message).toContain('without any authentication');
    if (kind === 'timeout') expect(failure.message).toContain('within 1500 ms');
  });

  it('gives up when the name does not resolve within the connect timeout', async () => {
    const hanging: Resolver = () => new Promise(() => undefined);
    const failure = expectFailure(
      await fetcherFor(routedNetwork(), { resolver: hanging, limits: { connectTimeoutMs: 200 } })(
        `https://${HOST}/jwks`,
      ),
      'connect-timeout',
    );
    expect(failure.message).toContain('200 ms');
  });

  it('reports a name that does not resolve', async () => {
    expectFailure(
      await fetcherFor(routedNetwork(), { resolver: localhostOnlyResolver })(`https://${HOST}/jwks`),
      'unresolvable',
    );
  });
});

describe('JWKS fetch: SSRF guard on the connected address', () => {
  const forbidden = [
    ['loopback', '127.0.0.1'],
    ['loopback (other)', '127.8.9.10'],
    ['RFC 1918 10/8', '10.0.0.7'],
    ['RFC 1918 172.16/12', '172.16.5.4'],
    ['RFC 1918 192.168/16', '192.168.1.1'],
    ['link-local', '169.254.10.10'],
    ['cloud metadata', '169.254.169.254'],
    ['CGNAT', '100.64.0.1'],
    ['unspecified', '0.0.0.0'],
    ['multicast', '224.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['IPv6 unspecified', '::'],
    ['IPv6 link-local', 'fe80::1'],
    ['IPv6 unique-local', 'fc00::1'],
    ['AWS IPv6 metadata', 'fd00:ec2::254'],
    ['IPv4-mapped IPv6', '::ffff:10.0.0.1'],
    ['IPv6 multicast', 'ff02::1'],
  ];

  it.each(forbidden)(
    'a name resolving to %s (%s) is refused without a connection attempt',
    async (_name, address) => {
      const network = routedNetwork();
      const fetcher = fetcherFor(network, { resolver: staticResolver({ [HOST]: address }) });
      const failure = expectFailure(await fetcher(`https://${HOST}/jwks`), 'forbidden-address');
      expect(failure.rule).toBe('U3');
      expect(failure.message).not.toContain(address); // the internal address is not revealed
      expect(network.attempts).toEqual([]);
    },
  );

  it('says "cloud metadata" for the metadata address', async () => {
    const failure = expectFailure(
      await fetcherFor(routedNetwork(), { resolver: staticResolver({ [HOST]: '169.254.169.254' }) })(
        `https://${HOST}/jwks`,
      ),
      'forbidden-address',
    );
    expect(failure.message).toContain('a cloud metadata service address');
  });

  it('refuses when any of several answers is private', async () => {
    const network = routedNetwork();
    expectFailure(
      await fetcherFor(network, { resolver: staticResolver({ [HOST]: [PUBLIC, '10.0.0.7'] }) })(
        `https://${HOST}/jwks`,
      ),
      'forbidden-address',
    );
    expect(network.attempts).toEqual([]);
  });

  it('negative control: without the guard the private address reaches the connector, which refuses it (nothing leaves the machine)', async () => {
    const network = routedNetwork();
    const unguarded = fetcherFor(network, {
      resolver: staticResolver({ [HOST]: '10.0.0.7' }),
      addressPolicy: () => ({ allowed: true }),
    });
    const failure = expectFailure(await unguarded(`https://${HOST}/jwks`), 'unreachable');
    expect(failure.message).not.toContain('10.0.0.7');
    expect(network.attempts).toEqual([
      { address: '10.0.0.7', port: '443', servername: HOST, outcome: 'refused' },
    ]);
  });

  it('a name re-resolving to a private address (DNS rebinding) is refused on the new connection', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? PUBLIC : '10.0.0.7', family: 4 }];
    const network = routedNetwork();
    // The same-host redirect answers with Connection: close, so the followed request needs a new connection.
    const failure = expectFailure(
      await fetcherFor(network, { resolver: rebinding })(`https://${HOST}/redirect-same-host`),
      'forbidden-address',
    );
    expect(failure.rule).toBe('U3');
    expect(calls).toBe(2);
    expect(network.attempts.map((a) => a.address)).toEqual([PUBLIC]);
    expect(network.forbiddenAttempts()).toEqual([]);
  });

  it('a second fetch re-resolves: no address is remembered between fetches', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? PUBLIC : '192.168.0.10', family: 4 }];
    const network = routedNetwork();
    const fetcher = fetcherFor(network, { resolver: rebinding });
    expect((await fetcher(`https://${HOST}/jwks`)).ok).toBe(true);
    expectFailure(await fetcher(`https://${HOST}/jwks`), 'forbidden-address');
    expect(network.forbiddenAttempts()).toEqual([]);
  });

  it('follows one same-host redirect', async () => {
    const report = await checkJwksUri(fetcherFor(routedNetwork()), `https://${HOST}/redirect-same-host`);
    expect(report.valid).toBe(true);
    expect(report.fetch).toMatchObject({ redirected: true, finalUrl: `https://${HOST}/jwks` });
  });

  it.each([
    ['/redirect-twice', 'more than once'],
    ['/redirect-metadata', 'must use https'],
    ['/redirect-other-host', 'another host'],
  ])('refuses the redirect %s', async (path, text) => {
    const network = routedNetwork();
    const failure = expectFailure(
      await fetcherFor(network, {
        resolver: staticResolver({ [HOST]: PUBLIC, 'internal.example.test': '10.1.1.1' }),
      })(`https://${HOST}${path}`),
      'redirect',
    );
    expect(failure.message).toContain(text);
    expect(network.forbiddenAttempts()).toEqual([]);
    expect(network.attempts.every((a) => a.address === PUBLIC)).toBe(true);
  });
});

describe('JWKS fetch: development mode', () => {
  const dev = (network: FakeNetwork, options: Partial<JwksFetcherOptions> = {}) =>
    fetcherFor(network, { mode: 'development', resolver: localhostOnlyResolver, ...options });

  it('accepts http://localhost, connecting to 127.0.0.1 only', async () => {
    const network = createFakeNetwork();
    const report = await checkJwksUri(dev(network), `http://localhost:${http.port}/jwks`);
    expect(report.valid, report.summary).toBe(true);
    expect(network.attempts).toEqual([
      { address: '127.0.0.1', port: String(http.port), servername: 'localhost', outcome: 'loopback' },
    ]);
  });

  it('accepts https://localhost with the configured CA', async () => {
    const result = await dev(createFakeNetwork())(`https://localhost:${https.port}/jwks`);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('localhost means 127.0.0.1 whatever the resolver says', async () => {
    const network = createFakeNetwork();
    const result = await dev(network, { resolver: staticResolver({ localhost: '10.0.0.1' }) })(
      `http://localhost:${http.port}/jwks`,
    );
    expect(result.ok).toBe(true);
    expect(network.attempts.map((a) => a.address)).toEqual(['127.0.0.1']);
  });

  it.each([
    ['an IP-literal loopback', (): string => `http://127.0.0.1:${http.port}/jwks`, 'url'],
    ['http to another host', (): string => `http://${HOST}/jwks`, 'url'],
    ['a name resolving to loopback', (): string => `https://${HOST}/jwks`, 'forbidden-address'],
  ] as const)('exempts nothing else: %s is refused', async (_name, url, kind) => {
    const network = createFakeNetwork();
    expectFailure(await dev(network, { resolver: staticResolver({ [HOST]: '127.0.0.1' }) })(url()), kind);
    expect(network.attempts).toEqual([]);
  });

  it('refuses a redirect from localhost to the metadata address', async () => {
    const network = createFakeNetwork();
    const failure = expectFailure(
      await dev(network)(`http://localhost:${http.port}/redirect-metadata`),
      'redirect',
    );
    expect(failure.message).toContain('only http://localhost is exempt');
    expect(network.attempts.map((a) => a.address)).toEqual(['127.0.0.1']);
  });
});
