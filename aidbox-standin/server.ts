/**
 * THIS IS NOT AIDBOX: a stand-in for the subset of Aidbox the registry uses (README.md lists it,
 * with the docs/aidbox-contract.md section behind each behaviour). It imports no product code, so it judges
 * the product's output independently.
 *
 * The Aidbox stand-in's HTTP server: wires the store, authentication, the policy engine and the
 * REST handlers. `startStandin` starts one instance in-process (tests: 127.0.0.1, port 0).
 *
 * Request path (docs/aidbox-contract.md §2.5, order of checks): fault injection → routing (404) →
 * public endpoints (health, discovery, token, metadata) → authentication (401) → SMART scope layer
 * for `atv: 2` tokens (403) → AccessPolicy engine (403, or 401 when anonymous) → handler.
 * The root Basic client bypasses the scope layer and the engine (section 6, root client).
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { AddressInfo } from 'node:net';
import { localhostOnlyResolver, systemResolver, type Resolver } from '../platform/network.js';
import { ReplayCache } from './auth/assertion.js';
import { authenticate, type Caller } from './auth/authenticate.js';
import { createJwksFetcher } from './auth/jwks-fetch.js';
import { createSigningKey } from './auth/keys.js';
import { scopesAllow } from './auth/scopes.js';
import { handleTokenRequest } from './auth/token-endpoint.js';
import { TokenError } from './auth/token-error.js';
import { ExportJobs } from './fhir/export.js';
import { ResourceApi, type StandinHooks } from './fhir/resource-api.js';
import { capabilityStatement, healthDocument, smartConfiguration } from './http/discovery.js';
import { FaultInjector, type FaultSettings, type ScriptedFault } from './http/faults.js';
import { HttpError, forbidden, invalid, operationOutcome, unauthorized } from './http/outcome.js';
import { evaluatePolicies } from './policy/engine.js';
import { buildPolicyRequest, routeRequest, type Route, type RouteAction } from './policy/request.js';
import { loadSampleData } from './sample-data.js';
import { toInternalFormat } from './store/internal-format.js';
import { ResourceStore, type Resource } from './store/store.js';

export type { StandinHooks } from './fhir/resource-api.js';
export type { FaultSettings, ScriptedFault } from './http/faults.js';

export interface StandinOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The base URL callers use (token `iss`, assertion `aud` = `<publicUrl>/auth/token`); default `http://127.0.0.1:<port>`. */
  publicUrl?: string;
  /** OrgBAC on (the production instance, docs/aidbox-contract.md §3). */
  orgbac?: boolean;
  rootClientId?: string;
  rootClientSecret: string;
  sampleData?: boolean;
  /** Governs the jwks_uri fetch rules (docs/architecture.md "Development mode"). */
  appMode?: 'development' | 'production';
  /** Name resolution for jwks_uri fetches; default `localhostOnlyResolver` in development, the system's in production. */
  resolver?: Resolver;
  faults?: Partial<FaultSettings>;
  /** Allowed clock skew for client assertions (docs/smart-rules.md A6: 30–60 s). */
  clockSkewSeconds?: number;
  jwksCacheMs?: number;
  /** Status polls answered 202 before an export's manifest (default 1). */
  exportPollsBeforeComplete?: number;
  /** Called once per request for logging (main.ts); tests leave it out. */
  onRequest?: (line: { method: string; path: string; status: number; ms: number }) => void;
}

export interface Standin {
  url: string;
  store: ResourceStore;
  hooks: StandinHooks;
  faults: FaultInjector;
  setFaults(settings: Partial<FaultSettings>): void;
  failNext(fault: ScriptedFault): void;
  stop(): Promise<void>;
}

const INTERACTION: Partial<Record<RouteAction, 'c' | 'r' | 'u' | 'd' | 's'>> = {
  read: 'r',
  vread: 'r',
  history: 'r',
  search: 's',
  'post-search': 's',
  'history-type': 's',
  create: 'c',
  update: 'u',
  patch: 'u',
  'conditional-update': 'u',
  'conditional-patch': 'u',
  delete: 'd',
  'conditional-delete': 'd',
};

