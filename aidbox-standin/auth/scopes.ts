/**
 * Scope handling of the token endpoint for `client_credentials` (docs/aidbox-contract.md §2.5 and
 * §9.6; docs/smart-rules.md A10 and §3.4):
 * - space-separated; an empty request is `invalid_scope` (A10);
 * - only `system/` scopes (section 2.5: patient/user scopes are rejected for client_credentials);
 * - a `system/` scope with search parameters is refused (section 2.4 step 6: Aidbox rejects the
 *   whole token);
 * - each requested scope is narrowed to what `Client.scope` covers, wildcard-aware; nothing left is
 *   `invalid_scope` (A10);
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

const LETTERS = ['c', 'r', 'u', 'd', 's'];

/**
 * What of `requested` the client's `allowed` scope covers: type ∩ type, permissions ∩ permissions.
 * SMART lets a server grant less than asked ("the authorization server MAY grant a subset",
 * https://hl7.org/fhir/smart-app-launch/STU2.2/scopes-and-launch-context.html), and the answer names
 * what was granted (A10). `undefined` when nothing overlaps.
 */
function intersect(
  allowed: SystemScope,
  requested: SystemScope,
): { type: string; permissions: string[] } | undefined {
  const type =
    requested.type === '*'
      ? allowed.type
      : allowed.type === '*' || allowed.type === requested.type
        ? requested.type
        : undefined;
  if (type === undefined) return undefined;
  const permissions = LETTERS.filter((p) => requested.permissions.has(p) && allowed.permissions.has(p));
  return permissions.length > 0 ? { type, permissions } : undefined;
}

export type ScopeDecision = { ok: true; scopes: string[] } | { ok: false; description: string };

/**
 * Decides the granted scopes of one token request of a `smart-app` client (docs/smart-rules.md A10):
 * refused are an empty request, non-`system/` scopes and scopes with search parameters (section 2.5);
 * otherwise each requested scope is narrowed to what `Client.scope` covers (README "unverified": Aidbox
 * does not document whether it narrows or refuses; narrowing is the more permissive reading), and
 * `invalid_scope` only when nothing at all is left.
 */
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
    for (const grant of allowed) {
      const overlap = intersect(grant, scope);
      if (!overlap) continue;
      // The requested spelling is kept when nothing was taken away (v1 `read` stays `read`, S2).
      const whole = overlap.permissions.length === scope.permissions.size;
      const permissionText = whole ? scope.permissionText : overlap.permissions.join('');
      if (overlap.type === '*')
        for (const type of CLINICAL_TYPES) granted.add(`system/${type}.${permissionText}`);
      else granted.add(`system/${overlap.type}.${permissionText}`);
    }
  }
  if (granted.size === 0)
    return {
      ok: false,
      description: `none of the requested scopes is allowed for this client: ${asked.join(' ')}`,
    };
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
