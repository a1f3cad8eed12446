import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { afterAll, inject } from 'vitest';
import { createProjectionActivities } from '../activities/projection.js';
import { createKeyring } from '../credentials/keyring.js';
import { createSecretStore, type SecretStore } from '../credentials/secret-store.js';
import { createDb, type Db } from '../db/database.js';
import { apiSchema, parseConfig, type ApiConfig } from '../platform/config.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { localhostOnlyResolver } from '../platform/network.js';
import { createTemporalClient } from '../platform/temporal-connection.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import { createApp } from '../api/app.js';
import { composeApp } from '../api/compose.js';
import { createInMemoryIssuer, type LocalIssuer } from '../api/auth/local-issuer.js';
import { createTokenVerifier, localKeys, type TokenVerifier } from '../api/auth/verifier.js';
import type { ApiDependencies } from '../api/context.js';
import { aidboxOrganizationDirectory } from '../api/organizations.js';
import { registeringSecretStore } from './secret-registry.js';
import { FAST_RETRY } from './services.js';
import type { TestSystem } from './system.js';

/**
 * What API tests share: configuration pointing at the run's PostgreSQL and Temporal, an issuer of
 * their own made in memory (and an impostor with the same name and another key), a secret store
 * with a throwaway key, and read-model rows written by the real projection activity.
 */
export const TEST_ISSUER = 'https://issuer.test.invalid';
export const TEST_AUDIENCE = 'backend-services-api';

export function testConfig(overrides: Record<string, string> = {}): ApiConfig {
  return parseConfig(apiSchema, {
    APP_MODE: 'development',
    AUTH_DEV_ISSUER: 'false',
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `api-test-${randomUUID()}`,
    TEMPORAL_CALL_TIMEOUT_MS: '3000',
    SANDBOX_AIDBOX_URL: 'http://127.0.0.1:1',
    SANDBOX_AIDBOX_PUBLIC_URL: 'https://sandbox.payerbox.test',
    PRODUCTION_AIDBOX_URL: 'http://127.0.0.1:1',
    PRODUCTION_AIDBOX_PUBLIC_URL: 'https://fhir.payerbox.test',
    PRODUCTION_ORGBAC: 'false',
    LOG_LEVEL: 'silent',
    COMMAND_SIGNING_KEY: inject('commandSigningKey'),
    // Tests create many services as one developer; the quota tests set their own limits.
    MAX_SERVICES_PER_OWNER: '100000',
    CREATE_RATE_PER_MINUTE: '100000',
    ...overrides,
  });
}

export interface Identities {
  issuer: LocalIssuer;
  /** Same issuer name, another key: what a forged or foreign token looks like. */
  impostor: LocalIssuer;
  verifier: TokenVerifier;
  token(sub: string, roles: string[], options?: { expiresInSeconds?: number }): Promise<string>;
  bearer(
    sub: string,
    roles: string[],
    options?: { expiresInSeconds?: number },
  ): Promise<Record<string, string>>;
}

