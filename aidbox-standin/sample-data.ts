/**
 * Sample data (issue 3): a few Patients, Observations, Encounters and a Group at the root API; with
 * OrgBAC on (the production instance) also a small organization tree, each organization holding
 * data of its own, stamped as if written through its API (docs/aidbox-contract.md §3):
 *
 *   org-payer-a            org-payer-b     (siblings)
 *     └─ org-payer-a-east                  (child of a)
 */
import { stampTenant } from './fhir/orgbac.js';
import type { ResourceStore } from './store/store.js';

export const SAMPLE_ORGANIZATIONS = {
  parent: 'org-payer-a',
  child: 'org-payer-a-east',
  sibling: 'org-payer-b',
} as const;

function clinicalSet(store: ResourceStore, prefix: string, label: string, tenant?: string): void {
  const put = (type: string, id: string, body: Record<string, unknown>) =>
    store.put(type, id, tenant ? stampTenant(body, tenant) : body);
  const patients = [1, 2, 3].map((n) => `${prefix}pt-${n}`);
  patients.forEach((id, i) =>
    put('Patient', id, {
      name: [{ family: `${label}${['Smith', 'Jones', 'Garcia'][i]}`, given: [['Anna', 'Ben', 'Carla'][i]] }],
      gender: ['female', 'male', 'female'][i],
      birthDate: ['1970-01-01', '1985-06-15', '2001-11-30'][i],
    }),
  );
  patients.forEach((patient, i) => {
    put('Observation', `${prefix}obs-${i + 1}`, {
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
          ],
        },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '2339-0', display: 'Glucose' }] },
      subject: { reference: `Patient/${patient}` },
      valueQuantity: { value: 90 + i * 7, unit: 'mg/dL' },
    });
    put('Encounter', `${prefix}enc-${i + 1}`, {
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/${patient}` },
    });
  });
  put('Group', `${prefix}group-1`, {
    type: 'person',
    actual: true,
    name: `${label}members`,
    member: patients.map((id) => ({ entity: { reference: `Patient/${id}` } })),
  });
}

export function loadSampleData(store: ResourceStore, orgbac: boolean): void {
  // Payerbox's test patient for "Test Launch" (docs/aidbox-contract.md §7.3) plus a small set.
  store.put('Patient', 'test-pt-1', { name: [{ family: 'Test', given: ['Patient'] }], gender: 'unknown' });
  clinicalSet(store, '', '');
  if (!orgbac) return;
  const { parent, child, sibling } = SAMPLE_ORGANIZATIONS;
  store.put('Organization', parent, {
    name: 'Payer A',
    active: true,
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1000000001' }],
  });
  store.put('Organization', child, {
    name: 'Payer A East',
    active: true,
    partOf: { reference: `Organization/${parent}` },
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1000000002' }],
  });
  store.put('Organization', sibling, {
    name: 'Payer B',
    active: true,
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1000000003' }],
  });
  clinicalSet(store, 'a-', 'A ', parent);
  clinicalSet(store, 'a-east-', 'A East ', child);
  clinicalSet(store, 'b-', 'B ', sibling);
}
