/**
 * Bulk export, enough to authorize and follow `$export` requests as a Bulk Data 2.0 client does
 * (docs/aidbox-contract.md §5 and §9.11; the protocol rules follow the IG,
 * https://hl7.org/fhir/uv/bulkdata/STU2/export.html):
 * - kick-off (system, Patient, Group level) needs `Prefer: respond-async` (400 otherwise), an
 *   `Accept` that allows FHIR JSON, and answers 202 with `Content-Location: <base>/…/$export-status/<id>`;
 *   `_type`, `_since`, `_typeFilter` and `_outputFormat` are applied; an unsupported type or parameter is
 *   400 (strict, the default) or an entry of the manifest's `error` files (`Prefer: handling=lenient`);
 * - one running export **per client** (README "unverified"): a second kick-off of the same client while
 *   its first is unpolled answers 429 with `Retry-After`; other clients are not held up;
 * - each job is bound to the client that started it and to the organization whose API it was started
 *   through: status, cancel and files answer 404 to anyone else (the IG lets a server limit them to the
 *   originating client: "Bulk Data Status Request");
 * - the status answers 202 (`X-Progress`, `Retry-After`) for the first poll(s), then 200 with a manifest
 *   whose files the stand-in serves itself and which require the access token (`requiresAccessToken: true`);
 * - DELETE cancels (202); the job is gone afterwards (404), as the IG's "Bulk Data Delete Request" says.
 * The data are taken at kick-off.
 */
import { randomUUID } from 'node:crypto';
import { HttpError, notFound, operationOutcome } from '../http/outcome.js';
import type { Resource } from '../store/store.js';
import { CLINICAL_TYPES } from './resource-types.js';
import { search } from './search.js';

export type ExportLevel = 'system' | 'patient' | 'group';

/** Who may follow a job: the starting caller (`Client/<id>`, or `root`) and the organization API used. */
export interface ExportOwner {
  caller: string;
  organizationId?: string;
}

interface ExportJob {
  id: string;
  owner: ExportOwner;
  polls: number;
  transactionTime: string;
  request: string;
  files: Map<string, Resource[]>;
  errors: Resource[];
}

export interface ExportKickOff {
  level: ExportLevel;
  requestUrl: string;
  owner: ExportOwner;
  params: Record<string, string | string[]>;
  headers: { prefer?: string; accept?: string };
  /** Members of the exported Group (group level). */
  groupPatientIds?: string[];
  /** All resources of a type the caller's API can see (OrgBAC-filtered). */
  collect: (type: string) => Resource[];
}

/** Seconds a throttled client is told to wait (429) and a poller between polls (202). */
export const EXPORT_RETRY_AFTER_SECONDS = 1;

const OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
/** Kick-off parameters of the IG the stand-in does not implement: error when strict, ignored when lenient. */
const UNSUPPORTED_PARAMS = ['patient', '_elements', 'includeAssociatedData', 'organizeOutputBy'];

const subjectPatientId = (resource: Resource): string | undefined => {
  const reference = ((resource.subject ?? resource.patient) as { reference?: string } | undefined)?.reference;
  return reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined;
};

