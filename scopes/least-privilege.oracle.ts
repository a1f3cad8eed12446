/**
 * The oracle of the least-privilege property: what SMART system scopes allow, written from the SMART
 * scope table and this product's documented decisions, NOT from the derivation's tables
 * (operation-ids.ts, derive.ts). It never sees an AccessPolicy, an operation id or a URL: it judges
 * a request *intent* ("read Patient/1 through Organization/org-a's API"); the test renders the same
 * intent as HTTP for the stand-in's engine.
 *
 * Shared with the derivation on purpose: only the list of FHIR R4 resource types (what a FHIR type
 * is), which defines the vocabulary rather than the mapping under test. What `*` does NOT stand for is
 * a product decision under test, so the oracle states it again below as its own literal: dropping a
 * type from the product's list must make the oracle and the engine disagree.
 */
import { FHIR_R4_RESOURCE_TYPES } from './resource-types.js';

/**
 * FHIR types a `*` scope does not cover (the product decision stated in scopes/resource-types.ts): types
 * that reconfigure the server or push data out. Written out here, never imported from the derivation.
 */
export const ORACLE_WILDCARD_EXCLUDED_TYPES = [
  'CapabilityStatement',
  'CompartmentDefinition',
  'ImplementationGuide',
  'OperationDefinition',
  'SearchParameter',
  'StructureDefinition',
  'Subscription',
] as const;

type Letter = 'c' | 'r' | 'u' | 'd' | 's';

/**
 * SMART App Launch 2.x, "Scopes and Launch Context", the permission table:
 *   c: type create · r: read, vread, instance history · u: update, patch · d: delete ·
 *   s: type search (GET and POST _search), type history.
 * Plus the product's decisions (operation-ids.ts header, restated here independently):
 *   conditional update/patch need u+s, conditional delete needs d+s.
 */
export const SMART_INTERACTIONS = {
  create: ['c'],
  read: ['r'],
  vread: ['r'],
  'history-instance': ['r'],
  update: ['u'],
  patch: ['u'],
  delete: ['d'],
  'search-type': ['s'],
  'search-type-post': ['s'],
  'history-type': ['s'],
  'conditional-update': ['u', 's'],
  'conditional-patch': ['u', 's'],
  'conditional-delete': ['d', 's'],
} as const satisfies Record<string, readonly Letter[]>;

export type SmartInteraction = keyof typeof SMART_INTERACTIONS;

/** Which API a request goes through. */
export type Api = { kind: 'root' } | { kind: 'organization'; organizationId: string };

export type Intent =
  | { kind: 'interaction'; interaction: SmartInteraction; resourceType: string; api: Api }
  | {
      kind: 'export';
      level: 'system' | 'patient' | 'group';
      method: 'GET' | 'POST';
      /** Each occurrence of `_type` in the query, split on commas; [] when absent. */
      typeParams: string[][];
      api: Api;
    }
  | { kind: 'export-status'; method: 'GET' | 'DELETE'; api: Api }
  /** Anything no scope grants: transaction/batch bundles, system search/history, compartment search,
   * other $-operations, metadata, the Aidbox-format API, non-FHIR paths (documented decisions). */
  | { kind: 'never-granted'; label: string; api: Api | null };

export interface OracleContext {
  /** Scope strings as registered (valid v1 or v2 system scopes). */
  scopes: readonly string[];
  /** The organization the client is bound to, or null (root FHIR API). */
  organizationId: string | null;
  /** Whether the server runs OrgBAC (only then do organization APIs exist). */
  orgbac: boolean;
  /** The caller is the registered client, and it is active. */
  callerIsTheActiveClient: boolean;
}

const V1_WORDS: Record<string, readonly Letter[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};

const fhirTypes = new Set(FHIR_R4_RESOURCE_TYPES);
const notCoveredByWildcard: ReadonlySet<string> = new Set(ORACLE_WILDCARD_EXCLUDED_TYPES);

/** SMART: `system/<Type|*>.<perms>`; scopes add up; `*` covers every FHIR type it stands for. */
function holds(scopes: readonly string[], resourceType: string, letter: Letter): boolean {
  if (!fhirTypes.has(resourceType)) return false;
  return scopes.some((scope) => {
    const match = /^system\/([^.]+)\.(.+)$/.exec(scope);
    if (!match) return false;
    const [, type, perms] = match as unknown as [string, string, string];
    const letters = V1_WORDS[perms] ?? (perms.split('') as Letter[]);
    const typeCovered = type === resourceType || (type === '*' && !notCoveredByWildcard.has(resourceType));
    return typeCovered && letters.includes(letter);
  });
}

function holdsAll(scopes: readonly string[], resourceType: string, letters: readonly Letter[]): boolean {
  return letters.every((letter) => holds(scopes, resourceType, letter));
}

/** The client uses its own API only: root when unbound; its organization's API when bound (and OrgBAC on). */
function apiAllowed(api: Api, context: OracleContext): boolean {
  if (context.organizationId === null) return api.kind === 'root';
  return context.orgbac && api.kind === 'organization' && api.organizationId === context.organizationId;
}

/** Bulk export reads every resource of the exported types: it needs read AND search on each (v1 "read"). */
function mayExportType(scopes: readonly string[], resourceType: string): boolean {
  return holdsAll(scopes, resourceType, ['r', 's']);
}

export function smartAllows(intent: Intent, context: OracleContext): boolean {
  if (!context.callerIsTheActiveClient) return false;
  if (intent.kind === 'never-granted') return false;
  if (!apiAllowed(intent.api, context)) return false;
  const { scopes } = context;

  switch (intent.kind) {
    case 'interaction':
      return holdsAll(scopes, intent.resourceType, SMART_INTERACTIONS[intent.interaction]);
    case 'export': {
      // Kick-off by GET only: a POST carries `_type` in a Parameters body no policy can inspect.
      if (intent.method !== 'GET') return false;
      // Group-level export also needs read on the Group (Payerbox $davinci-data-export).
      if (intent.level === 'group' && !holds(scopes, 'Group', 'r')) return false;
      if (intent.typeParams.length === 0) {
        // Without _type the export covers every type: allowed only if every type `*` stands for may be exported.
        return FHIR_R4_RESOURCE_TYPES.filter((t) => !notCoveredByWildcard.has(t)).every((t) =>
          mayExportType(scopes, t),
        );
      }
      // A repeated _type is refused (ambiguous: which list wins is not documented).
      if (intent.typeParams.length > 1) return false;
      const types = intent.typeParams[0] ?? [];
      return types.length > 0 && types.every((t) => mayExportType(scopes, t));
    }
    case 'export-status': {
      // Status and cancel go with the right to start some export.
      return FHIR_R4_RESOURCE_TYPES.some((t) => mayExportType(scopes, t));
    }
  }
}
