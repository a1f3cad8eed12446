import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { TRACE_HEADER as PACKAGE_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../api/app.js';
import { aidboxOrganizationDirectory } from '../api/organizations.js';
import { createIdentities, jsonRequest, testConfig, validRegistration } from '../test-support/api-harness.js';
import { FAST_RETRY } from '../test-support/services.js';
import { TRACE_HEADER } from '../workflows/trace-header.js';
import { startTestSystem, type TestSystem } from '../test-support/system.js';
import { spawnWorkerProcess } from '../test-support/worker-process.js';
import { createLogger } from './logger.js';
import { createTemporalClient } from './temporal-connection.js';
import { startTracing, type Tracing } from './tracing.js';

/**
 * One request, one trace: the API's server span, the Temporal client's start or update, the
 * workflow's spans, the activity and its Aidbox call, exported over OTLP/HTTP (JSON) by the test
 * process (the API) and a worker process to a receiver in this test on 127.0.0.1.
 */

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
}

interface OtlpJson {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans?: Array<{
      spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string }>;
    }>;
  }>;
}

async function startReceiver(): Promise<{
  url: string;
  spans: ReceivedSpan[];
  posts: number;
  close(): Promise<void>;
}> {
  const state = { spans: [] as ReceivedSpan[], posts: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.posts += 1;
      if (req.url === '/v1/traces' && String(req.headers['content-type']).includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as OtlpJson;
        for (const rs of body.resourceSpans ?? []) {
          const service =
            rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              state.spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                service,
              });
        }
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: state.spans,
    get posts() {
      return state.posts;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('tracing off', () => {
  it("tells traced messages by the OpenTelemetry interceptors' own header (the workflow loads OpenTelemetry only then)", () => {
    expect(TRACE_HEADER).toBe(PACKAGE_TRACE_HEADER);
  });

  it('starts no SDK and creates no exporter when OTEL_EXPORTER_OTLP_ENDPOINT is unset', async () => {
    expect(await startTracing({}, 'backend-services-api')).toBeNull();
    // No tracer provider was registered: spans are the API's non-recording defaults.
    const span = trace.getTracer('check').startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    span.end();
  });
});

describe('one trace per request', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tracing: Tracing;
  let system: TestSystem;
  let worker: ChildProcess;
  let app: ReturnType<typeof createApp>;
  let headers: Record<string, Record<string, string>>;
  const taskQueue = `tracing-${randomUUID()}`;

  beforeAll(async () => {
    receiver = await startReceiver();
    tracing = (await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, 'backend-services-api'))!;
    const secretKey = randomBytes(32);
    system = await startTestSystem({ withWorker: false, secretKey });
    worker = await spawnWorkerProcess({
      taskQueue,
      secretKey,
      environments: system.environments,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    });
    const ids = await createIdentities();
    const config = testConfig({
      TEMPORAL_TASK_QUEUE: taskQueue,
      TEMPORAL_CALL_TIMEOUT_MS: '15000',
      SANDBOX_AIDBOX_PUBLIC_URL: system.standins.sandbox.url,
      PRODUCTION_AIDBOX_PUBLIC_URL: system.standins.production.url,
      PRODUCTION_ORGBAC: 'true',
    });
    const temporal = createTemporalClient(config, { interceptors: tracing.clientInterceptors });
    app = createApp({
      config,
      db: system.db,
      temporal,
      log: createLogger('api', 'silent'),
      tracing: true,
      verifier: ids.verifier,
      secrets: system.secretStore,
      organizations: aidboxOrganizationDirectory(system.aidbox.production),
      workflowRetry: FAST_RETRY,
    });
    headers = { alice: await ids.bearer('alice', ['developer']), ada: await ids.bearer('ada', ['admin']) };
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await tracing?.shutdown();
    await system?.stop();
    await receiver?.close();
  });

  async function call(method: string, path: string, who: 'alice' | 'ada', body?: unknown) {
    const extra = { ...headers[who], 'Idempotency-Key': randomUUID() };
    const response = await app.request(
      path,
      body === undefined ? { method, headers: extra } : jsonRequest(method, body, extra),
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** The chain of span names from `span` up to its root; throws when a parent is missing. */
  function chainOf(span: ReceivedSpan, spans: ReceivedSpan[]): string[] {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const chain = [span.name];
    let current = span;
    while (current.parentSpanId) {
      const parent = byId.get(current.parentSpanId);
      if (!parent) throw new Error(`parent of ${current.name} missing; chain so far ${chain.join(' < ')}`);
      chain.push(parent.name);
      current = parent;
    }
    return chain;
  }

  /** Waits until the trace of the server span `rootName` has a span below `activity` calling Aidbox. */
  async function traceOf(rootName: string, activity: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await tracing.spanProcessor.forceFlush();
      const root = receiver.spans.find((s) => s.name === rootName && !s.parentSpanId);
      const spans = root ? receiver.spans.filter((s) => s.traceId === root.traceId) : [];
      const leaf = spans.find((s) => {
        if (s.service !== 'backend-services-worker' || !/^(GET|PUT|PATCH|POST|DELETE)$/.test(s.name))
          return false;
        try {
          return chainOf(s, spans).includes(`RunActivity:${activity}`);
        } catch {
          return false;
        }
      });
      if (root && leaf) return { root, spans, chain: chainOf(leaf, spans) };
      if (Date.now() > deadline)
        throw new Error(
          `no complete trace for ${rootName}: ${spans.map((s) => `${s.name}(${s.spanId}<${s.parentSpanId})`).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('create: API, the workflow start, the workflow, the activity and the sandbox Aidbox call', async () => {
    const created = await call(
      'POST',
      '/v1/backend-services',
      'alice',
      validRegistration({ organizationId: 'org-payer-a' }),
    );
    expect(created.status).toBe(201);
    const { chain, spans } = await traceOf('POST /v1/backend-services', 'upsertClient');
    expect(chain).toEqual([
      expect.stringMatching(/^(GET|PUT|PATCH|POST)$/),
      'RunActivity:upsertClient',
      'StartActivity:upsertClient',
      'RunWorkflow:backendService',
      'StartWorkflow:backendService',
      'POST /v1/backend-services',
    ]);
    expect(new Set(spans.map((s) => s.service))).toEqual(
      new Set(['backend-services-api', 'backend-services-worker']),
    );
  }, 60_000);

  it('approve: API, the Temporal update, its handler, the job activity and the production Aidbox call', async () => {
    const created = await call(
      'POST',
      '/v1/backend-services',
      'alice',
      validRegistration({ organizationId: 'org-payer-a' }),
    );
    const id = created.body.id as string;
    expect((await call('POST', `/v1/backend-services/${id}/submit`, 'alice')).status).toBe(200);
    const review = await call('GET', `/v1/admin/backend-services/${id}/production-policies`, 'ada');
    const approved = await call('POST', `/v1/admin/backend-services/${id}/approve`, 'ada', {
      revision: review.body.revision,
      policyHash: review.body.policyHash,
    });
    expect(approved.status).toBe(202);
    const { chain } = await traceOf('POST /v1/admin/backend-services/:id/approve', 'setClientActive');
    expect(chain.slice(1)).toEqual([
      'RunActivity:setClientActive',
      'StartActivity:setClientActive',
      'HandleUpdate:approve',
      'StartWorkflowUpdate:approve',
      'POST /v1/admin/backend-services/:id/approve',
    ]);
  }, 60_000);

  it("puts the request's trace ID on its log lines", () => {
    const lines: string[] = [];
    const log = createLogger(
      'api',
      'info',
      new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    );
    const span = trace.getTracer('check').startActiveSpan('request', (s) => {
      log.info('inside');
      s.end();
      return s;
    });
    log.info('outside');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      trace_id: span.spanContext().traceId,
      span_id: span.spanContext().spanId,
    });
    expect(JSON.parse(lines[1]!).trace_id).toBeUndefined();
  });
});
