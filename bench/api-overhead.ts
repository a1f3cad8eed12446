/**
 * bench:api-overhead — create, submit, approve and detail through the HTTP API (api/app.ts served
 * by @hono/node-server on 127.0.0.1, called with fetch and a bearer token) against the same
 * Temporal calls and SQL made directly (the workflow start and updates the API sends, the
 * read-model polls it makes for read-your-writes), sequential and 16 concurrent, on one worker and
 * dev server, measured in the same run. Target: median ratio HTTP / direct ≤ 1.5 per operation.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.js';
import { findService, waitForService } from '../api/services/read-model.js';
import { apiSchema, parseConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { registration } from '../test-support/services.js';
import { createWorker } from '../worker/create-worker.js';
import { bundleWorkflows } from '../worker/workflow-bundle.js';
import { approveUpdate, submitUpdate, workflowIdOf } from '../workflows/backend-service/messages.js';
import type { UpdateResult } from '../workflows/backend-service/inputs.js';
import { benchArgs } from '../test-support/bench/args.js';
import { withBenchEnvironment, type BenchEnvironment } from '../test-support/bench/environment.js';
import { printTable, printTargets, writeResults, type Target } from '../test-support/bench/report.js';
import { closedLoop, median, p99, round, since } from '../test-support/bench/stats.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, benchIdentity } from '../test-support/bench/identity.js';

const { quick, count } = benchArgs();
const LEVELS = [1, 16];
/** Lifecycles per mode and level; each gives one sample of each operation. */
const perLevel = (c: number) => count ?? (quick ? Math.max(8, c) : Math.max(40, 4 * c));
const OPERATIONS = ['create', 'submit', 'approve', 'detail'] as const;
type Operation = (typeof OPERATIONS)[number];
type Mode = 'http' | 'direct';
type Samples = Record<Operation, number[]>;
const DEADLINE_MS = 15_000;

interface Driver {
  create(): Promise<string>;
  submit(id: string): Promise<void>;
  approve(id: string, revision: number, policyHash: string): Promise<void>;
  detail(id: string): Promise<void>;
}

