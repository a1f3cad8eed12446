/**
 * Scope handling of the token endpoint for `client_credentials` (docs/aidbox-contract.md §2.5 and
 * §9.6; docs/smart-rules.md A10 and §3.4):
 * - space-separated; an empty request is `invalid_scope` (A10);
 * - only `system/` scopes (section 2.5: patient/user scopes are rejected for client_credentials);
 * - a `system/` scope with search parameters is refused (section 2.4 step 6: Aidbox rejects the
 *   whole token);
 * - each requested scope must be covered by `Client.scope`, wildcard-aware (g(10) 9.10.08, A10);
 * - `*` is expanded into per-type scopes in the response (section 2.5).
 */
import { CLINICAL_TYPES, isClinicalType } from '../fhir/resource-types.js';

export interface SystemScope {
  type: string; // a resource type or '*'
  permissions: Set<string>; // subset of c r u d s
  text: string;
  permissionText: string;
}

const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

/** Parses `system/<Type|*>.<perms>`; undefined when it is not one (docs/smart-rules.md §3.4 grammar, S1). */
export function parseSystemScope(text: string): SystemScope | undefined {
  const match = /^system\/([A-Za-z]+|\*)\.([a-z*]+)$/.exec(text);
  if (!match) return undefined;
  const [, type, permissionText] = match as unknown as [string, string, string];
  const letters = V1[permissionText] ?? permissionText;
  if (!/^c?r?u?d?s?$/.test(letters) || letters === '') return undefined;
  return { type, permissions: new Set(letters), text, permissionText };
}

function covers(granted: SystemScope, requested: SystemScope): boolean {
  if (granted.type !== '*' && granted.type !== requested.type) return false;
  return [...requested.permissions].every((p) => granted.permissions.has(p));
}

export type ScopeDecision = { ok: true; scopes: string[] } | { ok: false; description: string };

/** Decides the granted scopes of one token request. */
export function grantScopes(requested: string | undefined, clientScopes: unknown): ScopeDecision {
  const asked = (requested ?? '').split(' ').filter((s) => s !== '');
  if (asked.length === 0) return { ok: false, description: 'scope is required' };
  const allowed = (Array.isArray(clientScopes) ? clientScopes : [])
    .filter((s): s is string => typeof s === 'string')
    .map(parseSystemScope)
    .filter((s): s is SystemScope => s !== undefined);

  const granted = new Set<string>();
  for (const text of asked) {
    if (!text.startsWith('system/'))
      return { ok: false, description: `only system scopes are allowed for client_credentials: ${text}` };
    if (text.includes('?'))
      return { ok: false, description: `system scopes with search parameters are not supported: ${text}` };
    const scope = parseSystemScope(text);
    if (!scope) return { ok: false, description: `malformed scope: ${text}` };
    if (scope.type !== '*' && !isClinicalType(scope.type))
      return { ok: false, description: `unsupported resource type: ${text}` };
    if (!allowed.some((a) => covers(a, scope)))
      return { ok: false, description: `scope not allowed for this client: ${text}` };
    if (scope.type === '*')
      for (const type of CLINICAL_TYPES) granted.add(`system/${type}.${scope.permissionText}`);
    else granted.add(text);
  }
  return { ok: true, scopes: [...granted] };
}

/** Scope layer of section 2.5: does a granted scope cover this interaction on this type? */
export function scopesAllow(
  tokenScope: unknown,
  resourceType: string,
  interaction: 'c' | 'r' | 'u' | 'd' | 's',
): boolean {
  if (typeof tokenScope !== 'string') return false;
  return tokenScope
    .split(' ')
    .map(parseSystemScope)
    .some(
      (s) => s !== undefined && (s.type === '*' || s.type === resourceType) && s.permissions.has(interaction),
    );
}