/**
 * An error body: an OperationOutcome, served as `application/fhir+json` on the FHIR APIs (FHIR R4
 * "Content Types and encodings", https://hl7.org/fhir/R4/http.html#mime-type; the Bulk Data IG asks the
 * same of kick-off and status errors) and as `application/json` on Aidbox's own API.
 */
function errorResponse(error: unknown, path = ''): Response {
  const contentType = isFhirPath(path) ? 'application/fhir+json' : 'application/json';
  if (error instanceof HttpError) {
    return new Response(JSON.stringify(operationOutcome(error.code, error.diagnostics)), {
      status: error.status,
      headers: { 'Content-Type': contentType, ...error.headers },
    });
  }
  console.error('aidbox-standin: unexpected error', error);
  return new Response(JSON.stringify(operationOutcome('exception', 'Internal error', 'fatal')), {
    status: 500,
    headers: { 'Content-Type': contentType },
  });
}

/** The FHIR APIs: `/fhir/…` and, under OrgBAC, `/Organization/<id>/fhir/…` (section 3). */
function isFhirPath(path: string): boolean {
  return /^\/fhir(\/|$)/.test(path) || /^\/Organization\/[^/]+\/fhir(\/|$)/.test(path);
}

/** Export jobs are bound to this (fhir/export.ts). */
function callerKey(caller: Caller): string {
  if (caller.kind === 'root') return 'root';
  if ((caller.kind === 'basic' || caller.kind === 'bearer') && caller.client)
    return `Client/${caller.client.id}`;
  return 'anonymous';
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
  });
}

async function readBody(c: Context, route: Route): Promise<unknown> {
  if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return undefined;
  const text = await c.req.text();
  const contentType = (c.req.header('content-type') ?? '').toLowerCase();
  if (route.action === 'post-search' && contentType.startsWith('application/x-www-form-urlencoded'))
    return text;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid('the body is not valid JSON', 400);
  }
}

