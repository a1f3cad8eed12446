/**
 * The scope-string parser for backend services (docs/smart-rules.md §3.4; SMART App Launch 2.x "Scopes and Launch
 * Context"; SMART Backend Services). Accepts `system/<Type|*>.<permissions>` only, with v1 permissions
 * (`read`, `write`, `*`) or v2 permissions (a non-empty, in-order subset of `cruds`). Everything else is
 * refused with a reason a developer can act on.
 */
import type { Permission, V1Permission } from './permissions.js';
import { PERMISSIONS_OF_V1, inCrudsOrder } from './permissions.js';
import type { SupportedResourceTypes } from './resource-types.js';
import { ALL_FHIR_R4_TYPES, isAidboxSystemResourceType, isFhirR4ResourceType } from './resource-types.js';

export type ScopeVersion = 'v1' | 'v2';

/** A scope the registry accepts. Plain JSON (it may go into Temporal history). */
export interface ParsedScope {
  /** The scope string, e.g. `system/Patient.rs` or `system/*.read`. */
  scope: string;
  version: ScopeVersion;
  /** A FHIR R4 resource type, or `*`. */
  resourceType: string;
  /** The v2 letters the scope grants, in `cruds` order (v1 words already expanded). */
  permissions: Permission[];
  /** The v1 word when the scope was written in v1 syntax, else null. */
  v1Permission: V1Permission | null;
}

export type ScopeRefusalCode =
  | 'malformed'
  | 'openid-scope'
  | 'launch-scope'
  | 'token-lifetime-scope'
  | 'not-system-context'
  | 'search-parameters'
  | 'aidbox-system-type'
  | 'unsupported-resource-type'
  | 'empty-permissions'
  | 'invalid-permissions';

export interface ScopeRefusal {
  scope: string;
  code: ScopeRefusalCode;
  reason: string;
}

export type ScopeParseResult = { ok: true; scope: ParsedScope } | ({ ok: false } & ScopeRefusal);

export interface ParseOptions {
  /** The server's types; defaults to the whole FHIR R4 list. */
  supportedTypes?: SupportedResourceTypes;
}

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** v2 permissions: an in-order subset of `cruds` (docs/smart-rules.md §3.4 S1). Emptiness is checked apart. */
const V2_PERMISSIONS = /^c?r?u?d?s?$/;

/** OpenID Connect scopes: a backend service has no user to identify (SMART Backend Services; S8). */
const OPENID_SCOPES = new Set(['openid', 'fhirUser', 'profile', 'email']);

/** Refresh-token scopes: backend services get no refresh token (SMART Backend Services; S8). */
const TOKEN_LIFETIME_SCOPES = new Set(['offline_access', 'online_access']);

function refuse(scope: string, code: ScopeRefusalCode, reason: string): ScopeParseResult {
  return { ok: false, scope, code, reason };
}

