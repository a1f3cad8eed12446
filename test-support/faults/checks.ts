import { isDeepStrictEqual } from 'node:util';
import type { Client } from '@temporalio/client';
import type { Standin } from '../../aidbox-standin/server.js';
import type { Db } from '../../db/database.js';
import { evaluatePolicies, type AccessPolicyResource } from '../../aidbox-standin/policy/engine.js';
import { buildPolicyRequest } from '../../aidbox-standin/policy/request.js';
import {
  SMART_INTERACTIONS,
  smartAllows,
  type Api,
  type SmartInteraction,
} from '../../scopes/least-privilege.oracle.js';
import { renderInteraction } from '../policy-intents.js';
import { clientWrites } from '../services.js';
import { stateQuery } from '../../workflows/backend-service/messages.js';
import type { Environment, ServiceState } from '../../workflows/backend-service/service-state.js';
import { expectedActions, expectedStatus, handleOf, retrying, type Lifecycle } from './lifecycles.js';

/**
 * The safety checks of the fault tests. Each returns the problems it found (empty = safe), so a
 * negative control can plant a fault and show the check names it. They read the stand-ins' stores
 * and the database directly, never through the product's code paths under test.
 */

/**
 * Exactly one Client per service in each Aidbox, as the plan requires (production only once
 * approved, inactive after deactivation; the sandbox until deactivation), and policies that are
 * right by two measures that do not use the product's derivation:
 * - what they grant: the stand-in's policy engine, given the policies linked to the Client, allows
 *   a probe request exactly when the least-privilege oracle says the registered scopes allow it;
 * - what was approved: production holds exactly the policy IDs the workflow recorded as approved,
 *   and no environment holds two policies that differ only in their ID (a non-idempotent retry).
 * "One Client" is also counted in the stand-ins' request logs (never two creations, 201s, in one
 * environment), since their stores keep one resource per id whatever was sent.
 */
export function checkAidboxes(
  standins: Record<Environment, Standin>,
  lifecycles: Lifecycle[],
  states: Map<string, ServiceState>,
  standinLogLines: readonly string[],
): string[] {
  const problems: string[] = [];
  for (const { serviceId, plan } of lifecycles) {
    const state = states.get(serviceId);
    if (!state) {
      problems.push(`${serviceId}: no workflow state`);
      continue;
    }
    const productionClient = plan === 'active' || plan === 'deactivated';
    const expectations: Array<[Environment, number, boolean | undefined]> = [
      ['sandbox', plan === 'deactivated' ? 0 : 1, plan === 'deactivated' ? undefined : true],
      ['production', productionClient ? 1 : 0, productionClient ? plan === 'active' : undefined],
    ];
    for (const [env, clients, active] of expectations) {
      const found = standins[env].store.list('Client').filter((c) => c.id === serviceId);
      if (found.length !== clients)
        problems.push(`${serviceId} (${plan}): ${found.length} Client(s) in ${env}, expected ${clients}`);
      // Never created twice. (Once at most, not exactly once: under injected faults the creating PUT
      // may have been applied and answered 503 or dropped, so its 201 never reached the log.)
      const creations = clientWrites(standinLogLines, env, serviceId).filter((w) => w.endsWith(' 201'));
      if (creations.length > 1)
        problems.push(`${serviceId} (${plan}): ${creations.length} Client creation(s) in ${env}, expected 1`);
      if (active !== undefined && found[0] && found[0].active !== active)
        problems.push(
          `${serviceId} (${plan}): ${env} Client active=${String(found[0].active)}, expected ${active}`,
        );
      const linked = linkedPolicies(standins[env], serviceId);
      problems.push(...duplicatePolicies(linked).map((d) => `${serviceId} (${plan}): ${env} ${d}`));
      if (found[0])
        problems.push(
          ...grantsBeyondScopes(env, found[0], linked, state.registration.scopes.strings).map(
            (d) => `${serviceId} (${plan}): ${env} ${d}`,
          ),
        );
      else if (linked.length > 0)
        problems.push(`${serviceId} (${plan}): ${env} policies ${ids(linked)} link a Client that is gone`);
    }
    const approved =
      plan === 'active' ? state.submission!.productionPolicies.policies.map((p) => p.id).sort() : [];
    const inProduction = ids(linkedPolicies(standins.production, serviceId));
    if (JSON.stringify(inProduction) !== JSON.stringify(approved))
      problems.push(
        `${serviceId} (${plan}): production policies ${JSON.stringify(inProduction)}, expected the approved ${JSON.stringify(approved)}`,
      );
  }
  return problems;
}

