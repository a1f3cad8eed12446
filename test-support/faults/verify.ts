import { sql } from 'kysely';
import { expect } from 'vitest';
import type { ServiceState } from '../../workflows/backend-service/service-state.js';
import {
  checkAidboxes,
  checkExecutions,
  checkHistory,
  checkReadModel,
  eventually,
  policiesLinkedTo,
  workflowStates,
} from './checks.js';
import { settled, waitForWorkflowState, type Lifecycle } from './lifecycles.js';
import type { TestSystem } from '../system.js';

/**
 * After a fault: every lifecycle settles where its plan sent it, then the read model, the history,
 * both Aidboxes and Temporal's executions must agree with it. Returns the workflow states.
 */
export async function expectAllSettledAndConsistent(
  system: TestSystem,
  lifecycles: Lifecycle[],
  timeoutMs = 120_000,
): Promise<Map<string, ServiceState>> {
  await Promise.all(
    lifecycles.map((l) => waitForWorkflowState(system.client, l.serviceId, settled(l.plan), timeoutMs)),
  );
  const states = await expectReadModelAgrees(system, lifecycles);
  expect(await checkHistory(system.db, lifecycles)).toEqual([]);
  expect(checkAidboxes(system.standins, lifecycles, states, system.standinLogLines)).toEqual([]);
  expect(await checkExecutions(system.client, lifecycles)).toEqual([]);
  return states;
}

/** The read model equals the workflow's state for every lifecycle. Returns the workflow states. */
export async function expectReadModelAgrees(
  system: TestSystem,
  lifecycles: Lifecycle[],
): Promise<Map<string, ServiceState>> {
  let states = await workflowStates(system.client, lifecycles);
  // The last projection may still be on its way after the state the query saw, and a settled
  // workflow may still take a last bookkeeping step (a newer state): ask both again each round.
  expect(
    await eventually(async () => {
      states = await workflowStates(system.client, lifecycles);
      return checkReadModel(system.db, lifecycles, states);
    }),
  ).toEqual([]);
  return states;
}

/**
 * Negative controls: plant each kind of fault the checks exist for into the real end state and
 * show the check names it, then take it away again (the checks pass once more).
 */
export async function expectChecksCatchPlantedFaults(
  system: TestSystem,
  lifecycles: Lifecycle[],
  states: Map<string, ServiceState>,
): Promise<void> {
  const active = lifecycles.find((l) => l.plan === 'active')!;
  const production = system.standins.production;

  // A duplicate policy (what a non-idempotent retry of applyPolicies would leave).
  const [policyId] = policiesLinkedTo(production, active.serviceId);
  const duplicate = { ...production.store.get('AccessPolicy', policyId!)!, id: `${policyId}-dup` };
  production.store.put('AccessPolicy', duplicate.id, duplicate);
  expect(checkAidboxes(system.standins, lifecycles, states, system.standinLogLines).join('\n')).toContain(
    `${active.serviceId} (active): production policies`,
  );
  production.store.delete('AccessPolicy', duplicate.id);

  // A policy that grants more than the scopes (a derivation that widened one): the sandbox's first
  // policy of the active service turned into Aidbox's allow-everything engine.
  const sandbox = system.standins.sandbox;
  const [sandboxPolicyId] = policiesLinkedTo(sandbox, active.serviceId);
  const honest = sandbox.store.get('AccessPolicy', sandboxPolicyId!)!;
  sandbox.store.put('AccessPolicy', sandboxPolicyId!, { ...honest, engine: 'allow' });
  expect(checkAidboxes(system.standins, lifecycles, states, system.standinLogLines).join('\n')).toMatch(
    new RegExp(
      `${active.serviceId} \\(active\\): sandbox DELETE \\S+ is allowed \\(policy ${sandboxPolicyId}\\), the scopes say refuse`,
    ),
  );
  sandbox.store.put('AccessPolicy', sandboxPolicyId!, honest);

  // A Client created twice (a retried upsert that created again where it should have updated).
  const secondCreation = JSON.stringify({
    env: 'production',
    method: 'PUT',
    path: `/fhir/Client/${active.serviceId}`,
    status: 201,
  });
  expect(
    checkAidboxes(system.standins, lifecycles, states, [...system.standinLogLines, secondCreation]).join(
      '\n',
    ),
  ).toContain(`${active.serviceId} (active): 2 Client creation(s) in production, expected 1`);

  // A Client where the plan put none (a declined service provisioned to production anyway).
  const declined = lifecycles.find((l) => l.plan === 'declined')!;
  production.store.put('Client', declined.serviceId, {
    resourceType: 'Client',
    id: declined.serviceId,
    active: true,
  });
  expect(checkAidboxes(system.standins, lifecycles, states, system.standinLogLines).join('\n')).toContain(
    `${declined.serviceId} (declined): 1 Client(s) in production, expected 0`,
  );
  production.store.delete('Client', declined.serviceId);

  // A message applied twice (a second 'approve' transition in the history).
  await sql`insert into backend_service_history (service_id, projection_version, at, actor, action, from_status, to_status, revision)
            values (${active.serviceId}, 1000000, now(), 'bob', 'approve', 'under_review', 'under_review', 1)`.execute(
    system.db,
  );
  expect((await checkHistory(system.db, lifecycles)).join('\n')).toContain(
    `${active.serviceId} (active): history`,
  );
  await sql`delete from backend_service_history where service_id = ${active.serviceId} and projection_version = 1000000`.execute(
    system.db,
  );

  // A read model behind the workflow (a projection lost during the fault).
  await sql`update backend_services set state = jsonb_set(state, '{status}', '"under_review"'), status = 'under_review'
            where id = ${active.serviceId}`.execute(system.db);
  expect((await checkReadModel(system.db, lifecycles, states)).join('\n')).toContain(
    `${active.serviceId}: read model says under_review`,
  );
  await sql`update backend_services set state = ${JSON.stringify(states.get(active.serviceId))}::jsonb, status = 'active'
            where id = ${active.serviceId}`.execute(system.db);

  // A lost service (a start the system forgot).
  const lost: Lifecycle = { serviceId: 'bs-neverstarted', plan: 'draft' };
  expect(await checkExecutions(system.client, [lost])).toEqual([
    `${lost.serviceId}: 0 workflow run(s), expected 1`,
  ]);

  // Everything taken away again: the checks pass on the real state.
  expect(checkAidboxes(system.standins, lifecycles, states, system.standinLogLines)).toEqual([]);
  expect(await checkHistory(system.db, lifecycles)).toEqual([]);
  expect(await checkReadModel(system.db, lifecycles, states)).toEqual([]);
}
