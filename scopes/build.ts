/**
 * The scope builder: the registration form's input (one scope version, rows of resource type or `*`
 * with Create/Read/Update/Delete/Search) → canonical scope strings (issue 5; docs/api.md `scopes`;
 * Payerbox Backend Services page, step "Set the system scopes").
 *
 * - Rules are merged per type (docs/smart-rules.md §3.4 S7: "Observation.r Observation.s" = "Observation.rs").
 * - A type whose permissions `*` already grants is dropped, with a note saying so.
 * - `*` first, then types in code-unit order; v2 permissions in `cruds` order.
 * - v1 can say only read (= r+s), write (= c+u+d) and `*` (docs/smart-rules.md §3.4 S2); a v1 selection that is
 *   not made of whole groups is refused with a message suggesting v2.
 * Refusals name the field as a JSON pointer into the registration input (docs/api.md, problem+json errors).
 */
import { z } from 'zod';
import { bodyFieldErrors, type FieldError } from '../platform/zod-field-errors.js';
import type { Operation, Permission } from './permissions.js';
import {
  OPERATIONS,
  OPERATION_OF_PERMISSION,
  PERMISSION_OF_OPERATION,
  inCrudsOrder,
  permissionString,
  permissionsCover,
  v1PermissionFor,
} from './permissions.js';
import type { ParsedScope, ScopeVersion } from './parse.js';
import { resourceTypeRefusal } from './parse.js';
import type { SupportedResourceTypes } from './resource-types.js';
import { ALL_FHIR_R4_TYPES, compareResourceTypes, isWildcardExcludedType } from './resource-types.js';
import type { ScopeRiskFlag } from './risk.js';
import { scopeRiskFlags } from './risk.js';

/** Upper bound on rows: far more than any real service needs, small enough to keep review readable. */
export const MAX_SCOPE_RULES = 200;

export const scopeRuleSchema = z.strictObject({
  resource: z.string({ error: 'resource must be a FHIR resource type or *' }).min(1, {
    error: 'resource must be a FHIR resource type or *',
  }),
  operations: z
    .array(
      z.enum(OPERATIONS as [Operation, ...Operation[]], {
        error: 'operation must be one of create, read, update, delete, search',
      }),
      {
        error: 'operations must be a list of create, read, update, delete, search',
      },
    )
    .min(1, { error: 'choose at least one operation' }),
});

/** The `scopes` part of the registration input (docs/api.md). `strings` is computed, never accepted. */
export const scopesInputSchema = z.strictObject({
  version: z.enum(['v1', 'v2'], { error: 'version must be v1 or v2' }),
  rules: z
    .array(scopeRuleSchema, { error: 'rules must be a list of { resource, operations }' })
    .min(1, { error: 'add at least one scope rule' })
    .max(MAX_SCOPE_RULES, { error: `at most ${MAX_SCOPE_RULES} scope rules` }),
});

export type ScopesInput = z.infer<typeof scopesInputSchema>;
export type ScopeRule = ScopesInput['rules'][number];

/** A refusal naming the field: `field` is a JSON pointer into the registration input. */
/** A refused scope rule, named by its JSON pointer into the registration input. */
export type ScopeFieldError = FieldError;

export interface BuiltScopes {
  version: ScopeVersion;
  /** The merged rules, in the order of `strings`, operations in `cruds` order. */
  rules: ScopeRule[];
  /** Canonical scope strings, e.g. `["system/*.rs", "system/Claim.cu"]`. */
  strings: string[];
  /** Parsed form of `strings` (what derivePolicies takes). */
  scopes: ParsedScope[];
  /** Visible notes, e.g. a rule dropped because `*` covers it. */
  notes: string[];
  risks: ScopeRiskFlag[];
}

export type BuildScopesResult = { ok: true; value: BuiltScopes } | { ok: false; errors: ScopeFieldError[] };

export interface BuildOptions {
  supportedTypes?: SupportedResourceTypes;
  /** Where `scopes` sits in the request body; `/scopes` in the registration input. */
  pointer?: string;
}

export function buildScopes(input: unknown, options: BuildOptions = {}): BuildScopesResult {
  const base = options.pointer ?? '/scopes';
  const supported = options.supportedTypes ?? ALL_FHIR_R4_TYPES;

  const shape = scopesInputSchema.safeParse(input);
  if (!shape.success) return { ok: false, errors: bodyFieldErrors(shape.error.issues, base) };
  const { version, rules } = shape.data;

  const errors: ScopeFieldError[] = [];
  const merged = new Map<string, Set<Permission>>();
  rules.forEach((rule, index) => {
    const typeRefusal = resourceTypeRefusal(rule.resource, supported);
    if (typeRefusal) errors.push({ field: `${base}/rules/${index}/resource`, message: typeRefusal.reason });

    const permissions = inCrudsOrder(rule.operations.map((op) => PERMISSION_OF_OPERATION[op]));
    if (version === 'v1' && v1PermissionFor(permissions) === null) {
      errors.push({
        field: `${base}/rules/${index}/operations`,
        message: v1GroupsMessage(rule.resource, permissions),
      });
    }
    const granted = merged.get(rule.resource) ?? new Set<Permission>();
    for (const p of permissions) granted.add(p);
    merged.set(rule.resource, granted);
  });
  if (errors.length > 0) return { ok: false, errors };

  const notes: string[] = [];
  const wildcard = merged.get('*');
  const kept: Array<[string, Permission[]]> = [];
  for (const [resource, granted] of merged) {
    const permissions = inCrudsOrder(granted);
    // `*` does not stretch to the server-configuration types (resource-types.ts), so it never covers them.
    if (
      resource !== '*' &&
      wildcard &&
      !isWildcardExcludedType(resource) &&
      permissionsCover(wildcard, permissions)
    ) {
      notes.push(
        `${scopeString(version, resource, permissions)} was dropped: ${scopeString(version, '*', inCrudsOrder(wildcard))} already grants it.`,
      );
      continue;
    }
    kept.push([resource, permissions]);
  }
  kept.sort(([a], [b]) => compareResourceTypes(a, b));

  const scopes: ParsedScope[] = kept.map(([resourceType, permissions]) => ({
    scope: scopeString(version, resourceType, permissions),
    version,
    resourceType,
    permissions,
    v1Permission: version === 'v1' ? v1PermissionFor(permissions) : null,
  }));
  return {
    ok: true,
    value: {
      version,
      rules: kept.map(([resource, permissions]) => ({
        resource,
        operations: permissions.map((p) => OPERATION_OF_PERMISSION[p]),
      })),
      strings: scopes.map((s) => s.scope),
      scopes,
      notes,
      risks: scopeRiskFlags(scopes),
    },
  };
}

function scopeString(
  version: ScopeVersion,
  resourceType: string,
  permissions: readonly Permission[],
): string {
  const suffix = version === 'v1' ? v1PermissionFor(permissions) : permissionString(permissions);
  return `system/${resourceType}.${suffix ?? permissionString(permissions)}`;
}

function v1GroupsMessage(resource: string, permissions: readonly Permission[]): string {
  const chosen = permissions.map((p) => OPERATION_OF_PERMISSION[p]).join(', ');
  return (
    `Scope version v1 can only express read (= read + search), write (= create + update + delete) or both; ` +
    `${chosen} is not made of whole groups. Choose scope version v2 to grant exactly ${chosen} ` +
    `(system/${resource}.${permissionString(permissions)}).`
  );
}
