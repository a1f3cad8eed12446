/**
 * Bulk export, enough to authorize and follow `$export` requests (docs/aidbox-contract.md §5 and §9.11):
 * - kick-off (system, Patient, Group level) answers 202 with `Content-Location: <base>/fhir/$export-status/<id>`;
 * - only one export at a time: a kick-off while one runs answers 429;
 * - the status answers 202 for the first poll(s), then 200 with a manifest whose files are served
 *   by the stand-in itself (`requiresAccessToken: false`, like Aidbox's signed storage URLs);
 * - DELETE cancels (202).
 * The data are taken at kick-off. `_type` narrows the types; other parameters are echoed, not applied.
 */
import { randomUUID } from 'node:crypto';
import { HttpError, notFound } from '../http/outcome.js';
import type { Resource } from '../store/store.js';
import { CLINICAL_TYPES } from './resource-types.js';

export type ExportLevel = 'system' | 'patient' | 'group';

interface ExportJob {
  id: string;
  polls: number;
  transactionTime: string;
  request: string;
  files: Map<string, Resource[]>;
}

export interface ExportKickOff {
  level: ExportLevel;
  requestUrl: string;
  types?: string[];
  /** Members of the exported Group (group level). */
  groupPatientIds?: string[];
  /** All resources of a type the caller's API can see (OrgBAC-filtered). */
  collect: (type: string) => Resource[];
}

const subjectPatientId = (resource: Resource): string | undefined => {
  const reference = ((resource.subject ?? resource.patient) as { reference?: string } | undefined)?.reference;
  return reference?.startsWith('Patient/') ? reference.slice('Patient/'.length) : undefined;
};

export class ExportJobs {
  private jobs = new Map<string, ExportJob>();

  constructor(private readonly pollsBeforeComplete = 1) {}

  private running(): boolean {
    return [...this.jobs.values()].some((job) => job.polls < this.pollsBeforeComplete);
  }

  start(kickOff: ExportKickOff): string {
    if (this.running())
      throw new HttpError(429, 'throttled', 'Another export is running; only one export at a time');
    const types = (kickOff.types?.length ? kickOff.types : [...CLINICAL_TYPES]).filter((t) =>
      (CLINICAL_TYPES as readonly string[]).includes(t),
    );
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
      if (resources.length > 0) files.set(type, resources);
    }
    const id = randomUUID();
    this.jobs.set(id, {
      id,
      polls: 0,
      transactionTime: new Date().toISOString(),
      request: kickOff.requestUrl,
      files,
    });
    return id;
  }

  /** 202 while in progress, then the manifest (FHIR Bulk Data status request). */
  status(id: string, baseUrl: string): { status: 200 | 202; body?: Record<string, unknown> } {
    const job = this.jobs.get(id);
    if (!job) throw notFound(`export ${id}`);
    if (job.polls < this.pollsBeforeComplete) {
      job.polls += 1;
      return { status: 202 };
    }
    return {
      status: 200,
      body: {
        transactionTime: job.transactionTime,
        request: job.request,
        requiresAccessToken: false,
        output: [...job.files].map(([type, resources]) => ({
          type,
          url: `${baseUrl}/export-files/${id}/${type}.ndjson`,
          count: resources.length,
        })),
        error: [],
      },
    };
  }

  cancel(id: string): void {
    if (!this.jobs.delete(id)) throw notFound(`export ${id}`);
  }

  file(id: string, fileName: string): string {
    const resources = this.jobs.get(id)?.files.get(fileName.replace(/\.ndjson$/, ''));
    if (!resources) throw notFound(`export file ${fileName}`);
    return resources.map((r) => JSON.stringify(r)).join('\n') + '\n';
  }
}