export async function createIdentities(): Promise<Identities> {
  const issuer = await createInMemoryIssuer({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  const impostor = await createInMemoryIssuer({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  const verifier = createTokenVerifier([
    { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, keys: localKeys(issuer.jwks), rolesClaim: 'roles' },
  ]);
  const token = (sub: string, roles: string[], options?: { expiresInSeconds?: number }) =>
    issuer.sign(sub, roles, options);
  return {
    issuer,
    impostor,
    verifier,
    token,
    async bearer(sub, roles, options) {
      return { Authorization: `Bearer ${await token(sub, roles, options)}` };
    },
  };
}

export function testSecretStore(db: Db): SecretStore {
  return registeringSecretStore(
    createSecretStore(db, createKeyring(new Map([['test1', randomBytes(32)]]), 'test1')),
    'api harness',
  );
}

export function buildApp(
  db: Db,
  temporal: Client,
  identities: Identities,
  extra: Partial<ApiDependencies> & { config?: ApiConfig; log?: Logger } = {},
) {
  const config = extra.config ?? testConfig();
  return composeApp({
    db,
    temporal,
    verifier: identities.verifier,
    secrets: testSecretStore(db),
    // Webhook hosts resolve through a table that knows only localhost: tests never look a name up.
    resolver: localhostOnlyResolver,
    ...extra,
    config,
    log: extra.log ?? createLogger('api-test', 'silent'),
  });
}

let counter = 0;
/** A unique service ID per call, so tests sharing the run's database never collide. */
export function uniqueServiceId(): string {
  counter += 1;
  return `bs-t${Date.now().toString(36)}${counter.toString(36)}${randomBytes(3).toString('hex')}`.slice(
    0,
    35,
  );
}

/** A complete ServiceState (draft, client secret, sandbox ready) with `changes` applied. */
export function serviceState(changes: Partial<ServiceState> & { ownerId: string }): ServiceState {
  const serviceId = changes.serviceId ?? uniqueServiceId();
  const now = new Date().toISOString();
  return {
    serviceId,
    registration: {
      name: 'Acme bulk export',
      description: 'Nightly export',
      contactEmail: 'ops@acme.example',
      authMethod: { type: 'client_secret' },
      scopes: {
        version: 'v2',
        rules: [{ resource: 'Patient', operations: ['read', 'search'] }],
        strings: ['system/Patient.rs'],
      },
      organizationId: null,
    },
    status: 'draft',
    revision: 1,
    rejection: null,
    approval: null,
    credentials: {
      state: 'valid',
      checkedAt: now,
      secret: { version: 1, fingerprint: 'abcdef01', createdAt: now },
      jwksReport: null,
      acceptedThumbprints: {},
    },
    sandbox: { revision: 1, state: 'ready', lastError: null },
    productionProvisioned: false,
    cleanup: null,
    submission: null,
    previousSubmission: null,
    createdAt: now,
    updatedAt: now,
    projectionVersion: 1,
    ...changes,
  };
}

/** Writes a service into the read model through the real projection activity. */
export async function seedService(db: Db, state: ServiceState): Promise<ServiceState> {
  await createProjectionActivities(db).projectService({
    state,
    history: {
      at: state.createdAt,
      actor: state.ownerId,
      action: 'create',
      from: null,
      to: state.status,
      reason: null,
      revision: state.revision,
    },
  });
  return state;
}

export const validRegistration = (overrides: Record<string, unknown> = {}) => ({
  name: 'Acme bulk export',
  description: 'Nightly bulk export of members',
  contactEmail: 'ops@acme.example',
  authMethod: { type: 'client_secret' },
  scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read', 'search'] }] },
  ...overrides,
});

export const jsonRequest = (
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit => ({
  method,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * The real API on a test system's real workflow: its database, Temporal client, task queue and
 * secret store, production's Organizations (OrgBAC on), the stand-ins as the Aidbox URLs shown to
 * developers, fast provisioning retries and a patient call timeout. `config` and `deps` override.
 */
export function systemApp(
  system: TestSystem,
  identities: Identities,
  options: { config?: Record<string, string>; deps?: Partial<ApiDependencies> } = {},
) {
  return createApp({
    config: testConfig({
      TEMPORAL_ADDRESS: system.temporalAddress,
      TEMPORAL_TASK_QUEUE: system.taskQueue,
      TEMPORAL_CALL_TIMEOUT_MS: '15000',
      SANDBOX_AIDBOX_PUBLIC_URL: system.standins.sandbox.url,
      PRODUCTION_AIDBOX_PUBLIC_URL: system.standins.production.url,
      PRODUCTION_ORGBAC: 'true',
      ...options.config,
    }),
    db: system.db,
    temporal: system.client,
    log: createLogger('api-test', 'silent'),
    verifier: identities.verifier,
    secrets: system.secretStore,
    organizations: aidboxOrganizationDirectory(system.aidbox.production),
    workflowRetry: FAST_RETRY,
    serviceChanges: system.serviceChanges,
    ...options.deps,
  });
}

/** The database and Temporal client of a route-level test file, closed when the file is done. */
export function routeTestResources(config: ApiConfig = testConfig()) {
  const db = createDb(config.DATABASE_URL, { poolSize: 4 });
  const temporal = createTemporalClient(config);
  afterAll(async () => {
    await db.destroy();
    await temporal.connection.close().catch(() => undefined);
  });
  return { config, db, temporal };
}
