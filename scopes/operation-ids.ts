/**
 * The derivation's table: which Aidbox operation ids each SMART permission letter unlocks, on the root
 * FHIR API (`/fhir/...`) and on an organization's API under OrgBAC (`/Organization/<org>/fhir/...`).
 *
 * SMART App Launch 2.x, "Scopes and Launch Context", permission table:
 *   c = type create; r = read, vread, instance history; u = update (incl. update-as-create), patch;
 *   d = delete; s = type search, type history (system search/history: see below).
 * Aidbox operation ids: docs/aidbox-contract.md §2.1 (FHIR API list) and 2.4 step 3; OrgBAC ids: 2.4 step 3, 3.
 *
 * Decisions (each one is the stricter reading; the oracle in least-privilege.test.ts encodes the same):
 * - Conditional update/patch need u AND s, conditional delete needs d AND s: the server searches with the
 *   client's criteria before it writes, and a write answer reveals whether anything matched.
 * - System-level search and history (`GET /fhir?…`, `GET /fhir/_history`) and compartment search
 *   (`GET /fhir/Patient/1/Observation`) are never granted: they span types the scope set may not cover.
 * - Transaction/batch bundles (`POST /fhir`, FhirTransaction / orgbac-fhir-bundle) are never granted: the
 *   AccessPolicy layer sees only the bundle, not its entries (docs/aidbox-contract.md §2.5: entries are checked one
 *   by one only in the scope layer, which a client without `atv: 2` tokens does not get).
 * - The Aidbox-format API (`/<Type>`), `$`-operations other than bulk export, and `/fhir/metadata` are
 *   never granted by derived policies (`uri` is anchored to the FHIR API; docs/aidbox-contract.md §2.4 step 4).
 */
import type { Permission } from './permissions.js';

/** One row: the operation ids a request needs, and the letters the client must hold on the type. */
export interface OperationGrant {
  operationId: string;
  requires: readonly Permission[];
}

export interface ApiOperationTable {
  /** Type-level REST interactions, keyed by operation id. */
  rest: readonly OperationGrant[];
  /** Bulk export kick-off per level, status, cancel (docs/aidbox-contract.md §5). */
  export: {
    systemLevel: string;
    patientLevel: string;
    groupLevel: string;
    status: string;
    cancel: string;
  };
}

export const ROOT_FHIR_OPERATIONS: ApiOperationTable = {
  rest: [
    { operationId: 'FhirCreate', requires: ['c'] },
    { operationId: 'FhirRead', requires: ['r'] },
    { operationId: 'FhirVread', requires: ['r'] },
    { operationId: 'FhirHistory', requires: ['r'] },
    { operationId: 'FhirUpdate', requires: ['u'] },
    { operationId: 'FhirPatch', requires: ['u'] },
    { operationId: 'FhirDelete', requires: ['d'] },
    { operationId: 'FhirSearch', requires: ['s'] },
    { operationId: 'FhirPostSearch', requires: ['s'] },
    { operationId: 'FhirHistoryType', requires: ['s'] },
    { operationId: 'FhirConditionalUpdate', requires: ['u', 's'] },
    { operationId: 'FhirConditionalPatch', requires: ['u', 's'] },
    { operationId: 'FhirConditionalDelete', requires: ['d', 's'] },
  ],
  export: {
    systemLevel: 'start-fhir-system-level-export',
    patientLevel: 'start-fhir-patient-level-export',
    groupLevel: 'start-fhir-group-level-export',
    status: 'fhir-export-status',
    cancel: 'fhir-delete-export',
  },
};

/**
 * OrgBAC ids (kebab-case). Only read, search, create, patch and bundle are confirmed publicly
 * (docs/aidbox-contract.md §2.4 step 3, §9 caveats); the others are the names the stand-in's router chose
 * (aidbox-standin/policy/request.ts OPERATION_IDS). `POST _search` is `orgbac-fhir-search` there too.
 * To verify against a real Aidbox before production (docs/aidbox-contract.md §9, "Fidelity caveats").
 */
export const ORGBAC_FHIR_OPERATIONS: ApiOperationTable = {
  rest: [
    { operationId: 'orgbac-fhir-create', requires: ['c'] },
    { operationId: 'orgbac-fhir-read', requires: ['r'] },
    { operationId: 'orgbac-fhir-vread', requires: ['r'] },
    { operationId: 'orgbac-fhir-history', requires: ['r'] },
    { operationId: 'orgbac-fhir-update', requires: ['u'] },
    { operationId: 'orgbac-fhir-patch', requires: ['u'] },
    { operationId: 'orgbac-fhir-delete', requires: ['d'] },
    { operationId: 'orgbac-fhir-search', requires: ['s'] },
    { operationId: 'orgbac-fhir-history-type', requires: ['s'] },
    { operationId: 'orgbac-fhir-conditional-update', requires: ['u', 's'] },
    { operationId: 'orgbac-fhir-conditional-patch', requires: ['u', 's'] },
    { operationId: 'orgbac-fhir-conditional-delete', requires: ['d', 's'] },
  ],
  export: {
    systemLevel: 'orgbac-start-fhir-system-level-export',
    patientLevel: 'orgbac-start-fhir-patient-level-export',
    groupLevel: 'orgbac-start-fhir-group-level-export',
    status: 'orgbac-fhir-export-status',
    cancel: 'orgbac-fhir-delete-export',
  },
};

/** The operation ids a set of letters unlocks on one type, in table order. */
export function restOperationIds(table: ApiOperationTable, granted: ReadonlySet<Permission>): string[] {
  return table.rest.filter((row) => row.requires.every((p) => granted.has(p))).map((row) => row.operationId);
}
