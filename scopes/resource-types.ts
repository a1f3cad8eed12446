/**
 * Which resource types a scope may name, and which ones `*` stands for.
 *
 * - A scope names a FHIR R4 resource type that the server supports (docs/smart-rules.md §3.4 S3; SMART Backend
 *   Services: a request for data the server does not support SHOULD fail).
 * - Aidbox serves its own system resources (Client, AccessPolicy, User, Session, …) under `/fhir` too
 *   (docs/aidbox-contract.md §2.4 step 4, §5 "Base URL conventions"). They are not FHIR types, so no scope can name
 *   them and `*` never covers them.
 */

/** FHIR R4 (4.0.1) concrete resource types (the R4 `resource-types` code system without the abstract
 * Resource and DomainResource: 146 types), https://hl7.org/fhir/R4/codesystem-resource-types.html */
export const FHIR_R4_RESOURCE_TYPES: readonly string[] = Object.freeze([
  'Account',
  'ActivityDefinition',
  'AdverseEvent',
  'AllergyIntolerance',
  'Appointment',
  'AppointmentResponse',
  'AuditEvent',
  'Basic',
  'Binary',
  'BiologicallyDerivedProduct',
  'BodyStructure',
  'Bundle',
  'CapabilityStatement',
  'CarePlan',
  'CareTeam',
  'CatalogEntry',
  'ChargeItem',
  'ChargeItemDefinition',
  'Claim',
  'ClaimResponse',
  'ClinicalImpression',
  'CodeSystem',
  'Communication',
  'CommunicationRequest',
  'CompartmentDefinition',
  'Composition',
  'ConceptMap',
  'Condition',
  'Consent',
  'Contract',
  'Coverage',
  'CoverageEligibilityRequest',
  'CoverageEligibilityResponse',
  'DetectedIssue',
  'Device',
  'DeviceDefinition',
  'DeviceMetric',
  'DeviceRequest',
  'DeviceUseStatement',
  'DiagnosticReport',
  'DocumentManifest',
  'DocumentReference',
  'EffectEvidenceSynthesis',
  'Encounter',
  'Endpoint',
  'EnrollmentRequest',
  'EnrollmentResponse',
  'EpisodeOfCare',
  'EventDefinition',
  'Evidence',
  'EvidenceVariable',
  'ExampleScenario',
  'ExplanationOfBenefit',
  'FamilyMemberHistory',
  'Flag',
  'Goal',
  'GraphDefinition',
  'Group',
  'GuidanceResponse',
  'HealthcareService',
  'ImagingStudy',
  'Immunization',
  'ImmunizationEvaluation',
  'ImmunizationRecommendation',
  'ImplementationGuide',
  'InsurancePlan',
  'Invoice',
  'Library',
  'Linkage',
  'List',
  'Location',
  'Measure',
  'MeasureReport',
  'Media',
  'Medication',
  'MedicationAdministration',
  'MedicationDispense',
  'MedicationKnowledge',
  'MedicationRequest',
  'MedicationStatement',
  'MedicinalProduct',
  'MedicinalProductAuthorization',
  'MedicinalProductContraindication',
  'MedicinalProductIndication',
  'MedicinalProductIngredient',
  'MedicinalProductInteraction',
  'MedicinalProductManufactured',
  'MedicinalProductPackaged',
  'MedicinalProductPharmaceutical',
  'MedicinalProductUndesirableEffect',
  'MessageDefinition',
  'MessageHeader',
  'MolecularSequence',
  'NamingSystem',
  'NutritionOrder',
  'Observation',
  'ObservationDefinition',
  'OperationDefinition',
  'OperationOutcome',
  'Organization',
  'OrganizationAffiliation',
  'Parameters',
  'Patient',
  'PaymentNotice',
  'PaymentReconciliation',
  'Person',
  'PlanDefinition',
  'Practitioner',
  'PractitionerRole',
  'Procedure',
  'Provenance',
  'Questionnaire',
  'QuestionnaireResponse',
  'RelatedPerson',
  'RequestGroup',
  'ResearchDefinition',
  'ResearchElementDefinition',
  'ResearchStudy',
  'ResearchSubject',
  'RiskAssessment',
  'RiskEvidenceSynthesis',
  'Schedule',
  'SearchParameter',
  'ServiceRequest',
  'Slot',
  'Specimen',
  'SpecimenDefinition',
  'StructureDefinition',
  'StructureMap',
  'Subscription',
  'Substance',
  'SubstanceNucleicAcid',
  'SubstancePolymer',
  'SubstanceProtein',
  'SubstanceReferenceInformation',
  'SubstanceSourceMaterial',
  'SubstanceSpecification',
  'SupplyDelivery',
  'SupplyRequest',
  'Task',
  'TerminologyCapabilities',
  'TestReport',
  'TestScript',
  'ValueSet',
  'VerificationResult',
  'VisionPrescription',
]);

/**
 * Aidbox's own resource types (docs/aidbox-contract.md §1, §2.1, §2.4 step 4; Aidbox "core module resources").
 * Not FHIR types: a scope naming one is refused, and `*` never expands to one. The list is for messages
 * and tests; what protects them is that only FHIR_R4_RESOURCE_TYPES can ever be granted (an allow-list).
 */
