/**
 * Resource types the stand-in serves (docs/aidbox-contract.md §9.1: Client, AccessPolicy,
 * Organization, Session and a few clinical types). Aidbox serves hundreds; a type outside this list
 * answers 404 here, and a scope naming one is `invalid_scope` (docs/smart-rules.md S3: a type the server
 * does not support).
 */
export const CLINICAL_TYPES = [
  'AllergyIntolerance',
  'CarePlan',
  'CareTeam',
  'Claim',
  'ClaimResponse',
  'Condition',
  'Coverage',
  'Device',
  'DiagnosticReport',
  'DocumentReference',
  'Encounter',
  'ExplanationOfBenefit',
  'Goal',
  'Group',
  'Immunization',
  'Location',
  'Medication',
  'MedicationRequest',
  'Observation',
  'Organization',
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Procedure',
  'Provenance',
  'RelatedPerson',
] as const;

/** Aidbox system resources, reachable under /fhir and the Aidbox-format API alike (section 5). */
export const SYSTEM_TYPES = [
  'Client',
  'AccessPolicy',
  'Session',
  'User',
  'SearchParameter',
  'TokenIntrospector',
] as const;

const known = new Set<string>([...CLINICAL_TYPES, ...SYSTEM_TYPES]);

export const isKnownType = (type: string): boolean => known.has(type);
export const isClinicalType = (type: string): boolean => (CLINICAL_TYPES as readonly string[]).includes(type);