export function parseScope(scope: string, options: ParseOptions = {}): ScopeParseResult {
  const supported = options.supportedTypes ?? ALL_FHIR_R4_TYPES;

  if (!SCOPE_TOKEN.test(scope)) {
    return refuse(
      scope,
      'malformed',
      'A scope is one token of printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3); separate scopes with single spaces.',
    );
  }
  if (OPENID_SCOPES.has(scope)) {
    return refuse(
      scope,
      'openid-scope',
      `"${scope}" is an OpenID Connect scope; a backend service has no user to identify. Use system/ scopes only (SMART Backend Services).`,
    );
  }
  if (TOKEN_LIFETIME_SCOPES.has(scope)) {
    return refuse(
      scope,
      'token-lifetime-scope',
      `"${scope}" asks for a refresh token; backend services get none and request a new access token instead (SMART Backend Services).`,
    );
  }
  if (scope === 'launch' || scope.startsWith('launch/')) {
    return refuse(
      scope,
      'launch-scope',
      `"${scope}" is a launch-context scope for apps launched by a user or an EHR; a backend service has no launch. Use system/ scopes only.`,
    );
  }

  const slash = scope.indexOf('/');
  if (slash < 0) {
    return refuse(
      scope,
      'malformed',
      'Expected a SMART resource scope of the form system/<ResourceType|*>.<permissions>.',
    );
  }
  const context = scope.slice(0, slash);
  if (context === 'patient' || context === 'user') {
    return refuse(
      scope,
      'not-system-context',
      `${context}/ scopes need a patient or user context that the client_credentials grant never has; backend services use system/ scopes only (SMART Backend Services; Aidbox rejects ${context}/ scopes for client_credentials).`,
    );
  }
  if (context !== 'system') {
    return refuse(
      scope,
      'malformed',
      `Unknown scope context "${context}/"; backend services use system/ scopes only.`,
    );
  }

  const rest = scope.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot < 0) {
    return refuse(
      scope,
      'malformed',
      'Expected system/<ResourceType|*>.<permissions>, e.g. system/Patient.rs.',
    );
  }
  const resourceType = rest.slice(0, dot);
  const permissionPart = rest.slice(dot + 1);

  // Aidbox rejects the whole token when a system/ scope carries search parameters (docs/aidbox-contract.md §2.4
  // step 6, 2.5), so such a scope could never be used; refuse it at registration instead.
  if (permissionPart.includes('?')) {
    return refuse(
      scope,
      'search-parameters',
      'system/ scopes with search parameters are not accepted: Aidbox rejects a token whose system/ scope carries search parameters (they are supported only for patient/ and user/ scopes). Register the scope without "?…".',
    );
  }

  const typeRefusal = resourceTypeRefusal(resourceType, supported);
  if (typeRefusal) return refuse(scope, typeRefusal.code, typeRefusal.reason);

  if (permissionPart === '') {
    return refuse(
      scope,
      'empty-permissions',
      'The permissions after "." are empty; give at least one of c, r, u, d, s in that order (e.g. rs), or read, write or * in v1.',
    );
  }
  if (permissionPart === 'read' || permissionPart === 'write' || permissionPart === '*') {
    return {
      ok: true,
      scope: {
        scope,
        version: 'v1',
        resourceType,
        permissions: [...PERMISSIONS_OF_V1[permissionPart]],
        v1Permission: permissionPart,
      },
    };
  }
  if (!V2_PERMISSIONS.test(permissionPart)) {
    return refuse(
      scope,
      'invalid-permissions',
      `Permissions "${permissionPart}" are not valid: v2 permissions are letters of c, r, u, d, s, each at most once and in that order (e.g. rs, cud, cruds); v1 permissions are read, write or *.`,
    );
  }
  return {
    ok: true,
    scope: {
      scope,
      version: 'v2',
      resourceType,
      permissions: inCrudsOrder(permissionPart.split('') as Permission[]),
      v1Permission: null,
    },
  };
}

/**
 * Why a resource type cannot be named in a scope, or null when it can (`*` always can).
 * Shared with the registration builder so both say the same thing.
 */
export function resourceTypeRefusal(
  resourceType: string,
  supported: SupportedResourceTypes = ALL_FHIR_R4_TYPES,
): { code: 'aidbox-system-type' | 'unsupported-resource-type'; reason: string } | null {
  if (resourceType === '*') return null;
  if (isAidboxSystemResourceType(resourceType)) {
    return {
      code: 'aidbox-system-type',
      reason: `${resourceType} is an Aidbox system resource, not a FHIR resource; no scope can grant access to it.`,
    };
  }
  if (supported.types.has(resourceType)) return null;
  if (isFhirR4ResourceType(resourceType)) {
    return {
      code: 'unsupported-resource-type',
      reason: `${resourceType} is a FHIR R4 resource type this server does not support (its CapabilityStatement does not list it).`,
    };
  }
  const suggestion = [...supported.types].find((t) => t.toLowerCase() === resourceType.toLowerCase());
  return {
    code: 'unsupported-resource-type',
    reason: `"${resourceType}" is not a FHIR R4 resource type${suggestion ? ` (did you mean ${suggestion}?)` : ''}; use a resource type such as Patient, or *.`,
  };
}

/** Parses a space-separated scope list (RFC 6749 §3.3) or an array of scope strings. */
export function parseScopeList(
  scopes: string | readonly string[],
  options: ParseOptions = {},
): { scopes: ParsedScope[]; refusals: ScopeRefusal[] } {
  const tokens = typeof scopes === 'string' ? scopes.split(' ').filter((t) => t !== '') : scopes;
  const parsed: ParsedScope[] = [];
  const refusals: ScopeRefusal[] = [];
  for (const token of tokens) {
    const result = parseScope(token, options);
    if (result.ok) parsed.push(result.scope);
    else refusals.push({ scope: result.scope, code: result.code, reason: result.reason });
  }
  return { scopes: parsed, refusals };
}
