import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevelopmentIssuer, type LocalIssuer } from '../api/auth/local-issuer.js';
import type { PresentedService } from '../api/services/present.js';
import { validRegistration } from '../test-support/api-harness.js';
import { dropDatabase } from '../db/migrate.js';
import { startTopology, type Topology } from '../platform/cluster-topology.js';
import { freePort } from '../platform/ports.js';
import { resolveTemporalCli } from '../platform/temporal-cli.js';
import { postgresSchemaDir, resolveClusterBinaries } from '../platform/temporal-cluster-binaries.js';
import { postgresFromUrl } from '../platform/temporal-cluster-config.js';
import { startKeyServer, type TestKeyServer } from '../test-support/key-server.js';
import { describeErrorChain } from '../test-support/error-chain.js';
import { descendantsOf, isAlive } from '../test-support/processes.js';
import { testDatabaseUrl } from '../test-support/database-url.js';
import { fhirGet, tokenWithAssertion, tokenWithSecret } from '../test-support/services.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import { workflowIdOf } from '../workflows/backend-service/messages.js';

/**
 * The production topology on this machine (`npm run test:cluster`, what `npm run cluster` runs,
 * platform/cluster-topology.ts): four Temporal server processes on PostgreSQL with mTLS and JWT
 * authorization, the read-only Web UI, two workers, two APIs and the stand-ins, on databases of its
 * own; driven through HTTP and Temporal's frontend, processes killed with SIGKILL as a crash would.
 */
type Service = PresentedService & { clientSecret?: string | null };
const run = `${process.pid}_${Date.now().toString(36)}`;
const [owner, admin] = [`alice-${run}`, `ada-${run}`];
const TOKEN_TTL_SECONDS = 60;

