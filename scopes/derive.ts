/**
 * The derivation: (client ID, SMART system scopes, organization or none) → Aidbox AccessPolicy resources,
 * following docs/aidbox-contract.md §2.4 (our design; the Payerbox portal's own mapping is not public).
 *
 * Every policy:
 * - is `link`ed to `Client/<id>` and still matches `client.id` and `client.active: true` in its body
 *   (2.2, 2.1 "link is a pre-filter"; 8 "Derived policies should always match client.active: true");
 * - anchors `uri` to the FHIR API: `#^/fhir/`, or under OrgBAC `#^/Organization/<org>/fhir/` together
 *   with `params.organization/id` = org and the `orgbac-fhir-*` operation ids only (2.4 step 4, 8; 3);
 *   REST policies also name their types in `uri`, export policies their exact paths;
 * - allows operation ids per interaction (operation-ids.ts), so write never implies read (SMART "write
 *   access does not imply read access"; docs/smart-rules.md §3.4 S4);
 * - constrains `params.resource/type` to an `$enum` of FHIR types: `*` is expanded to FHIR R4 types and
 *   never to Aidbox's own (2.4 step 4; resource-types.ts).
 * One small matcho policy per permission set (2.4 step 5: several small policies rather than one `or`),
 * with deterministic IDs `<clientId>--<purpose>` (≤ 50 characters), so re-deriving is an idempotent
 * upsert and stale policies are recognisable by prefix.
 *
 * Bulk export (2.4 step 7; 5): kick-off allowed only when every exported type is readable and searchable
 * (v1 "read"); `_type` is required and checked against those types, except when r+s covers every type
 * `*` stands for. Group-level export also needs read on Group. Status and cancel follow any export grant.
 */
import type { ParsedScope } from './parse.js';
import { parseScope } from './parse.js';
import type { Permission } from './permissions.js';
import { permissionString } from './permissions.js';
import type { ApiOperationTable } from './operation-ids.js';
import { ORGBAC_FHIR_OPERATIONS, ROOT_FHIR_OPERATIONS, restOperationIds } from './operation-ids.js';
import { compareResourceTypes, wildcardResourceTypes } from './resource-types.js';
import { sha256OfCanonicalJson } from './canonical-json.js';

/** An Aidbox AccessPolicy as the derivation writes it (docs/aidbox-contract.md §2.1). Plain JSON. */
export interface AccessPolicy {
  resourceType: 'AccessPolicy';
  id: string;
  description: string;
  engine: 'matcho';
  link: Array<{ reference: string }>;
  matcho: Record<string, unknown>;
}

export interface DerivePoliciesInput {
  /** `bs-` + 1–32 lowercase letters or digits (docs/architecture.md "IDs"). */
  clientId: string;
  /** Canonical scope strings, or their parsed form. */
  scopes: ReadonlyArray<string | ParsedScope>;
  /** The Organization the service is bound to under OrgBAC, or null for the root FHIR API. */
  organizationId: string | null;
}

export interface DerivedPolicySet {
  policies: AccessPolicy[];
  /** Lowercase hex SHA-256 of the canonical JSON of `policies`: what the administrator approves. */
  policyHash: string;
  /** What the derivation decided, for the reviewer. */
  notes: string[];
}

/** The input cannot be derived (bad client ID, refused scope): permanent, never worth a retry. */
export class ScopeDerivationError extends Error {
  override readonly name = 'ScopeDerivationError';
}

export const CLIENT_ID_PATTERN = /^bs-[a-z0-9]{1,32}$/;
/** FHIR id (R4 datatypes "id", https://hl7.org/fhir/R4/datatypes.html#id). */
export const ORGANIZATION_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * An Organization ID we put into a URL path: a FHIR id that is not `.` or `..`, which the id rule
 * allows but a URL resolves as path segments (`/fhir/Organization/.` is the collection search).
 */