/** The API as an integrator meets it: HTTP on loopback, bearer tokens, JSON bodies. */
async function httpDriver(env: BenchEnvironment, taskQueue: string) {
  const { issuer, verifier } = await benchIdentity();
  const config = parseConfig(apiSchema, {
    APP_MODE: 'development',
    MAX_SERVICES_PER_OWNER: '100000',
    CREATE_RATE_PER_MINUTE: '100000',
    AUTH_DEV_ISSUER: 'false',
    AUTH_ISSUER: BENCH_ISSUER,
    AUTH_AUDIENCE: BENCH_AUDIENCE,
    DATABASE_URL: env.databaseUrl,
    TEMPORAL_ADDRESS: env.temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_CALL_TIMEOUT_MS: String(DEADLINE_MS),
    SANDBOX_AIDBOX_URL: env.standins.sandbox.url,
    PRODUCTION_AIDBOX_URL: env.standins.production.url,
    PRODUCTION_ORGBAC: 'false',
    LOG_LEVEL: 'silent',
    COMMAND_SIGNING_KEY: JSON.stringify(env.commandKeys.signingKey),
  });
  const app = createApp({
    config,
    db: env.db,
    temporal: env.client,
    log: createLogger('bench', 'silent'),
    verifier,
    secrets: env.deps.secretStore,
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const alice = {
    authorization: `Bearer ${await issuer.sign('alice', ['developer'], { expiresInSeconds: 7200 })}`,
  };
  const ada = { authorization: `Bearer ${await issuer.sign('ada', ['admin'], { expiresInSeconds: 7200 })}` };
  const call = async (
    method: string,
    path: string,
    headers: Record<string, string>,
    expected: number,
    body?: unknown,
  ) => {
    const response = await fetch(base + path, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'GET' ? {} : { 'idempotency-key': randomUUID() }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status !== expected)
      throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as { id: string };
  };
  const driver: Driver = {
    async create() {
      const created = await call('POST', '/v1/backend-services', alice, 201, {
        name: 'Acme bulk export',
        description: 'Nightly export for the care-gap report',
        contactEmail: 'ops@acme.example',
        authMethod: { type: 'client_secret' },
        scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read', 'search'] }] },
      });
      return created.id;
    },
    submit: async (id) => void (await call('POST', `/v1/backend-services/${id}/submit`, alice, 200)),
    approve: async (id, revision, policyHash) =>
      void (await call('POST', `/v1/admin/backend-services/${id}/approve`, ada, 202, {
        revision,
        policyHash,
      })),
    detail: async (id) => void (await call('GET', `/v1/backend-services/${id}`, alice, 200)),
  };
  return { driver, close: () => new Promise((r) => server.close(r)) };
}

/**
 * The same work without the API: the workflow start and updates it sends (same IDs, policies and
 * arguments), then the same read-model wait it does before answering, and the detail row.
 */
function directDriver(env: BenchEnvironment, taskQueue: string): Driver {
  const handle = (id: string) => env.client.workflow.getHandle(workflowIdOf(id));
  const projected = async (id: string, result: UpdateResult) => {
    const row = await waitForService(
      env.db,
      id,
      Date.now() + DEADLINE_MS,
      (r) => r.projectionVersion >= result.projectionVersion,
    );
    if (!row) throw new Error(`${id}: read model behind`);
  };
  return {
    async create() {
      const serviceId = `bs-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      await env.client.workflow.start('backendService', {
        workflowId: workflowIdOf(serviceId),
        taskQueue,
        args: [
          {
            serviceId,
            ownerId: 'alice',
            registration: registration({ type: 'client_secret' }),
            createdAt: new Date().toISOString(),
          },
        ],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      });
      const row = await waitForService(
        env.db,
        serviceId,
        Date.now() + DEADLINE_MS,
        (r) => r.state.credentials.secret !== null,
      );
      if (!row) throw new Error(`${serviceId}: not projected`);
      return serviceId;
    },
    async submit(id) {
      await findService(env.db, id); // the API loads the service to check ownership first
      await projected(
        id,
        await handle(id).executeUpdate(submitUpdate, {
          args: [{ actor: { sub: 'alice', roles: ['developer'] } }],
        }),
      );
    },
    async approve(id, revision, policyHash) {
      await findService(env.db, id);
      await projected(
        id,
        await handle(id).executeUpdate(approveUpdate, {
          args: [{ actor: { sub: 'ada', roles: ['admin'] }, revision, policyHash }],
        }),
      );
    },
    detail: async (id) => void (await findService(env.db, id)),
  };
}

async function lifecycle(env: BenchEnvironment, driver: Driver, samples: Samples): Promise<void> {
  let t = performance.now();
  const id = await driver.create();
  samples.create.push(since(t));
  t = performance.now();
  await driver.submit(id);
  samples.submit.push(since(t));
  // What the reviewer saw (not timed: the same for both modes).
  const submission = (await findService(env.db, id))!.state.submission!;
  t = performance.now();
  await driver.approve(id, submission.revision, submission.productionPolicies.policyHash);
  samples.approve.push(since(t));
  t = performance.now();
  await driver.detail(id);
  samples.detail.push(since(t));
}

const emptySamples = (): Samples => ({ create: [], submit: [], approve: [], detail: [] });

await withBenchEnvironment('api_overhead', { poolSize: 20 }, async (env) => {
  const taskQueue = `bench-api-${randomUUID()}`;
  const bundle = await bundleWorkflows();
  const worker = await createWorker({
    connection: await env.nativeConnection(),
    namespace: 'default',
    taskQueue,
    deps: env.deps,
    commandVerification: { keys: env.commandKeys.verifyKeys },
    workflowBundle: { code: bundle.code },
  });
  const running = worker.run();
  const http = await httpDriver(env, taskQueue);
  const drivers: Record<Mode, Driver> = { http: http.driver, direct: directDriver(env, taskQueue) };
  try {
    // Warm-up: JIT, pools, the worker's workflow cache, the HTTP keep-alive connections.
    for (const mode of ['direct', 'http'] as const)
      await closedLoop(6, 2, () => lifecycle(env, drivers[mode], emptySamples()));

    const rows = [];
    const targets: Target[] = [];
    const results = [];
    for (const concurrency of LEVELS) {
      const n = perLevel(concurrency);
      const samples: Record<Mode, Samples> = { http: emptySamples(), direct: emptySamples() };
      // Alternate the modes in halves so drift on a shared machine hits both alike.
      for (const half of [0, 1])
        for (const mode of half === 0 ? (['direct', 'http'] as const) : (['http', 'direct'] as const))
          await closedLoop(Math.ceil(n / 2), concurrency, () => lifecycle(env, drivers[mode], samples[mode]));
      for (const op of OPERATIONS) {
        const direct = samples.direct[op];
        const viaHttp = samples.http[op];
        const ratio = median(viaHttp) / median(direct);
        rows.push({
          concurrency,
          operation: op,
          n: viaHttp.length,
          'direct median ms': round(median(direct)),
          'direct p99 ms': round(p99(direct)),
          'HTTP median ms': round(median(viaHttp)),
          'HTTP p99 ms': round(p99(viaHttp)),
          'median ratio': round(ratio),
          'p99 ratio': round(p99(viaHttp) / p99(direct)),
        });
        const added = round(median(viaHttp) - median(direct));
        targets.push({
          name: `${op} at concurrency ${concurrency}: HTTP median ≤ 1.5 × direct`,
          met: ratio <= 1.5,
          detail: `${round(median(viaHttp))} vs ${round(median(direct))} ms = ×${round(ratio)} (+${added} ms: ${why(op, ratio)})`,
        });
        results.push({ concurrency, operation: op, direct, http: viaHttp, ratio });
      }
    }
    printTable(
      `API overhead: HTTP (Hono on 127.0.0.1, fetch) vs the same Temporal calls and SQL, lifecycles per mode: ${LEVELS.map(perLevel).join('/')}`,
      rows,
    );
    printTargets(targets);
    writeResults('api-overhead', {
      levels: LEVELS,
      perLevel: LEVELS.map(perLevel),
      results: results.map(({ direct, http: h, ...r }) => ({
        ...r,
        direct: { median: median(direct), p99: p99(direct), samples: direct },
        http: { median: median(h), p99: p99(h), samples: h },
      })),
      targets,
    });
  } finally {
    await http.close();
    worker.shutdown();
    await running;
  }
});

/** Where the added time goes, per operation (what the API does that the direct path does not). */
function why(op: Operation, ratio: number): string {
  const extra = {
    create: 'JWT check, validation, idempotency record (2 writes), secret read and presentation',
    submit: 'JWT check, idempotency record (2 writes), presentation',
    approve: 'JWT check, body validation, idempotency record (2 writes), presentation',
    detail: 'JWT check, HTTP round trip and presentation around a ~1 ms primary-key read',
  }[op];
  return ratio <= 1.5 ? `within budget; ${extra}` : `over budget; ${extra}`;
}