describe('the production topology (npm run cluster) on one machine', () => {
  let topology: Topology;
  let dataDir: string;
  let databaseUrl: string;
  let temporalDatabase: string;
  let users: LocalIssuer;
  let keys: TestKeyServer;
  const logs: Record<string, string[]> = {};
  const logFile = path.resolve('test-results', 'cluster', `topology-${run}.log`);
  const ids: Record<string, string> = {};
  let firstTokens: Record<'api' | 'worker', string>;

  beforeAll(async () => {
    const started = Date.now();
    mkdirSync(path.dirname(logFile), { recursive: true });
    const binaries = await resolveClusterBinaries(process.env, () => undefined);
    const cli = await resolveTemporalCli(process.env, () => undefined);
    if (cli.type !== 'path') throw new Error('the cluster tests need a Temporal CLI binary');
    dataDir = mkdtempSync(path.join(tmpdir(), 'bs-cluster-'));
    databaseUrl = testDatabaseUrl(`bs_cluster_${run}`);
    temporalDatabase = `temporal_ct_${run}`;
    const bundlePath = path.join(dataDir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await bundleWorkflows()).code);
    topology = await startTopology({
      binaries,
      cli: cli.path,
      schemaDir: postgresSchemaDir(),
      dir: path.join(dataDir, 'cluster'),
      issuerDir: dataDir,
      dataDir,
      postgres: postgresFromUrl(databaseUrl),
      databaseUrl,
      temporalDatabase,
      namespace: 'default',
      taskQueue: 'backend-services',
      apiPorts: [await freePort(), await freePort()],
      standinPorts: [await freePort(), await freePort()],
      workflowBundlePath: bundlePath,
      // Short-lived Temporal tokens, renewed every 30 s and re-read by the processes every 5 s: the
      // suite outlives the first ones, so every later call proves the renewal.
      tokenTtlSeconds: TOKEN_TTL_SECONDS,
      appEnv: { TEMPORAL_API_KEY_REFRESH_SECONDS: '5' },
      output: (name, line) => {
        (logs[name] ??= []).push(line);
        appendFileSync(logFile, `[${name}] ${line}\n`);
      },
      onUnexpectedExit: (name, code, signal) =>
        appendFileSync(logFile, `UNEXPECTED EXIT ${name} ${signal ?? code}\n`),
    });
    users = await loadOrCreateDevelopmentIssuer(dataDir, { audience: 'backend-services-api' });
    firstTokens = {
      api: readFileSync(topology.temporal.tokenFiles.api, 'utf8'),
      worker: readFileSync(topology.temporal.tokenFiles.worker, 'utf8'),
    };
    keys = await startKeyServer();
    appendFileSync(logFile, `topology up in ${Date.now() - started} ms\n`);
  });

  afterAll(async () => {
    await keys?.close();
    const root = process.pid;
    await topology?.stop();
    // Ctrl-C's promise: nothing of the topology is left running.
    const left = descendantsOf(root).filter(isAlive);
    if (databaseUrl) {
      await dropDatabase(databaseUrl).catch(() => undefined);
      for (const name of [temporalDatabase, `${temporalDatabase}_visibility`])
        await dropDatabase(testDatabaseUrl(name)).catch(() => undefined);
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  const bearer = async (subject: string, roles: string[]) => ({
    authorization: `Bearer ${await users.sign(subject, roles, { expiresInSeconds: 3600 })}`,
  });
  async function call(api: 0 | 1, method: string, url: string, who: string, body?: unknown) {
    const roles = who === admin ? ['admin'] : ['developer'];
    const response = await fetch(`${topology.apiUrls[api]}${url}`, {
      method,
      headers: {
        ...(await bearer(who, roles)),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : null) as Service & Record<string, unknown>,
    };
  }
  async function until(api: 0 | 1, id: string, predicate: (s: Service) => boolean, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await call(api, 'GET', `/v1/backend-services/${id}`, owner);
      if (predicate(body)) return body;
      if (Date.now() > deadline)
        throw new Error(
          `service ${id} never reached the expected state: ${JSON.stringify(body).slice(0, 500)}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  async function approve(api: 0 | 1, id: string) {
    const policies = await call(api, 'GET', `/v1/admin/backend-services/${id}/production-policies`, admin);
    expect(policies.status).toBe(200);
    const approved = await call(api, 'POST', `/v1/admin/backend-services/${id}/approve`, admin, {
      revision: policies.body.revision,
      policyHash: policies.body.policyHash,
    });
    expect(approved.status).toBe(202);
  }
  /** Registers (on `api`), reads it back there at once, and submits. */
  async function registeredAndSubmitted(api: 0 | 1, overrides: Record<string, unknown> = {}) {
    const created = await call(
      api,
      'POST',
      '/v1/backend-services',
      owner,
      // Production runs OrgBAC: every service names its Organization.
      validRegistration({ organizationId: 'org-payer-a', ...overrides }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const read = await call(api, 'GET', `/v1/backend-services/${id}`, owner);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id, status: 'draft' });
    await until(api, id, (s) => s.environments.sandbox !== null);
    const submitted = await call(api, 'POST', `/v1/backend-services/${id}/submit`, owner);
    expect(submitted.status).toBe(200);
    return { id, secret: created.body.clientSecret ?? undefined };
  }
  const base = (tokenUrl: string) => tokenUrl.replace(/\/auth\/token$/, '');
  /** `PUT /fhir/<type>/<id> 201` lines of the production stand-in: creations. */
  const creations = (pattern: RegExp) =>
    (logs['aidbox-production'] ?? []).filter(
      (line) => /^PUT \/fhir\/(Client|AccessPolicy)\/\S+ 201 /.test(line) && pattern.test(line),
    );

  it('client secret: registered on API 1 (read there at once), approved on API 2, used in production', async () => {
    const { id, secret } = await registeredAndSubmitted(0, { organizationId: 'org-payer-a' });
    ids.secret = id;
    await approve(1, id);
    const active = await until(1, id, (s) => s.status === 'active');
    const production = active.environments.production!;
    const response = await tokenWithSecret(base(production.tokenUrl), id, secret!, 'system/Patient.rs');
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    expect((await fhirGet(production.fhirBaseUrl, '/Patient', access_token)).status).toBe(200);
    // API 1 sees API 2's approval.
    expect((await call(0, 'GET', `/v1/backend-services/${id}`, owner)).body.status).toBe('active');
  });

  it('JWKS: registered on API 2 (read there at once), approved on API 1, assertion accepted in production', async () => {
    const { id } = await registeredAndSubmitted(1, {
      organizationId: 'org-payer-b',
      authMethod: { type: 'jwks_uri', jwksUri: keys.jwksUri },
    });
    ids.jwks = id;
    await approve(0, id);
    const active = await until(0, id, (s) => s.status === 'active');
    const production = active.environments.production!;
    const response = await tokenWithAssertion(
      base(production.tokenUrl),
      await keys.assertion(id, production.tokenUrl),
      'system/Patient.rs',
    );
    expect(response.status).toBe(200);
    expect((await call(1, 'GET', `/v1/backend-services/${id}`, owner)).body.status).toBe('active');
  });

  it('history SIGKILLed mid-approval and restarted: the service becomes active, production got one Client and each policy once', async () => {
    const { id } = await registeredAndSubmitted(0);
    ids.history = id;
    await approve(0, id);
    const mark = (logs['aidbox-production'] ?? []).length;
    await topology.temporal.processes.history.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    topology.temporal.processes.history.start();
    await until(1, id, (s) => s.status === 'active', 150_000);
    const created = creations(new RegExp(id));
    expect(created.filter((l) => l.startsWith('PUT /fhir/Client/'))).toHaveLength(1);
    const policies = created
      .filter((l) => l.startsWith('PUT /fhir/AccessPolicy/'))
      .map((l) => l.split(' ')[1]);
    expect(policies.length).toBeGreaterThan(0);
    expect(new Set(policies).size).toBe(policies.length);
    // Mid-approval indeed: production got part of it (at least) after history was killed.
    const after = (logs['aidbox-production'] ?? []).slice(mark).filter((l) => l.includes(id));
    expect(after.length).toBeGreaterThan(0);
  });

  it('one worker SIGKILLed and not restarted: the other one finishes the approval', async () => {
    const { id } = await registeredAndSubmitted(1);
    await approve(1, id);
    await topology.workers[0].kill('SIGKILL');
    await until(0, id, (s) => s.status === 'active', 150_000);
    expect(creations(new RegExp(id)).filter((l) => l.startsWith('PUT /fhir/Client/'))).toHaveLength(1);
  });

  it('matching restarted: the next service is registered, submitted, approved and deactivated', async () => {
    await topology.temporal.processes.matching.kill('SIGKILL');
    topology.temporal.processes.matching.start();
    const { id } = await registeredAndSubmitted(0);
    await approve(1, id);
    await until(0, id, (s) => s.status === 'active', 150_000);
    const deactivated = await call(1, 'POST', `/v1/admin/backend-services/${id}/deactivate`, admin, {
      reason: 'Contract ended',
    });
    expect(deactivated.status).toBe(200);
    expect((await call(0, 'GET', `/v1/backend-services/${id}`, owner)).body.status).toBe('rejected');
  });

  it('refuses a client without a certificate, even with a write token', async () => {
    const token = await topology.temporal.mint(['default:write']);
    await expect(topology.temporal.connect({ cert: null, token })).rejects.toThrow();
  });

  it('refuses an update from a client with a certificate but a read-only token; the same client reads', async () => {
    const token = await topology.temporal.mint(['default:read'], 'operator-ro');
    const connection = await topology.temporal.connect({ cert: 'ui', token });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const handle = client.workflow.getHandle(workflowIdOf(ids.secret!));
      expect((await handle.describe()).status.name).toBe('RUNNING');
      const error = await handle
        .executeUpdate('deactivate', { args: [{ reason: 'read-only operator', actor: 'x' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeDefined();
      expect(error).not.toBeInstanceOf(WorkflowUpdateFailedError);
      expect(describeErrorChain(error)).toMatch(/PermissionDenied|PERMISSION_DENIED|Request unauthorized/);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await connection.close();
    }
  });

  it('shows the workflow in the Web UI, which is read-only and whose terminate is refused by the server', async () => {
    const workflowId = workflowIdOf(ids.jwks!);
    const ui = topology.temporal.uiUrl;
    const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as Record<string, unknown>;
    expect(settings.DisableWriteActions).toBe(true);
    const shown = await fetch(`${ui}/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
    expect(shown.status).toBe(200);
    expect(JSON.stringify(await shown.json())).toContain(workflowId);
    const terminate = await fetch(
      `${ui}/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}/terminate`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'ui' }),
      },
    );
    // The UI server refuses every write while write actions are off (405), buttons or not.
    expect(terminate.status).toBe(405);
    // Behind it, the UI's own identity (`default:read`) could not terminate at the frontend either.
    const uiToken = readFileSync(topology.temporal.tokenFiles.ui, 'utf8').trim();
    const connection = await topology.temporal.connect({ cert: 'ui', token: uiToken });
    try {
      const handle = new Client({ connection, namespace: 'default' }).workflow.getHandle(workflowId);
      const refused = await handle.terminate('through the UI identity').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(describeErrorChain(refused)).toMatch(/PermissionDenied|PERMISSION_DENIED|Request unauthorized/);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await connection.close();
    }
    // Without the identity proxy the UI server reaches the frontend with its certificate only: refused.
    const bare = await fetch(
      `${topology.temporal.uiServerUrl}/api/v1/namespaces/default/workflows/${encodeURIComponent(workflowId)}`,
    );
    expect(bare.ok).toBe(false);
    expect((await call(0, 'GET', `/v1/backend-services/${ids.jwks}`, owner)).body.status).toBe('active');
  });

  it("returns the right workflows for the README's search-attribute filters (PostgreSQL visibility)", async () => {
    const token = await topology.temporal.mint(['default:read'], 'operator-ro');
    const connection = await topology.temporal.connect({ cert: 'ui', token });
    const client = new Client({ connection, namespace: 'default' });
    const draft = (
      await call(
        1,
        'POST',
        '/v1/backend-services',
        owner,
        validRegistration({ organizationId: 'org-payer-a' }),
      )
    ).body.id;
    const list = async (query: string) => {
      const found: string[] = [];
      for await (const execution of client.workflow.list({ query })) found.push(execution.workflowId);
      return found;
    };
    const ownerFilter = `BackendServiceOwner = '${owner}'`;
    const expectations: Array<[string, string[], string[]]> = [
      [`WorkflowId = '${workflowIdOf(ids.secret!)}'`, [ids.secret!], [ids.jwks!]],
      [`${ownerFilter} AND BackendServiceStatus = 'active'`, [ids.secret!, ids.jwks!, ids.history!], [draft]],
      [`${ownerFilter} AND BackendServiceStatus = 'draft'`, [draft], [ids.secret!]],
      [`${ownerFilter} AND BackendServiceOrganization = 'org-payer-b'`, [ids.jwks!], [ids.secret!, draft]],
      [`${ownerFilter} AND BackendServiceAuthMethod = 'jwks_uri'`, [ids.jwks!], [ids.secret!]],
      [
        `${ownerFilter} AND BackendServiceStatus = 'active' AND BackendServiceSubmittedAt < '2999-01-01T00:00:00Z'`,
        [ids.secret!, ids.jwks!],
        [draft],
      ],
    ];
    try {
      for (const [query, present, absent] of expectations) {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const found = await list(query);
          const ok =
            present.every((id) => found.includes(workflowIdOf(id))) &&
            absent.every((id) => !found.includes(workflowIdOf(id)));
          if (ok) break;
          if (Date.now() > deadline) throw new Error(`${query}: found ${found.join(', ')}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } finally {
      await connection.close();
    }
  });

  it("renews the processes' tokens before they expire: after the first ones expired, the APIs and workers still work", async () => {
    const { exp } = JSON.parse(Buffer.from(firstTokens.api.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    const wait = exp * 1000 + 2_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    expect(readFileSync(topology.temporal.tokenFiles.api, 'utf8')).not.toBe(firstTokens.api);
    expect(readFileSync(topology.temporal.tokenFiles.worker, 'utf8')).not.toBe(firstTokens.worker);
    // A start (API 2's connection) and the sandbox provisioning (the remaining worker's) after expiry.
    const created = await call(
      1,
      'POST',
      '/v1/backend-services',
      owner,
      validRegistration({ organizationId: 'org-payer-a' }),
    );
    expect(created.status).toBe(201);
    await until(0, created.body.id, (s) => s.environments.sandbox !== null);
    // The expired token itself is refused by the frontend.
    const stale = await topology.temporal
      .connect({ cert: 'api', token: firstTokens.api.trim() })
      .then(async (connection) => {
        try {
          await new Client({ connection, namespace: 'default' }).workflow
            .getHandle(workflowIdOf(ids.secret!))
            .describe();
          return undefined;
        } finally {
          await connection.close();
        }
      })
      .catch((e: unknown) => e);
    expect(describeErrorChain(stale)).toMatch(/expired|PermissionDenied|PERMISSION_DENIED|Unauthenticated/i);
  });
});
