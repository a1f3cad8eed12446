/**
 * The derivation's table: which Aidbox operation ids each SMART permission letter unlocks, on the root
 * FHIR API (`/fhir/...`) and on an organization's API under OrgBAC (`/Organization/<org>/fhir/...`).
 *
 * SMART App Launch 2.x, "Scopes and Launch Context", permission table:
 *   c = type create; r = read, vread, instance history; u = update (incl. update-as-create), patch;
 *   d = delete; s = type search, type history (system search/history: see below).
 * Aidbox operation ids: UNVERIFIED, every one of them. They were copied from the Aidbox stand-in's
 * router (aidbox-standin/policy/request.ts), which was written from the team's reading of Aidbox; a
 * search of Aidbox's public documentation (issue 22) found no page listing these ids, so none is marked
 * confirmed. The least-privilege test checks the derivation against the stand-in, which shares these
 * names, so it cannot catch a wrong id: verify them against a real Aidbox (its `Operation` resources)
 * before production.
 *
 * Decisions (each one is the stricter reading; the oracle in least-privilege.test.ts encodes the same):
 * - Conditional update/patch need u AND s, conditional delete needs d AND s: the server searches with the
 *   client's criteria before it writes, and a write answer reveals whether anything matched.
 * - System-level search and history (`GET /fhir?…`, `GET /fhir/_history`) and compartment search
 *   (`GET /fhir/Patient/1/Observation`) are never granted: they span types the scope set may not cover.
 * - Transaction/batch bundles (`POST /fhir`, FhirTransaction / orgbac-fhir-bundle) are never granted: the
 *   AccessPolicy layer sees only the bundle, not its entries (Aidbox's scope layer: entries are checked one
 *   by one only in the scope layer, which a client without `atv: 2` tokens does not get).
 * - The Aidbox-format API (`/<Type>`), `$`-operations other than bulk export, and `/fhir/metadata` are
 *   never granted by derived policies (`uri` is anchored to the FHIR API).
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
  /** Bulk export kick-off per level, status, cancel. */
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
 * OrgBAC ids (kebab-case): UNVERIFIED, like the ids above. An earlier note said read, search, create,
 * patch and bundle were confirmed publicly, citing a document that is not in this repository; the
 * issue 22 search of Aidbox's public documentation did not find them, so they are unverified too. All
 * are the names the stand-in's router chose (aidbox-standin/policy/request.ts OPERATION_IDS);
 * `POST _search` is `orgbac-fhir-search` there too.
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
