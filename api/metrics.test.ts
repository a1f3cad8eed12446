import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../platform/logger.js';
import { startMetricsServer, type MetricsServer } from '../platform/metrics-server.js';
import { freePort } from '../platform/ports.js';
import { FAST_RETRY } from '../test-support/services.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import { spawnWorkerProcess } from '../test-support/worker-process.js';
import { SDK_METRICS_USED } from '../worker/telemetry.js';
import { createApp } from './app.js';
import { createApiMetrics, type ApiMetrics } from './metrics.js';
import { aidboxOrganizationDirectory } from './organizations.js';
import {
  createIdentities,
  jsonRequest,
  testConfig,
  validRegistration,
  type Identities,
} from '../test-support/api-harness.js';

/**
 * Operators' metrics on the real system: the API's prom-client registry behind its own listener,
 * and a worker process (Runtime.install is once per process) whose SDK endpoint carries the
 * Temporal SDK's metrics and the business metrics recorded by the activities.
 */

/** The fields of the API's answers these tests read. */
interface Answer {
  id: string;
  status: string;
  revision: number;
  policyHash: string;
  approval?: { lastError: unknown } | null;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, one sample per line (comments skipped). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[m[1]!] = m[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

const matches = (sample: Sample, name: string, labels: Record<string, string>) =>
  sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v);

/** Sum of the samples of `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => matches(s, name, labels)).reduce((sum, s) => sum + s.value, 0);
}

const seriesKey = (s: Sample) =>
  `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}}`;

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return parseMetrics(await response.text());
}

describe('metrics after a lifecycle through the API', () => {
  let system: TestSystem;
  let worker: ChildProcess;
  let ids: Identities;
  let metrics: ApiMetrics;
  let apiMetrics: MetricsServer;
  let app: ReturnType<typeof createApp>;
  let workerMetricsUrl: string;
  const taskQueue = `metrics-${randomUUID()}`;
  const headers: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    const secretKey = randomBytes(32);
    system = await startTestSystem({ withWorker: false, secretKey });
    const workerPort = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${workerPort}/metrics`;
    worker = await spawnWorkerProcess({
      taskQueue,
      secretKey,
      environments: system.environments,
      env: { METRICS_HOST: '127.0.0.1', WORKER_METRICS_PORT: String(workerPort) },
    });
    ids = await createIdentities();
    const config = testConfig({
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_CALL_TIMEOUT_MS: '15000',
      SANDBOX_AIDBOX_PUBLIC_URL: system.standins.sandbox.url,
      PRODUCTION_AIDBOX_PUBLIC_URL: system.standins.production.url,
      PRODUCTION_ORGBAC: 'true',
    });
    const log = createLogger('api', 'silent');
    metrics = createApiMetrics({ db: system.db, log, defaultMetrics: false });
    app = createApp({
      config,
      db: system.db,
      temporal: system.client,
      log,
      metrics,
      verifier: ids.verifier,
      secrets: system.secretStore,
      organizations: aidboxOrganizationDirectory(system.aidbox.production),
      workflowRetry: FAST_RETRY,
    });
    apiMetrics = (await startMetricsServer(metrics, { host: '127.0.0.1', port: await freePort() }))!;
    headers.ada = await ids.bearer('ada', ['admin']);
  }, 120_000);

  afterAll(async () => {
    await apiMetrics?.close();
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await system?.stop();
  });

  async function call(method: string, path: string, who: string, body?: unknown) {
    headers[who] ??= await ids.bearer(who, ['developer']);
    const extra = { ...headers[who], 'Idempotency-Key': randomUUID() };
    const response = await app.request(
      path,
      body === undefined ? { method, headers: extra } : jsonRequest(method, body, extra),
    );
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Answer };
  }

  async function until(id: string, predicate: (s: Answer) => boolean, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await call('GET', `/v1/backend-services/${id}`, 'ada');
      if (predicate(body)) return body;
      if (Date.now() > deadline) throw new Error(`service ${id}: ${JSON.stringify(body).slice(0, 400)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Register (as `owner`), submit, approve; resolves once the approval ended (active or failed). */
  async function lifecycle(owner: string, beforeApprove: () => void = () => undefined) {
    const created = await call(
      'POST',
      '/v1/backend-services',
      owner,
      validRegistration({ organizationId: 'org-payer-a', contactEmail: `${owner}@acme.example` }),
    );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const submitted = await call('POST', `/v1/backend-services/${id}/submit`, owner);
    expect(submitted.status).toBe(200);
    const review = await call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'ada');
    beforeApprove();
    const approved = await call('POST', `/v1/admin/backend-services/${id}/approve`, 'ada', {
      revision: review.body.revision,
      policyHash: review.body.policyHash,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(202);
    return { id, approval: { revision: review.body.revision, policyHash: review.body.policyHash } };
  }

  it('shows the route histogram, the gauge, the SDK metrics and the business metrics', async () => {
    const { id, approval } = await lifecycle('olive');
    await until(id, (s) => s.status === 'active');

    const api = await scrape(apiMetrics.url);
    const create = { route: '/v1/backend-services', method: 'POST', status_class: '2xx' };
    expect(total(api, 'http_request_duration_seconds_count', create)).toBeGreaterThanOrEqual(1);
    expect(total(api, 'http_requests_total', create)).toBeGreaterThanOrEqual(1);
    expect(
      total(api, 'http_requests_total', { route: '/v1/backend-services/:id', method: 'GET' }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(api, 'backend_services', { status: 'active' })).toBeGreaterThanOrEqual(1);
    expect(api.filter((s) => s.name === 'backend_services')).toHaveLength(8);

    // A refusal on state alone: approving a service that is already active.
    const refused = await call('POST', `/v1/admin/backend-services/${id}/approve`, 'ada', approval);
    expect(refused.status).toBe(409);
    const afterRefusal = await scrape(apiMetrics.url);
    expect(
      total(afterRefusal, 'backend_service_command_refusals_total', { type: 'InvalidTransition' }),
    ).toBeGreaterThanOrEqual(1);

    const worker = await scrape(workerMetricsUrl);
    const names = new Set(worker.map((s) => s.name));
    // The Temporal SDK's own metrics, through the runtime's Prometheus exporter.
    // (Histograms show as <name>_bucket, _sum, _count.)
    const families = new Set([...names].map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    for (const name of SDK_METRICS_USED) expect(families, name).toContain(name);
    expect(
      total(worker, 'backend_service_provisioning_rounds_total', { environment: 'production' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      total(worker, 'backend_service_review_wait_seconds_count', { decision: 'approve' }),
    ).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it('counts a provisioning failure made by the stand-in faults', async () => {
    const before = total(await scrape(workerMetricsUrl), 'backend_service_provisioning_failures_total', {
      environment: 'production',
      kind: 'AidboxUnavailable',
    });
    try {
      // Production answers 503 to everything once the service is under review.
      const { id } = await lifecycle('oscar', () => system.standins.production.setFaults({ errorRate: 1 }));
      await until(id, (s) => s.approval?.lastError != null);
    } finally {
      system.standins.production.setFaults({ errorRate: 0 });
    }
    const after = total(await scrape(workerMetricsUrl), 'backend_service_provisioning_failures_total', {
      environment: 'production',
      kind: 'AidboxUnavailable',
    });
    expect(after).toBeGreaterThan(before);
  }, 60_000);

  it('keeps the number of series flat as 200 services are created, and no label names one', async () => {
    const seriesOf = async () => ({
      api: new Set((await scrape(apiMetrics.url)).map(seriesKey)),
      worker: new Set((await scrape(workerMetricsUrl)).map(seriesKey)),
    });
    const before = await seriesOf();

    const created: string[] = [];
    const owners = Array.from({ length: 200 }, (_, i) => `owner-${i}-${randomBytes(3).toString('hex')}`);
    for (let i = 0; i < owners.length; i += 10) {
      await Promise.all(
        owners.slice(i, i + 10).map(async (owner) => {
          const { status, body } = await call(
            'POST',
            '/v1/backend-services',
            owner,
            validRegistration({ organizationId: 'org-payer-b', contactEmail: `${owner}@acme.example` }),
          );
          expect(status).toBe(201);
          created.push(body.id as string);
          expect((await call('GET', `/v1/backend-services/${body.id}`, owner)).status).toBe(200);
        }),
      );
    }
    const after = await seriesOf();

    expect([...after.api].filter((k) => !before.api.has(k))).toEqual([]);
    // Business metrics gain no series; the SDK's may gain a few of their own (a new code path), not 200.
    const newWorkerSeries = [...after.worker].filter((k) => !before.worker.has(k));
    expect(newWorkerSeries.filter((k) => k.startsWith('backend_service'))).toEqual([]);
    expect(newWorkerSeries.length).toBeLessThan(20);

    const text = [...after.api, ...after.worker].join('\n');
    for (const forbidden of [
      ...created,
      ...owners,
      'acme.example',
      'org-payer-a',
      'org-payer-b',
      'olive',
      'oscar',
    ])
      expect(text, forbidden).not.toContain(forbidden);
  }, 240_000);
});