export async function startStandin(options: StandinOptions): Promise<Standin> {
  const orgbac = options.orgbac ?? false;
  const appMode = options.appMode ?? 'development';
  const store = new ResourceStore();
  const hooks: StandinHooks = {};
  const faults = new FaultInjector(options.faults);
  const exports = new ExportJobs(options.exportPollsBeforeComplete ?? 1);
  const signingKey = await createSigningKey();
  const jwks = createJwksFetcher({
    resolver: options.resolver ?? (appMode === 'development' ? localhostOnlyResolver : systemResolver),
    mode: appMode,
    cacheMs: options.jwksCacheMs,
  });
  const replay = new ReplayCache();
  const startedAt = Date.now();
  let baseUrl = options.publicUrl?.replace(/\/$/, '') ?? '';
  const getBaseUrl = () => baseUrl;
  const root = { id: options.rootClientId ?? 'root', secret: options.rootClientSecret };
  if (options.sampleData ?? true) loadSampleData(store, orgbac);

  /** Scope layer (section 2.5) then AccessPolicy engine (section 2.1) for one request. */
  function authorize(caller: Caller, method: string, path: string, query: string, body: unknown): void {
    if (caller.kind === 'root') return;
    const route = routeRequest(method, path, orgbac);
    if (caller.kind === 'bearer' && caller.jwt?.atv === 2 && route?.resourceType) {
      const interaction = INTERACTION[route.action];
      if (interaction && !scopesAllow(caller.jwt.scope, route.resourceType, interaction)) {
        throw forbidden(`No granted scope covers ${route.action} on ${route.resourceType}`);
      }
    }
    const client = caller.kind === 'basic' || caller.kind === 'bearer' ? caller.client : undefined;
    const request = buildPolicyRequest({
      method,
      path,
      query,
      client: client ? (toInternalFormat(client) as Record<string, unknown>) : undefined,
      jwt: caller.kind === 'bearer' ? (caller.jwt as Record<string, unknown> | undefined) : undefined,
      body,
      orgbac,
    });
    const decision = evaluatePolicies(store.scan('AccessPolicy') as never[], request);
    if (!decision.allowed) {
      if (caller.kind === 'anonymous') throw unauthorized('Authentication required');
      throw forbidden();
    }
  }

  const api = new ResourceApi({
    store,
    exports,
    hooks,
    baseUrl: getBaseUrl,
    orgbac,
    capabilityStatement: (organizationId) => capabilityStatement(baseUrl, organizationId),
  });

  async function handle(c: Context): Promise<Response> {
    const url = new URL(c.req.url);
    const method = c.req.method.toUpperCase();
    const route = routeRequest(method, url.pathname, orgbac);
    if (!route) throw new HttpError(404, 'not-found', `No route for ${method} ${url.pathname}`);

    switch (route.action) {
      case 'health':
        return json(healthDocument(startedAt));
      case 'smart-configuration':
        return json(smartConfiguration(baseUrl));
      case 'jwks':
        return json({ keys: [signingKey.publicJwk] });
      case 'capability':
        return json(capabilityStatement(baseUrl, route.organizationId));
      case 'export-file': {
        // requiresAccessToken: true (IG "Bulk Data Output File Request"): the bearer token of the
        // client that started the export; anyone else, the root client aside, gets 404.
        const caller = await authenticate(
          { store, signingKey, baseUrl: getBaseUrl, root },
          c.req.header('authorization'),
        );
        if (caller.kind === 'anonymous') throw unauthorized('An access token is required', true);
        return new Response(exports.file(route.exportId!, route.file!, callerKey(caller)), {
          headers: { 'Content-Type': 'application/fhir+ndjson' },
        });
      }
      case 'token':
        return token(c);
    }

    const caller = await authenticate(
      { store, signingKey, baseUrl: getBaseUrl, root },
      c.req.header('authorization'),
    );
    const body = await readBody(c, route);
    authorize(caller, method, url.pathname, url.search.replace(/^\?/, ''), body);
    const result = await api.execute({
      route,
      url,
      body,
      contentType: c.req.header('content-type'),
      headers: {
        ifMatch: c.req.header('if-match'),
        prefer: c.req.header('prefer'),
        accept: c.req.header('accept'),
      },
      caller: callerKey(caller),
      // Transaction entries are authorized one by one, as this same caller.
      authorizeEntry: (entryMethod, entryPath, entryQuery, entryBody) =>
        authorize(caller, entryMethod, entryPath, entryQuery, entryBody),
    });
    return json(result.body, result.status, result.headers);
  }

  async function token(c: Context): Promise<Response> {
    const noStore = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
    try {
      const result = await handleTokenRequest(
        {
          store,
          signingKey,
          baseUrl: getBaseUrl,
          assertion: {
            clockSkewSeconds: options.clockSkewSeconds ?? 60,
            replay,
            nowSeconds: () => Math.floor(Date.now() / 1000),
            clientKeys: async (client: Resource, refresh: boolean) => {
              if (Array.isArray(client.jwks)) return client.jwks as never[];
              if (typeof client.jwks_uri !== 'string')
                throw new Error('the client has neither jwks nor jwks_uri');
              return jwks.keys(client.jwks_uri, { refresh });
            },
          },
        },
        {
          contentType: c.req.header('content-type'),
          authorization: c.req.header('authorization'),
          rawBody: await c.req.text(),
        },
      );
      return json(result.body, result.status, noStore);
    } catch (error) {
      if (error instanceof TokenError)
        return json({ error: error.error, error_description: error.description }, error.status, noStore);
      throw error;
    }
  }

  const app = new Hono();
  if (options.onRequest) {
    const log = options.onRequest;
    app.use('*', async (c, next) => {
      const started = Date.now();
      await next();
      log({
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        ms: Date.now() - started,
      });
    });
  }
  app.use('*', faults.middleware());
  app.all('*', async (c) => {
    try {
      return await handle(c);
    } catch (error) {
      return errorResponse(error, new URL(c.req.url).pathname);
    }
  });
  app.onError((error) => errorResponse(error));

  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  if (baseUrl === '') baseUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  return {
    url: baseUrl,
    store,
    hooks,
    faults,
    setFaults: (settings) => faults.set(settings),
    failNext: (fault) => faults.failNext(fault),
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await jwks.close();
    },
  };
}
