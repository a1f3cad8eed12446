/**
 * Scope-risk flags for the reviewer: what in a scope set deserves a second look before approval.
 * They never refuse anything; the registration input is already valid when they are computed.
 */
import type { ParsedScope } from './parse.js';
import { isWritePermission, permissionString } from './permissions.js';
import { isWildcardExcludedType, wildcardResourceTypes } from './resource-types.js';

export type RiskSeverity = 'high' | 'medium' | 'low';

export type RiskCode =
  | 'wildcard-resource-type'
  | 'write-operations'
  | 'v1-wildcard-permissions'
  | 'server-configuration-type'
  | 'organization-includes-children';

/** Plain JSON, shown on the review page. */
export interface ScopeRiskFlag {
  code: RiskCode;
  severity: RiskSeverity;
  message: string;
  /** The scope strings that raised the flag. */
  scopes: string[];
  /** The Organizations the flag is about (organization flags only). */
  organizations?: string[];
}

const WRITE_WORDS: Record<string, string> = { c: 'create', u: 'update', d: 'delete' };

export function scopeRiskFlags(scopes: readonly ParsedScope[]): ScopeRiskFlag[] {
  const flags: ScopeRiskFlag[] = [];

  // SMART App Launch "Wildcard scopes"; docs/smart-rules.md §3.4 S5: `*` covers every type, now and in future.
  const wildcard = scopes.filter((s) => s.resourceType === '*');
  if (wildcard.length > 0) {
    const writes = wildcard.some((s) => s.permissions.some(isWritePermission));
    flags.push({
      code: 'wildcard-resource-type',
      severity: writes ? 'high' : 'medium',
      message: `${wildcard.map((s) => s.scope).join(', ')} applies to every FHIR resource type (${wildcardResourceTypes().length} today, and any the server adds later)${writes ? ', including changing or deleting data of every type' : ''}. An explicit list of types is safer.`,
      scopes: wildcard.map((s) => s.scope),
    });
  }

  // docs/smart-rules.md §3.4 S4, S10: write access changes production data; most backend services only read.
  const writing = scopes.filter((s) => s.permissions.some(isWritePermission));
  if (writing.length > 0) {
    const words = new Set(
      writing.flatMap((s) => s.permissions.filter(isWritePermission).map((p) => WRITE_WORDS[p])),
    );
    flags.push({
      code: 'write-operations',
      severity: writing.some((s) => s.permissions.includes('d')) ? 'high' : 'medium',
      message: `${writing.map((s) => s.scope).join(', ')} ${writing.length === 1 ? 'grants' : 'grant'} ${[...words].join('/')} in production. Check that the service needs to change data, not just read it.`,
      scopes: writing.map((s) => s.scope),
    });
  }

  // SMART App Launch v1 → v2 mapping: `.*` = cruds, i.e. everything including delete.
  const v1All = scopes.filter((s) => s.v1Permission === '*');
  if (v1All.length > 0) {
    flags.push({
      code: 'v1-wildcard-permissions',
      severity: 'medium',
      message: `${v1All.map((s) => s.scope).join(', ')} (v1 ".*") ${v1All.length === 1 ? 'grants' : 'grant'} create, read, update, delete and search. With v2 scopes the service can ask for only the permissions it needs (e.g. .${permissionString(['r', 's'])}).`,
      scopes: v1All.map((s) => s.scope),
    });
  }

  // resource-types.ts WILDCARD_EXCLUDED_FHIR_TYPES: types that reconfigure the server or push data out.
  const configuration = scopes.filter((s) => isWildcardExcludedType(s.resourceType));
  if (configuration.length > 0) {
    flags.push({
      code: 'server-configuration-type',
      severity: 'high',
      message: `${configuration.map((s) => s.scope).join(', ')} names a type that configures the server itself or makes it send data out (search parameters, profiles, operations, subscriptions). Such access is rarely needed by a backend service.`,
      scopes: configuration.map((s) => s.scope),
    });
  }

  return flags;
}

/**
 * The binding's reach under OrgBAC: Aidbox lets a client bound to an Organization read the data of
 * every Organization nested under it ("Every organization has access to their own resources and to
 * the nested organization resources",
 * https://github.com/Aidbox/documentation/blob/master/modules-1/security-and-access-control/multitenancy/organization-based-hierarchical-access-control.md).
 * `descendants` comes from the production Organization lookup.
 */
export function organizationRiskFlags(
  organizationId: string | null,
  descendants: readonly string[],
): ScopeRiskFlag[] {
  if (organizationId === null || descendants.length === 0) return [];
  return [
    {
      code: 'organization-includes-children',
      severity: 'high',
      message: `Organization/${organizationId} has nested Organizations: ${descendants.join(', ')}. Under OrgBAC the binding includes them, so the service also reaches their data. Bind to the narrowest Organization that holds the data it needs.`,
      scopes: [],
      organizations: [organizationId, ...descendants],
    },
  ];
}