const list = (value: string | string[] | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

const badRequest = (why: string) => new HttpError(400, 'invalid', why);

function preferTokens(prefer: string | undefined): string[] {
  return (prefer ?? '')
    .split(/[,;]/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/** The Accept of a kick-off: absent, or one that allows FHIR JSON (IG "Headers": Accept). */
function acceptsFhirJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept
    .split(',')
    .map((a) => a.split(';')[0]!.trim().toLowerCase())
    .some((a) => ['application/fhir+json', 'application/json', '*/*', 'application/*'].includes(a));
}

export class ExportJobs {
  private jobs = new Map<string, ExportJob>();

  constructor(private readonly pollsBeforeComplete = 1) {}

  private sameOwner(job: ExportJob, owner: ExportOwner): boolean {
    // The root admin client is trusted with every job (it bypasses policies too, section 6).
    if (owner.caller === 'root') return true;
    return job.owner.caller === owner.caller && job.owner.organizationId === owner.organizationId;
  }

  /** `orgBound` false only for file URLs, which sit outside any organization's API. */
  private owned(id: string, owner: ExportOwner, orgBound = true): ExportJob {
    const job = this.jobs.get(id);
    const check = orgBound ? owner : { ...owner, organizationId: job?.owner.organizationId };
    // Another client's job answers as if it did not exist: its id tells nothing.
    if (!job || !this.sameOwner(job, check)) throw notFound(`export ${id}`);
    return job;
  }

  start(kickOff: ExportKickOff): string {
    const { params, headers } = kickOff;
    const prefer = preferTokens(headers.prefer);
    if (!prefer.includes('respond-async'))
      throw badRequest(
        'The $export kick-off requires the header Prefer: respond-async (FHIR Bulk Data 2.0, "Bulk Data Kick-off Request")',
      );
    if (!acceptsFhirJson(headers.accept))
      throw badRequest('The $export kick-off supports only Accept: application/fhir+json');
    const lenient = prefer.includes('handling=lenient');
    const problems: string[] = [];
    const refuse = (why: string) => {
      if (!lenient) throw badRequest(`${why} (send Prefer: handling=lenient to skip it instead)`);
      problems.push(why);
    };

    const outputFormat = params._outputFormat;
    if (outputFormat !== undefined && !OUTPUT_FORMATS.includes(String(outputFormat)))
      throw badRequest(`_outputFormat ${String(outputFormat)} is not supported; use application/fhir+ndjson`);
    let since: number | undefined;
    if (params._since !== undefined) {
      since = Date.parse(String(params._since));
      if (Array.isArray(params._since) || Number.isNaN(since))
        throw badRequest(`_since must be one FHIR instant, e.g. 2024-01-01T00:00:00Z`);
    }
    for (const name of UNSUPPORTED_PARAMS)
      if (params[name] !== undefined) refuse(`the $export parameter ${name} is not supported`);

    const requested = list(params._type);
    for (const type of requested)
      if (!(CLINICAL_TYPES as readonly string[]).includes(type))
        refuse(`_type ${type} is not a resource type this server exports`);
    const types = (requested.length > 0 ? requested : [...CLINICAL_TYPES]).filter((t) =>
      (CLINICAL_TYPES as readonly string[]).includes(t),
    );

    // _typeFilter: `Type?query`; several for one type are OR'ed (IG "_typeFilter").
    const filters = new Map<string, Array<Record<string, string | string[]>>>();
    for (const filter of Array.isArray(params._typeFilter)
      ? params._typeFilter
      : params._typeFilter === undefined
        ? []
        : [params._typeFilter]) {
      const match = /^([A-Za-z]+)\?(.+)$/.exec(filter);
      if (!match || !(CLINICAL_TYPES as readonly string[]).includes(match[1]!)) {
        refuse(`_typeFilter ${filter} is not Type?search-parameters of an exported type`);
        continue;
      }
      const query: Record<string, string | string[]> = {};
      for (const [key, value] of new URLSearchParams(match[2]!)) query[key] = value;
      filters.set(match[1]!, [...(filters.get(match[1]!) ?? []), query]);
    }

    const patientScope =
      kickOff.level === 'group'
        ? new Set(kickOff.groupPatientIds ?? [])
        : kickOff.level === 'patient'
          ? new Set(kickOff.collect('Patient').map((p) => p.id))
          : undefined;
    const files = new Map<string, Resource[]>();
    for (const type of types) {
      let resources = kickOff.collect(type);
      if (patientScope) {
        resources = resources.filter((r) =>
          type === 'Patient' ? patientScope.has(r.id) : patientScope.has(subjectPatientId(r) ?? ''),
        );
      }
      if (since !== undefined)
        resources = resources.filter((r) => Date.parse(r.meta?.lastUpdated ?? '') > since);
      const typeFilters = filters.get(type);
      if (typeFilters) {
        const kept = new Set(
          typeFilters.flatMap((q) =>
            search(resources, { ...q, _count: String(resources.length + 1) }).resources.map((r) => r.id),
          ),
        );
        resources = resources.filter((r) => kept.has(r.id));
      }
      if (resources.length > 0) files.set(type, resources);
    }

    if (this.runningFor(kickOff.owner))
      throw new HttpError(
        429,
        'throttled',
        'This client already has an export running; poll or cancel it first',
        { 'Retry-After': String(EXPORT_RETRY_AFTER_SECONDS) },
      );
    const id = randomUUID();
    this.jobs.set(id, {
      id,
      owner: kickOff.owner,
      polls: 0,
      transactionTime: new Date().toISOString(),
      request: kickOff.requestUrl,
      files,
      errors: problems.map(
        (why) => operationOutcome('not-supported', why) as unknown as Resource & Record<string, unknown>,
      ),
    });
    return id;
  }

  /** An export of this caller still in progress (unpolled to completion). Per client, never global. */
  private runningFor(owner: ExportOwner): boolean {
    return [...this.jobs.values()].some(
      (job) => job.owner.caller === owner.caller && job.polls < this.pollsBeforeComplete,
    );
  }

  /** 202 while in progress, then the manifest (IG "Bulk Data Status Request"). */
  status(
    id: string,
    owner: ExportOwner,
    fileBaseUrl: string,
  ): { status: 200 | 202; body?: Record<string, unknown> } {
    const job = this.owned(id, owner);
    if (job.polls < this.pollsBeforeComplete) {
      job.polls += 1;
      return { status: 202 };
    }
    return {
      status: 200,
      body: {
        transactionTime: job.transactionTime,
        request: job.request,
        requiresAccessToken: true,
        output: [...job.files].map(([type, resources]) => ({
          type,
          url: `${fileBaseUrl}/export-files/${id}/${type}.ndjson`,
          count: resources.length,
        })),
        error:
          job.errors.length > 0
            ? [
                {
                  type: 'OperationOutcome',
                  url: `${fileBaseUrl}/export-files/${id}/OperationOutcome.ndjson`,
                  count: job.errors.length,
                },
              ]
            : [],
      },
    };
  }

  cancel(id: string, owner: ExportOwner): void {
    this.owned(id, owner);
    this.jobs.delete(id);
  }

  /** A manifest file: only for the client that started the job (the organization is not in the URL). */
  file(id: string, fileName: string, caller: string): string {
    const job = this.owned(id, { caller }, false);
    const type = fileName.replace(/\.ndjson$/, '');
    const resources = type === 'OperationOutcome' && job.errors.length > 0 ? job.errors : job.files.get(type);
    if (!resources) throw notFound(`export file ${fileName}`);
    return resources.map((r) => JSON.stringify(r)).join('\n') + '\n';
  }
}
