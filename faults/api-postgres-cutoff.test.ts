import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../db/database.js';
import { startTcpProxy, targetOf, throughProxy, type TcpProxy } from '../test-support/tcp-proxy.js';
import { isProblem, startFaultApi, type Answer, type FaultApi } from '../test-support/faults/api.js';
import { eventually } from '../test-support/faults/checks.js';
import {
  driveLifecycle,
  planLifecycles,
  settled,
  waitForWorkflowState,
  type Lifecycle,
} from '../test-support/faults/lifecycles.js';
import { cuttableDb, startTestSystem, type TestSystem } from '../test-support/system.js';
import { expectReadModelAgrees } from '../test-support/faults/verify.js';
import { SOAK } from '../test-support/faults/worker-process.js';

/**
 * PostgreSQL cut off from the API alone (its pool goes through a TCP proxy; the worker keeps its
 * own connection, so workflows move on and project meanwhile): list and detail answer 503 with a
 * problem+json body and Retry-After while it is cut; after the restore they answer 200 again and
 * show exactly the workflow state the worker projected during the outage.
 */
const SERVICES = SOAK ? 16 : 4;
const CUT_MS = SOAK ? 15_000 : 3_000;

/** What a read must look like while the database is away; empty = as specified. */
export function unavailableProblems(what: string, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status !== 503) problems.push(`${what}: ${answer.status}, expected 503`);
  if (!isProblem(answer.headers.get('content-type'), answer.body, 503))
    problems.push(`${what}: not a problem+json body: ${answer.text.slice(0, 200)}`);
  if (!/^\d+$/.test(answer.headers.get('retry-after') ?? '')) problems.push(`${what}: no Retry-After`);
  return problems;
}

describe('fault: PostgreSQL cut off from the API (TCP proxy)', () => {
  let proxy: TcpProxy;
  let system: TestSystem;
  let apiDb: Db;
  let api: FaultApi;

  beforeAll(async () => {
    proxy = await startTcpProxy(targetOf(inject('databaseUrl')));
    system = await startTestSystem();
    apiDb = cuttableDb(throughProxy(inject('databaseUrl'), proxy), {
      poolSize: 5,
      connectionTimeoutMs: 1_000,
    });
    api = await startFaultApi(system, { db: apiDb });
  });
  afterAll(async () => {
    proxy?.restore();
    await system?.stop();
    await apiDb?.destroy();
    await proxy?.close();
  });

  const reads = (lifecycles: Lifecycle[]) => [
    '/v1/backend-services?limit=100',
    ...lifecycles.map((l) => `/v1/backend-services/${l.serviceId}`),
  ];

  it(
    `${SERVICES} services, the API's database cut for ${CUT_MS / 1000} s while they move: 503 + Retry-After, then 200 and the workflow's state`,
    async () => {
      // Services created through the API while the database is there.
      const lifecycles = planLifecycles(SERVICES).map((l) => ({ ...l, plan: 'active' as const }));
      for (const l of lifecycles) {
        const created = await api.call('POST', '/v1/backend-services', 'alice', {
          name: 'Cut-off service',
          contactEmail: 'ops@acme.example',
          authMethod: { type: 'client_secret' },
          scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read'] }] },
        });
        expect(created.status).toBe(201);
        l.serviceId = (created.body as { id: string }).id;
      }
      for (const path of reads(lifecycles)) expect((await api.call('GET', path, 'alice')).status).toBe(200);
      const seenBefore = proxy.connectionsSeen;
      expect(seenBefore, 'the API reached PostgreSQL through the proxy').toBeGreaterThan(0);

      proxy.cut();
      // Workflows move on (straight to Temporal) while the API cannot read: its read model changes under it.
      const drivers = Promise.all(lifecycles.map((l) => driveLifecycle(system.client, l, 60_000)));
      const problems: string[] = [];
      const cutUntil = Date.now() + CUT_MS;
      let cutReads = 0;
      while (Date.now() < cutUntil) {
        for (const path of reads(lifecycles)) {
          problems.push(...unavailableProblems(`GET ${path}`, await api.call('GET', path, 'alice')));
          cutReads += 1;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(problems).toEqual([]);
      expect(cutReads).toBeGreaterThan(reads(lifecycles).length);
      // Control: the same reads on the database itself (not through the proxy) answer 200 meanwhile,
      // so the 503s are the cut's doing, not the requests'.
      const direct = await startFaultApi(system);
      for (const path of reads(lifecycles))
        expect((await direct.call('GET', path, 'alice')).status).toBe(200);

      proxy.restore();
      await drivers;
      await Promise.all(
        lifecycles.map((l) => waitForWorkflowState(system.client, l.serviceId, settled(l.plan))),
      );
      // Recovered: 200 again, and the read model equals the workflow state for every service.
      expect(
        await eventually(async () => {
          const found: string[] = [];
          for (const path of reads(lifecycles)) {
            const answer = await api.call('GET', path, 'alice');
            if (answer.status !== 200) found.push(`GET ${path}: ${answer.status}`);
          }
          return found;
        }),
      ).toEqual([]);
      const states = await expectReadModelAgrees(system, lifecycles);
      for (const l of lifecycles) {
        const detail = await api.call('GET', `/v1/backend-services/${l.serviceId}`, 'alice');
        const state = states.get(l.serviceId)!;
        expect(detail.body).toMatchObject({
          id: l.serviceId,
          status: state.status,
          revision: state.revision,
        });
        expect(detail.headers.get('etag')).toBe(`"${state.revision}"`);
      }
      expect(api.answers.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
    },
    SOAK ? 600_000 : 150_000,
  );

  it('negative control: the 503 check names a 500, a 503 without a problem body and one without Retry-After', () => {
    const answer = (status: number, contentType: string, body: unknown, retryAfter?: string): Answer => ({
      status,
      headers: new Headers({
        'content-type': contentType,
        ...(retryAfter ? { 'retry-after': retryAfter } : {}),
      }),
      body,
      text: JSON.stringify(body),
    });
    const problem = { type: '/problems/service-unavailable', title: 't', status: 503, detail: 'd' };
    expect(unavailableProblems('ok', answer(503, 'application/problem+json', problem, '5'))).toEqual([]);
    expect(
      unavailableProblems('a', answer(500, 'application/problem+json', { ...problem, status: 500 }, '5')),
    ).toHaveLength(2);
    expect(unavailableProblems('b', answer(503, 'text/plain', 'down', '5'))).toHaveLength(1);
    expect(unavailableProblems('c', answer(503, 'application/problem+json', problem))).toEqual([
      'c: no Retry-After',
    ]);
  });
});
