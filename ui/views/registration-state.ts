import { OPERATIONS, type Operation } from '../../scopes/permissions.js';
import type { RegistrationInput, Service } from '../api-client.js';

/**
 * The register and edit form's state: what the person filled in, read from the posted form or
 * from the service, the presets and row edits the form's own buttons make, and the registration
 * input the API takes.
 */
export interface RuleRow {
  resource: string;
  operations: Operation[];
}

export interface FormState {
  name: string;
  description: string;
  contactEmail: string;
  authType: 'jwks_uri' | 'client_secret';
  jwksUri: string;
  version: 'v1' | 'v2';
  rows: RuleRow[];
  organizationId: string;
  idempotencyKey: string;
  /** Edit only: the revision the form was opened at (If-Match). */
  revision?: number;
  /** Blank rows to show after the filled ones. */
  extraRows?: number;
}

export const emptyForm = (idempotencyKey: string): FormState => ({
  name: '',
  description: '',
  contactEmail: '',
  authType: 'jwks_uri',
  jwksUri: '',
  version: 'v2',
  rows: [{ resource: '', operations: [] }],
  organizationId: '',
  idempotencyKey,
});

/** The form of an edit: the pending change when a live service has one (that is what an edit changes). */
export function formFromService(service: Service, idempotencyKey: string): FormState {
  const r = service.pendingChange?.registration ?? service;
  return {
    name: r.name,
    description: r.description,
    contactEmail: r.contactEmail,
    authType: r.authMethod.type,
    jwksUri: r.authMethod.type === 'jwks_uri' ? r.authMethod.jwksUri : '',
    version: r.scopes.version,
    rows: r.scopes.rules.map((rule) => ({ resource: rule.resource, operations: rule.operations })),
    organizationId: r.organizationId ?? '',
    idempotencyKey,
    revision: service.pendingChange?.revision ?? service.revision,
  };
}

const text = (body: Record<string, unknown>, key: string) => {
  const value = body[key];
  return typeof value === 'string' ? value : '';
};

export function formFromBody(body: Record<string, unknown>): FormState {
  const rows: RuleRow[] = [];
  // Rows removed in place by portal.js leave gaps in the numbering: skip them rather than stop.
  for (let i = 0; i < 200; i++) {
    if (!(`rule-${i}-resource` in body)) continue;
    rows.push({
      resource: text(body, `rule-${i}-resource`).trim(),
      operations: OPERATIONS.filter((op) => body[`rule-${i}-${op}`] !== undefined),
    });
  }
  const revision = Number(text(body, 'revision'));
  return {
    name: text(body, 'name'),
    description: text(body, 'description'),
    contactEmail: text(body, 'contactEmail').trim(),
    authType: text(body, 'authType') === 'client_secret' ? 'client_secret' : 'jwks_uri',
    jwksUri: text(body, 'jwksUri').trim(),
    version: text(body, 'version') === 'v1' ? 'v1' : 'v2',
    rows,
    organizationId: text(body, 'organizationId'),
    idempotencyKey: text(body, 'idempotencyKey'),
    ...(Number.isInteger(revision) && revision > 0 ? { revision } : {}),
  };
}

export const filled = (row: RuleRow) => row.resource !== '' || row.operations.length > 0;

/** The registration input the API takes, and which form row each rule came from (for its errors). */
export function toRegistrationInput(form: FormState, orgbac: boolean) {
  const rowOfRule: number[] = [];
  const rules = form.rows.flatMap((row, index) => {
    if (!filled(row)) return [];
    rowOfRule.push(index);
    return [{ resource: row.resource, operations: row.operations }];
  });
  const input: RegistrationInput = {
    name: form.name,
    description: form.description,
    contactEmail: form.contactEmail,
    authMethod:
      form.authType === 'jwks_uri' ? { type: 'jwks_uri', jwksUri: form.jwksUri } : { type: 'client_secret' },
    scopes: { version: form.version, rules },
    organizationId: orgbac ? form.organizationId || null : null,
  };
  return { input, rowOfRule };
}

/** Starting points for the scope rules: each replaces the rows (the person can still change them). */
export const SCOPE_PRESETS: Record<string, { label: string; version?: 'v1' | 'v2'; rows: RuleRow[] }> = {
  'bulk-read': {
    label: 'Bulk export, read-only',
    rows: [{ resource: '*', operations: ['read', 'search'] }],
  },
  'patient-read': {
    label: 'Patient records, read-only',
    rows: ['Patient', 'Encounter', 'Condition', 'Observation', 'MedicationRequest', 'Immunization'].map(
      (resource): RuleRow => ({ resource, operations: ['read', 'search'] }),
    ),
  },
  'claims-read': {
    label: 'Claims and coverage, read-only',
    rows: ['Claim', 'ClaimResponse', 'ExplanationOfBenefit', 'Coverage'].map((resource): RuleRow => ({
      resource,
      operations: ['read', 'search'],
    })),
  },
  'observation-write': {
    label: 'Send observations',
    rows: [{ resource: 'Observation', operations: ['create', 'update'] }],
  },
};

/** A form with the rows of a preset (other fields kept). */
export function withPreset(form: FormState, preset: string): FormState {
  const chosen = SCOPE_PRESETS[preset];
  if (!chosen) return form;
  return { ...form, rows: chosen.rows.map((r) => ({ ...r, operations: [...r.operations] })) };
}

/** A form without row `index` (one blank row stays when it was the last). */
export function withoutRow(form: FormState, index: number): FormState {
  const rows = form.rows.filter((_, i) => i !== index);
  return { ...form, rows: rows.length ? rows : [{ resource: '', operations: [] }] };
}