export const AIDBOX_SYSTEM_RESOURCE_TYPES: readonly string[] = Object.freeze([
  'AccessPolicy',
  'AidboxConfig',
  'AidboxJob',
  'AidboxJobStatus',
  'AidboxProfile',
  'AidboxQuery',
  'AidboxSubscription',
  'AidboxTopicDestination',
  'App',
  'Attribute',
  'AuthConfig',
  'BulkExportStatus',
  'BulkImportStatus',
  'Client',
  'Concept',
  'Entity',
  'FHIRSchema',
  'Grant',
  'GtsTokenIntrospector',
  'Hl7v2Config',
  'Hl7v2Message',
  'IdentityProvider',
  'Lambda',
  'Mapping',
  'Module',
  'Notification',
  'NotificationTemplate',
  'Operation',
  'Role',
  'Scope',
  'SearchQuery',
  'SeedImport',
  'Session',
  'SubsNotification',
  'SubsSubscription',
  'TokenIntrospector',
  'User',
  'ViewDefinition',
]);

/**
 * FHIR types through which a client would reconfigure the server itself rather than read or write
 * data: Aidbox loads SearchParameter / StructureDefinition / OperationDefinition … as its own meta
 * resources (custom search parameters, FHIR Schema profiles), and a Subscription makes the server
 * push data to an endpoint of the subscriber's choice. `*` means "all data types"; it does not stretch
 * to these. A scope that names one explicitly is allowed, and flagged for the reviewer (risk.ts).
 * Our decision (SMART App Launch "Wildcard scopes" leaves the server's type list to the server).
 */
export const WILDCARD_EXCLUDED_FHIR_TYPES: readonly string[] = Object.freeze([
  'CapabilityStatement',
  'CompartmentDefinition',
  'ImplementationGuide',
  'OperationDefinition',
  'SearchParameter',
  'StructureDefinition',
  'Subscription',
]);

const fhirTypeSet: ReadonlySet<string> = new Set(FHIR_R4_RESOURCE_TYPES);
const aidboxTypeSet: ReadonlySet<string> = new Set(AIDBOX_SYSTEM_RESOURCE_TYPES);
const wildcardExcludedSet: ReadonlySet<string> = new Set(WILDCARD_EXCLUDED_FHIR_TYPES);

export function isFhirR4ResourceType(type: string): boolean {
  return fhirTypeSet.has(type);
}

export function isAidboxSystemResourceType(type: string): boolean {
  return aidboxTypeSet.has(type);
}

export function isWildcardExcludedType(type: string): boolean {
  return wildcardExcludedSet.has(type);
}

/**
 * What the server supports: the FHIR R4 list, optionally narrowed to the types a CapabilityStatement
 * declares (docs/smart-rules.md §3.4 S3: narrowed by the sandbox CapabilityStatement when known).
 */
export interface SupportedResourceTypes {
  /** Types a scope may name. Always a subset of FHIR_R4_RESOURCE_TYPES. */
  readonly types: ReadonlySet<string>;
  /** Where the list comes from, for messages. */
  readonly source: 'fhir-r4' | 'capability-statement';
}

export const ALL_FHIR_R4_TYPES: SupportedResourceTypes = Object.freeze({
  types: fhirTypeSet,
  source: 'fhir-r4',
});

/**
 * Narrows the FHIR R4 list to the types of `rest[mode=server].resource[].type` in a CapabilityStatement.
 * Aidbox lists its own system types there too; they are dropped (never grantable). Returns the full
 * FHIR R4 list when the document has no usable resource list, so a broken sandbox never empties it.
 */
export function supportedTypesFromCapabilityStatement(capabilityStatement: unknown): SupportedResourceTypes {
  const declared = new Set<string>();
  const rest = (capabilityStatement as { rest?: unknown } | null)?.rest;
  if (Array.isArray(rest)) {
    for (const entry of rest as unknown[]) {
      const mode = (entry as { mode?: unknown } | null)?.mode;
      const resources = (entry as { resource?: unknown } | null)?.resource;
      if (mode !== undefined && mode !== 'server') continue;
      if (!Array.isArray(resources)) continue;
      for (const resource of resources as unknown[]) {
        const type = (resource as { type?: unknown } | null)?.type;
        if (typeof type === 'string' && fhirTypeSet.has(type)) declared.add(type);
      }
    }
  }
  if (declared.size === 0) return ALL_FHIR_R4_TYPES;
  return { types: declared, source: 'capability-statement' };
}

/** The types `*` expands to: every FHIR R4 type except the server-configuration ones (never Aidbox's). */
export function wildcardResourceTypes(): readonly string[] {
  return FHIR_R4_RESOURCE_TYPES.filter((type) => !wildcardExcludedSet.has(type));
}

/** `*` first, then types in code-unit order (locale-independent, so every process sorts alike). */
export function compareResourceTypes(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '*') return -1;
  if (b === '*') return 1;
  return a < b ? -1 : 1;
}