/** IDs of the AccessPolicies linked to `Client/<clientId>` in a stand-in's store. */
export function policiesLinkedTo(standin: Standin, clientId: string): string[] {
  return ids(linkedPolicies(standin, clientId));
}

function linkedPolicies(standin: Standin, clientId: string): AccessPolicyResource[] {
  return standin.store
    .list('AccessPolicy')
    .filter((p) =>
      ((p.link as Array<{ reference?: string; resourceType?: string; id?: string }> | undefined) ?? []).some(
        (l) => l.reference === `Client/${clientId}` || (l.resourceType === 'Client' && l.id === clientId),
      ),
    ) as unknown as AccessPolicyResource[];
}

function ids(policies: AccessPolicyResource[]): string[] {
  return policies.map((p) => String(p.id)).sort();
}

function duplicatePolicies(policies: AccessPolicyResource[]): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const policy of policies) {
    const { id, meta: _meta, ...content } = policy as unknown as Record<string, unknown>;
    const key = JSON.stringify(content, Object.keys(content).sort());
    const twin = seen.get(key);
    if (twin) problems.push(`policies ${twin} and ${String(id)} are the same policy twice`);
    else seen.set(key, String(id));
  }
  return problems;
}

/** Types a probe asks about: one the usual registration grants, one it does not, and one `*` never covers. */
const PROBE_TYPES = ['Patient', 'Observation', 'Subscription'];
/** The Aidbox extension that binds a Client to an organization (OrgBAC). */
const TENANT_URL = 'https://aidbox.app/tenant-organization-id';

/** The organization a Client is bound to, in Aidbox's internal or its FHIR spelling of the extension. */
function tenantOf(client: Record<string, unknown>): string | undefined {
  type TenantExtension = {
    url: string;
    value?: { Reference?: { id?: string } };
    valueReference?: { reference?: string };
  };
  const extension = ((client.meta as { extension?: TenantExtension[] } | undefined)?.extension ?? []).find(
    (e) => e.url === TENANT_URL,
  );
  return (
    extension?.value?.Reference?.id ?? extension?.valueReference?.reference?.replace(/^Organization\//, '')
  );
}

/**
 * Every SMART interaction on each probe type through the Client's API, judged by the engine with
 * the linked policies and by the oracle with the registered scopes; the disagreements.
 */
function grantsBeyondScopes(
  env: Environment,
  client: Record<string, unknown>,
  policies: AccessPolicyResource[],
  scopes: readonly string[],
): string[] {
  const tenant = tenantOf(client);
  const api: Api = tenant ? { kind: 'organization', organizationId: tenant } : { kind: 'root' };
  // The test systems run production with OrgBAC and the sandbox without (test-support/system.ts).
  const orgbac = env === 'production';
  const context = {
    scopes,
    organizationId: tenant ?? null,
    orgbac,
    callerIsTheActiveClient: client.active === true,
  };
  const problems: string[] = [];
  for (const resourceType of PROBE_TYPES)
    for (const interaction of Object.keys(SMART_INTERACTIONS) as SmartInteraction[]) {
      const request = renderInteraction(interaction, resourceType, api);
      const engine = evaluatePolicies(policies, buildPolicyRequest({ ...request, client, orgbac }));
      const oracle = smartAllows({ kind: 'interaction', interaction, resourceType, api }, context);
      if (engine.allowed !== oracle)
        problems.push(
          `${request.method} ${request.path}${request.query ? `?${request.query}` : ''} is ${engine.allowed ? `allowed (policy ${engine.policyId})` : 'refused'}, the scopes say ${oracle ? 'allow' : 'refuse'}`,
        );
    }
  return problems;
}

/** The workflow's status is the plan's, and the read model holds exactly the workflow's state. */
export async function checkReadModel(
  db: Db,
  lifecycles: Lifecycle[],
  states: Map<string, ServiceState>,
): Promise<string[]> {
  const problems: string[] = [];
  const rows = await db
    .selectFrom('backend_services')
    .select(['id', 'state', 'status'])
    .where(
      'id',
      'in',
      lifecycles.map((l) => l.serviceId),
    )
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const { serviceId, plan } of lifecycles) {
    const state = states.get(serviceId);
    const row = byId.get(serviceId);
    if (!state || !row) {
      problems.push(`${serviceId}: ${state ? 'no read-model row' : 'no workflow state'}`);
      continue;
    }
    if (state.status !== expectedStatus[plan])
      problems.push(`${serviceId} (${plan}): workflow status ${state.status}`);
    if (row.status !== state.status)
      problems.push(`${serviceId}: read model says ${row.status}, workflow ${state.status}`);
    // jsonb reorders keys: compare values, not text. One known difference is allowed: `updatedAt` is
    // workflow time, and a workflow task retried after a worker was killed runs (and projects) at its
    // own start time while a later replay reads the first attempt's: the same version may then carry
    // a time some milliseconds apart. Every other field, and the version, must match exactly.
    const sameButTime =
      row.state.projectionVersion === state.projectionVersion &&
      Math.abs(Date.parse(row.state.updatedAt) - Date.parse(state.updatedAt)) < 60_000 &&
      isDeepStrictEqual({ ...row.state, updatedAt: state.updatedAt }, state);
    if (!isDeepStrictEqual(row.state, state) && !sameButTime)
      problems.push(
        `${serviceId}: read-model state differs from the workflow's (projection ${row.state.projectionVersion} vs ${state.projectionVersion}; fields ${differingFields(row.state as unknown as Record<string, unknown>, state as unknown as Record<string, unknown>).join(', ')}; read model updatedAt ${row.state.updatedAt}, workflow ${state.updatedAt})`,
      );
  }
  return problems;
}

