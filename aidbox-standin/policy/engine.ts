/**
 * The AccessPolicy engine of the Aidbox stand-in (docs/aidbox-contract.md §2.1 and §9.9).
 *
 * - Candidate selection: global policies (no `link`) plus the policies linked to the request's
 *   Client, User or Operation; several links are OR'ed, so one matching link makes a candidate.
 * - Decision: policies are OR'ed, the first candidate that evaluates true grants; none → deny.
 *   No policy at all → everything is denied.
 * - Engines: `allow`, `matcho`, `complex` (`and` / `or` of full sub-rules), and `json-schema`: the
 *   request object validated against the policy's `schema` as JSON Schema draft-07, where a keyword the
 *   draft does not define (a misspelt `constant` for `const`) is ignored, as JSON Schema says
 *   (https://json-schema.org/draft-07/json-schema-core#rfc.section.4.3.1 "unknown keywords SHOULD be
 *   ignored"; the engine: https://docs.aidbox.app/modules-1/security-and-access-control/security/access-control).
 *   Evaluating it as Aidbox does lets an over-grant by such a policy show up in tests. `sql`,
 *   `allow-rpc`, `matcho-rpc` and anything unknown fail closed: the stand-in has no database to run
 *   SQL against, and the product's derived policies never use them.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { matcho } from './matcho.js';
import type { AccessPolicyResource, PolicyLink, PolicyRequest, PolicyRule } from './types.js';

export type { AccessPolicyResource, PolicyRequest, PolicyRule } from './types.js';

export const SUPPORTED_ENGINES = ['allow', 'matcho', 'complex', 'json-schema'] as const;

// strict: false is the point: ajv's strict mode would refuse unknown keywords, JSON Schema ignores them.
const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: true });
const compiled = new Map<string, ValidateFunction | null>();

/** The compiled schema, or null when it is not a valid draft-07 schema (which then grants nothing). */
function schemaValidator(schema: unknown): ValidateFunction | null {
  if (typeof schema !== 'object' || schema === null) return null;
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) {
    try {
      compiled.set(key, ajv.compile(schema as object));
    } catch {
      compiled.set(key, null);
    }
  }
  return compiled.get(key) ?? null;
}
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
    case 'json-schema': {
      const validate = schemaValidator(rule.schema);
      return validate !== null && validate(request) === true;
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