export function isOrganizationId(id: string): boolean {
  return ORGANIZATION_ID_PATTERN.test(id) && id !== '.' && id !== '..';
}

/** Types whose names are listed in a description; larger sets are counted instead. */
const LISTED_TYPES_LIMIT = 12;

export function derivePolicies(input: DerivePoliciesInput): DerivedPolicySet {
  const { clientId, organizationId } = input;
  if (!CLIENT_ID_PATTERN.test(clientId)) {
    throw new ScopeDerivationError(`client id must be bs- followed by 1–32 lowercase letters or digits`);
  }
  if (organizationId !== null && !isOrganizationId(organizationId)) {
    throw new ScopeDerivationError(
      `organization id must be a FHIR id (letters, digits, "-", ".", at most 64)`,
    );
  }

  const scopes = input.scopes.map(reparse);
  const grants = grantsPerType(scopes);
  const api = apiFor(clientId, organizationId);
  const scopeList = normalizedScopeList(scopes);
  const notes: string[] = [];
  const policies: AccessPolicy[] = [];

  // REST interactions: one policy per distinct permission set.
  const typesByPermissions = new Map<string, string[]>();
  for (const [type, granted] of grants) {
    const key = permissionString(granted);
    const types = typesByPermissions.get(key) ?? [];
    types.push(type);
    typesByPermissions.set(key, types);
  }
  for (const key of [...typesByPermissions.keys()].sort(comparePermissionKeys)) {
    const types = (typesByPermissions.get(key) ?? []).sort(compareResourceTypes);
    const operationIds = restOperationIds(api.table, new Set(key.split('') as Permission[]));
    policies.push(
      policy(
        clientId,
        `fhir-${key}`,
        `${describePermissions(key)} on ${describeTypes(types)}. Derived from: ${scopeList}`,
        {
          ...api.base,
          // The type twice: in the routed params and in the path itself. Either alone would do on the
          // stand-in; together they hold even if a server let a query parameter shadow the route's
          // `resource/type` (docs/aidbox-contract.md §2.1 says only that query and route params are merged).
          uri: `#${api.uriPrefix}(?:${types.map(escapeRegex).join('|')})(?:/|$)`,
          operation: { id: { $enum: operationIds } },
          params: { ...api.params, 'resource/type': { $enum: types } },
        },
      ),
    );
  }

  policies.push(...exportPolicies(clientId, api, grants, scopeList, notes));

  if (scopes.some((s) => s.resourceType === '*')) {
    notes.push(
      `* was expanded to ${wildcardResourceTypes().length} FHIR R4 resource types: never Aidbox's own resources (Client, AccessPolicy, User, Session, …) nor the server-configuration types (SearchParameter, StructureDefinition, Subscription, …); types a later FHIR version adds are not covered until re-derived.`,
    );
  }
  const writeOnly = [...grants].filter(([, g]) => !g.has('r') && !g.has('s')).map(([t]) => t);
  if (writeOnly.length > 0) {
    notes.push(
      `Write access does not imply read: no read or search on ${describeTypes(writeOnly.sort(compareResourceTypes))}.`,
    );
  }
  notes.push(
    'Not granted by design: transaction and batch bundles (POST to the FHIR base), system-level search and history, compartment search, other $-operations, the Aidbox-format API and /fhir/metadata.',
  );
  if (organizationId !== null) {
    notes.push(
      `Only the API of Organization/${organizationId} is granted (not the root FHIR API, not parent or sibling organizations' APIs). Under Aidbox OrgBAC that API also serves the data of every Organization nested under ${organizationId} (its children, their children, …).`,
    );
  }

  return { policies, policyHash: sha256OfCanonicalJson(policies), notes };
}

/**
 * IDs of policies to delete after a re-derivation: those this derivation owns for the client (prefix
 * `<clientId>--`) that the new set no longer contains. Other policies linked to the client are left alone.
 */