/** Each transition recorded once, in the plan's order: a duplicated or lost message shows here. */
export async function checkHistory(db: Db, lifecycles: Lifecycle[]): Promise<string[]> {
  const rows = await db
    .selectFrom('backend_service_history')
    .select(['service_id', 'action'])
    .where(
      'service_id',
      'in',
      lifecycles.map((l) => l.serviceId),
    )
    .orderBy('service_id')
    .orderBy('projection_version')
    .execute();
  const problems: string[] = [];
  for (const { serviceId, plan } of lifecycles) {
    const actions = rows.filter((r) => r.service_id === serviceId).map((r) => r.action);
    if (JSON.stringify(actions) !== JSON.stringify(expectedActions[plan]))
      problems.push(
        `${serviceId} (${plan}): history ${actions.join(',')}, expected ${expectedActions[plan].join(',')}`,
      );
  }
  return problems;
}

/** One workflow execution chain per service: a lost start or a second run shows here. */
export async function checkExecutions(client: Client, lifecycles: Lifecycle[]): Promise<string[]> {
  const problems: string[] = [];
  for (const { serviceId } of lifecycles) {
    const runs: string[] = [];
    for await (const execution of client.workflow.list({
      query: `WorkflowId = 'backend-service/${serviceId}'`,
    }))
      runs.push(execution.runId);
    if (runs.length !== 1) problems.push(`${serviceId}: ${runs.length} workflow run(s), expected 1`);
  }
  return problems;
}

/** The workflow state of every lifecycle (its query; closed workflows answer from replay). */
export async function workflowStates(
  client: Client,
  lifecycles: Lifecycle[],
): Promise<Map<string, ServiceState>> {
  const states = new Map<string, ServiceState>();
  await Promise.all(
    lifecycles.map(async ({ serviceId }) => {
      states.set(
        serviceId,
        await retrying(`query ${serviceId}`, () => handleOf(client, serviceId).query(stateQuery), 60_000),
      );
    }),
  );
  return states;
}

/** Polls `check` until it finds nothing or the time is up; returns the last problems. */
export async function eventually(check: () => Promise<string[]>, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = await check();
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The top-level fields two states disagree on, to say what a mismatch is about. */
function differingFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]));
}
