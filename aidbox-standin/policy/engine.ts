/**
 * The AccessPolicy engine of the Aidbox stand-in (docs/aidbox-contract.md §2.1 and §9.9).
 *
 * - Candidate selection: global policies (no `link`) plus the policies linked to the request's
 *   Client, User or Operation; several links are OR'ed, so one matching link makes a candidate.
 * - Decision: policies are OR'ed, the first candidate that evaluates true grants; none → deny.
 *   No policy at all → everything is denied.
 * - Engines: `allow`, `matcho`, `complex` (`and` / `or` of full sub-rules). `sql`, `json-schema`,
 *   `allow-rpc`, `matcho-rpc` and anything unknown fail closed: the stand-in has no database to run
 *   SQL against, and the product's derived policies never use them.
 */
import { matcho } from './matcho.js';
import type { AccessPolicyResource, PolicyLink, PolicyRequest, PolicyRule } from './types.js';

export type { AccessPolicyResource, PolicyRequest, PolicyRule } from './types.js';

export const SUPPORTED_ENGINES = ['allow', 'matcho', 'complex'] as const;
/** Every engine Aidbox knows (section 2.1); the store refuses others with 422. */
export const KNOWN_ENGINES = [
  'allow',
  'matcho',
  'sql',
  'json-schema',
  'complex',
  'allow-rpc',
  'matcho-rpc',
  'clj',
] as const;

function linkTarget(link: PolicyLink): { type: string; id: string } | undefined {
  if (typeof link.reference === 'string') {
    const [type, id] = link.reference.split('/');
    return type && id ? { type, id } : undefined;
  }
  if (typeof link.resourceType === 'string' && typeof link.id === 'string')
    return { type: link.resourceType, id: link.id };
  return undefined;
}

/** Global policies and those whose links name the request's client, user or operation (OR). */
export function isCandidate(policy: AccessPolicyResource, request: PolicyRequest): boolean {
  if (!Array.isArray(policy.link) || policy.link.length === 0) return true;
  const actors: Record<string, unknown> = {
    Client: request.client?.id,
    User: request.user?.id,
    Operation: request.operation.id,
  };
  return policy.link.some((link) => {
    const target = linkTarget(link);
    return target !== undefined && actors[target.type] !== undefined && actors[target.type] === target.id;
  });
}

/** Evaluates one rule (a policy body or a `complex` sub-rule). */
export function evaluateRule(rule: PolicyRule, request: PolicyRequest): boolean {
  switch (rule.engine) {
    case 'allow':
      return true;
    case 'matcho':
      // A matcho policy without a pattern would match everything; Aidbox refuses it (422), the
      // engine refuses to grant with it.
      return rule.matcho !== undefined && rule.matcho !== null && matcho(request, rule.matcho, request);
    case 'complex': {
      const { and, or } = rule;
      // `and` and `or` cannot share a level (section 2.1); a rule with both or neither grants nothing.
      if (Array.isArray(and) && or === undefined)
        return and.length > 0 && and.every((sub) => evaluateRule(sub, request));
      if (Array.isArray(or) && and === undefined) return or.some((sub) => evaluateRule(sub, request));
      return false;
    }
    default:
      return false;
  }
}

/** The decision for one request: which policy (if any) grants it. */
export function evaluatePolicies(
  policies: AccessPolicyResource[],
  request: PolicyRequest,
): { allowed: boolean; policyId?: string } {
  for (const policy of policies) {
    if (!isCandidate(policy, request)) continue;
    if (evaluateRule(policy, request)) return { allowed: true, policyId: policy.id };
  }
  return { allowed: false };
}