export function staleAccessPolicyIds(
  clientId: string,
  existingIds: readonly string[],
  derived: Pick<DerivedPolicySet, 'policies'>,
): string[] {
  const keep = new Set(derived.policies.map((p) => p.id));
  const prefix = `${clientId}--`;
  return [...new Set(existingIds)].filter((id) => id.startsWith(prefix) && !keep.has(id)).sort();
}

/** Every scope goes through the parser again, so a hand-made ParsedScope cannot smuggle anything in. */
function reparse(scope: string | ParsedScope): ParsedScope {
  const text = typeof scope === 'string' ? scope : scope.scope;
  const result = parseScope(text);
  if (!result.ok) throw new ScopeDerivationError(`scope ${JSON.stringify(text)} refused: ${result.reason}`);
  return result.scope;
}

/**
 * The scopes in one normal form for descriptions (merged per type, v2 letters, `*` first then types):
 * the same grant written differently (`Patient.r Patient.s`, `Patient.read`) yields the same policies
 * and so the same hash.
 */
function normalizedScopeList(scopes: readonly ParsedScope[]): string {
  const merged = new Map<string, Set<Permission>>();
  for (const scope of scopes) {
    const granted = merged.get(scope.resourceType) ?? new Set<Permission>();
    for (const p of scope.permissions) granted.add(p);
    merged.set(scope.resourceType, granted);
  }
  return [...merged.keys()]
    .sort(compareResourceTypes)
    .map((type) => `system/${type}.${permissionString(merged.get(type) ?? [])}`)
    .join(' ');
}

/** Letters granted per concrete FHIR type, `*` expanded (union of all scopes: SMART scopes add up). */
function grantsPerType(scopes: readonly ParsedScope[]): Map<string, Set<Permission>> {
  const grants = new Map<string, Set<Permission>>();
  for (const scope of scopes) {
    const types = scope.resourceType === '*' ? wildcardResourceTypes() : [scope.resourceType];
    for (const type of types) {
      const granted = grants.get(type) ?? new Set<Permission>();
      for (const p of scope.permissions) granted.add(p);
      grants.set(type, granted);
    }
  }
  return grants;
}

interface ApiShape {
  table: ApiOperationTable;
  /** `client` and `uri` matchers shared by every policy. */
  base: Record<string, unknown>;
  /** `params` shared by every policy (the organization under OrgBAC). */
  params: Record<string, unknown>;
  /** The path prefix, regex-escaped, for `$export-status` matching. */
  uriPrefix: string;
}

function apiFor(clientId: string, organizationId: string | null): ApiShape {
  const client = { id: clientId, active: true };
  if (organizationId === null) {
    return {
      table: ROOT_FHIR_OPERATIONS,
      base: { client, uri: '#^/fhir/' },
      params: {},
      uriPrefix: '^/fhir/',
    };
  }
  const prefix = `^/Organization/${escapeRegex(organizationId)}/fhir/`;
  return {
    table: ORGBAC_FHIR_OPERATIONS,
    base: { client, uri: `#${prefix}` },
    params: { 'organization/id': organizationId },
    uriPrefix: prefix,
  };
}

