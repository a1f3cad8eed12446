import {
  ActivityFailure,
  CancellationScope,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { patched } from './patches.js';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { searchAttributesOf } from '../search-attributes.js';
import { submissionUnderReview } from './rules.js';
import { now, type RunCore } from './run-context.js';
import type { HistoryEntry, ServiceState } from './service-state.js';

/**
 * Search attributes are upserted only when one changed: each upsert is a command, a history event
 * and a visibility write on the server, and most transitions change none (the status, owner and
 * Organization seldom change; every projection used to upsert them all). Histories recorded before
 * upserted at every projection and replay so.
 */
export const SEARCH_ATTRIBUTES_ON_CHANGE = 'search-attributes-on-change';

/**
 * How a service shows itself: the read model (every change is projected, with its history entry),
 * the search attributes operators filter on, and the current details the Temporal Web UI shows.
 */
export interface Visibility {
  /** Projects the state (and a history entry, if any) into the read model; a new projection version. */
  project(history: HistoryEntry | null): Promise<void>;
  /** Deactivation must finish whatever the read model does: a refused projection is shown, not fatal. */
  projectDespiteRefusal(history: HistoryEntry | null): Promise<void>;
  publishSearchAttributes(): void;
}

export function createVisibility(
  core: RunCore,
  /** Every transition writes a history entry: its notifications start here, never awaited (notifications.ts). */
  afterProjection: (history: HistoryEntry | null) => void,
): Visibility {
  const { state } = core;
  /**
   * What this run has upserted, by key. Kept by the workflow itself, not read from workflowInfo():
   * what replay compares must be what the code did, and the first publication of each run (start
   * or continue-as-new) upserts everything.
   */
  const published = new Map<string, unknown>();
  const same = (a: unknown, b: unknown) =>
    a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;

  async function project(history: HistoryEntry | null): Promise<void> {
    state.projectionVersion += 1;
    state.updatedAt = now();
    publishSearchAttributes();
    // Shielded from a deactivation's cancel: a change already made to the state is always recorded
    // with its history entry (the projection is quick; only a PostgreSQL outage makes it wait).
    const outcome = await CancellationScope.nonCancellable(() =>
      core.own('projectService', 'Project to the read model', {
        state,
        history,
        seq: workflowInfo().historyLength,
      }),
    );
    // Histories recorded before projection outcomes existed answer nothing here.
    if (outcome?.projectionError) core.flags.jobProjectionError = outcome.projectionError;
    afterProjection(history);
  }

  async function projectDespiteRefusal(history: HistoryEntry | null): Promise<void> {
    try {
      await project(history);
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
    }
  }

  function publishSearchAttributes() {
    const underReview = submissionUnderReview(state) ?? state.submission;
    const wanted: SearchAttributeUpdatePair[] = searchAttributesOf({
      status: state.status,
      ownerId: state.ownerId,
      registration: state.registration,
      ...(state.credentials.health ? { credentialHealth: state.credentials.health.state } : {}),
      ...(underReview ? { submittedAt: underReview.submittedAt } : {}),
    });
    const changed = wanted.filter(({ key, value }) => !same(published.get(key.name), value));
    for (const { key, value } of changed) published.set(key.name, value);
    if (changed.length === wanted.length || !patched(SEARCH_ATTRIBUTES_ON_CHANGE))
      upsertSearchAttributes(wanted);
    else if (changed.length > 0) upsertSearchAttributes(changed);
    setCurrentDetails(currentDetails(state));
  }

  return { project, projectDespiteRefusal, publishSearchAttributes };
}

/** What the Temporal Web UI shows for the workflow: status, credentials, sandbox, approval, rejection. */
function currentDetails(state: ServiceState): string {
  const lines = [`**${state.serviceId}**: ${state.status.replace('_', ' ')} (revision ${state.revision})`];
  lines.push(`Credentials: ${state.registration.authMethod.type}, ${state.credentials.state}`);
  lines.push(
    `Sandbox client: ${state.sandbox.state}${state.sandbox.revision !== null ? ` (revision ${state.sandbox.revision})` : ''}`,
  );
  if (state.approval) {
    const error = state.approval.lastError;
    lines.push(
      `Approval ${state.approval.state} by ${state.approval.by}; attempts ${state.approval.attempts}` +
        (error
          ? `; last error ${error.kind}${error.status ? ` ${error.status}` : ''} in ${error.environment}`
          : ''),
    );
  }
  if (state.rejection) lines.push(`Rejected (${state.rejection.kind}) by ${state.rejection.by}`);
  return lines.join('\n');
}