function exportPolicies(
  clientId: string,
  api: ApiShape,
  grants: ReadonlyMap<string, ReadonlySet<Permission>>,
  scopeList: string,
  notes: string[],
): AccessPolicy[] {
  const exportable = [...grants]
    .filter(([, g]) => g.has('r') && g.has('s'))
    .map(([t]) => t)
    .sort(compareResourceTypes);
  if (exportable.length === 0) {
    notes.push('Bulk $export is not granted: no resource type has both read and search.');
    return [];
  }
  const ops = api.table.export;
  const kickOff = [ops.systemLevel, ops.patientLevel];
  // Payerbox davinci-data-export: the caller must be allowed to read the Group (docs/aidbox-contract.md §5).
  if (grants.get('Group')?.has('r')) kickOff.push(ops.groupLevel);
  const everyType = wildcardResourceTypes().every((t) => exportable.includes(t));
  const alternatives = exportable.map(escapeRegex).join('|');
  const kickOffUri = `#${api.uriPrefix}(?:\\$export|Patient/\\$export${kickOff.includes(ops.groupLevel) ? '|Group/[^/]+/\\$export' : ''})$`;
  const policies = [
    policy(
      clientId,
      'export',
      `Bulk $export kick-off (GET) with _type limited to ${describeTypes(exportable)} (read and search granted). Derived from: ${scopeList}`,
      {
        ...api.base,
        uri: kickOffUri,
        'request-method': 'get',
        operation: { id: { $enum: kickOff } },
        params: { ...api.params, _type: `#^(${alternatives})(,(${alternatives}))*$` },
      },
    ),
  ];
  if (everyType) {
    policies.push(
      policy(
        clientId,
        'export-all',
        `Bulk $export kick-off (GET) without _type: read and search cover every FHIR resource type. Derived from: ${scopeList}`,
        {
          ...api.base,
          uri: kickOffUri,
          'request-method': 'get',
          operation: { id: { $enum: kickOff } },
          params: { ...api.params, _type: 'nil?' },
        },
      ),
    );
  }
  policies.push(
    policy(clientId, 'export-status', `Bulk export status and cancel. Derived from: ${scopeList}`, {
      ...api.base,
      uri: `#${api.uriPrefix}\\$export-status/[^/]+$`,
      operation: { id: { $enum: [ops.status, ops.cancel] } },
      ...(Object.keys(api.params).length > 0 ? { params: { ...api.params } } : {}),
    }),
  );
  // Status, cancel and files are granted by path alone: what keeps one client off another's job is the
  // server binding each job to the client (and organization) that started it, which the reviewer must know.
  const binding =
    ' Status, cancel and file downloads rely on the server binding each export job to the client and Organization that started it (Bulk Data 2.0 lets a server limit them to the originating client; the Aidbox stand-in does, a real Aidbox must be checked); the manifest files require the access token.';
  notes.push(
    (everyType
      ? 'Bulk $export is granted with or without _type (read and search cover every FHIR resource type); POST kick-off is not granted.'
      : `Bulk $export is granted only with _type listing types among ${describeTypes(exportable)}; without _type an export would include every type, so it is refused. POST kick-off is not granted.`) +
      binding,
  );
  return policies;
}

function policy(
  clientId: string,
  purpose: string,
  description: string,
  matcho: Record<string, unknown>,
): AccessPolicy {
  return {
    resourceType: 'AccessPolicy',
    id: `${clientId}--${purpose}`,
    description,
    engine: 'matcho',
    link: [{ reference: `Client/${clientId}` }],
    matcho,
  };
}

/** Permission sets compared letter by letter in `cruds` order (cruds, cud, r, rs, s): a stable policy order. */
function comparePermissionKeys(a: string, b: string): number {
  const rank = (key: string) => key.split('').map((p) => 'cruds'.indexOf(p));
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++)
    if (ra[i] !== rb[i]) return (ra[i] ?? 0) - (rb[i] ?? 0);
  return ra.length - rb.length;
}

const PERMISSION_WORDS: Record<string, string> = {
  c: 'create',
  r: 'read (read, vread, instance history)',
  u: 'update (update, patch)',
  d: 'delete',
  s: 'search (search, POST _search, type history)',
};

function describePermissions(key: string): string {
  const words = key.split('').map((p) => PERMISSION_WORDS[p] ?? p);
  const conditional =
    key.includes('s') && (key.includes('u') || key.includes('d'))
      ? '; conditional update/patch/delete where both letters are held'
      : '';
  return `${words.join(', ')}${conditional}`;
}

function describeTypes(types: readonly string[]): string {
  if (types.length > LISTED_TYPES_LIMIT) return `${types.length} FHIR resource types`;
  return types.join(', ');
}

/** Escapes a literal for a regex (Aidbox matcho `#regex`). */
function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
