import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import { patched } from './patches.js';
import type { BackendServiceActivities } from '../../activities/backend-service-contract.js';
import type { BackendServiceInput, UpdateResult } from './inputs.js';
import { DEFAULT_RETRY_TIMING, type RetryTiming } from './retry-timing.js';
import {
  INITIAL_STATUS,
  type HistoryEntry,
  type ProjectionError,
  type ServiceState,
} from './service-state.js';
import type { Visibility } from './visibility.js';

/** Patch: projection, policy derivation and secret bookkeeping run as local activities. */
export const LOCAL_BOOKKEEPING = 'local-bookkeeping';

/** Our own bookkeeping activities, run as local activities once LOCAL_BOOKKEEPING is in. */
type Own =
  | 'projectService'
  | 'derivePolicies'
  | 'generateClientSecret'
  | 'settleSecrets'
  | 'forgetSecrets'
  | 'forgetSecretVersion';

/**
 * What one run of a service's workflow shares between its parts (the main loop, the update queue,
 * the jobs): the state, the timing, the activity proxies, and the flags the main loop acts on.
 * Created once per run by `backendService()`; every part gets it from there.
 */
export interface RunCore {
  readonly input: BackendServiceInput;
  /** The service's state: one object for the whole run, changed in place, never replaced. */
  readonly state: ServiceState;
  readonly timing: RetryTiming;
  readonly flags: {
    /** The sandbox provisioning failed and is retried on a timer by the main loop. */
    sandboxRetryDue: boolean;
    /** A deactivation recorded before the patch deactivation-first: the main loop cleans up next. */
    cleanupPending: boolean;
    /** Set by `project` when the read model refused the state for good during the current job. */
    jobProjectionError: ProjectionError | undefined;
  };
  readonly acts: ActivityInterfaceFor<BackendServiceActivities>;
  /** Aidbox calls: a bounded number of attempts per round; the workflow records each failed round. */
  aidboxCallOptions(summary?: string): ActivityOptions;
  /**
   * Our own dependencies (PostgreSQL, secret store, derivation, JWKS check): retried until they
   * succeed, so an outage of PostgreSQL delays a service but never fails its workflow; errors that
   * no retry can fix are non-retryable and fail only the update that needed them.
   */
  internalOptions(summary?: string): ActivityOptions;
  /** Runs one of our bookkeeping activities: local (patch LOCAL_BOOKKEEPING) or, as recorded before it, regular. */
  own<K extends Own>(
    name: K,
    summary: string,
    input: Parameters<BackendServiceActivities[K]>[0],
  ): ReturnType<BackendServiceActivities[K]>;
  /** A history entry for the read model, at the current revision. */
  entry(
    actor: string,
    action: HistoryEntry['action'],
    from: HistoryEntry['from'],
    to: HistoryEntry['to'],
    reason: string | null,
  ): HistoryEntry;
  /** What an update answers: the service's status, revision and projection version now. */
  result(): UpdateResult;
}

/** The run's shared parts and its visibility (visibility.ts): what every job works with. */
export type RunContext = RunCore & Visibility;

export function createRunCore(input: BackendServiceInput): RunCore {
  const timing = input.retry ?? DEFAULT_RETRY_TIMING;
  const state: ServiceState = input.carried?.state ?? initialState(input);
  const flags: RunCore['flags'] = {
    sandboxRetryDue: state.sandbox.state === 'failed',
    cleanupPending: false,
    jobProjectionError: undefined,
  };

  const aidboxCallOptions = (summary?: string): ActivityOptions => ({
    startToCloseTimeout: timing.activityTimeoutMs,
    retry: {
      initialInterval: timing.initialIntervalMs,
      maximumInterval: timing.maximumIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts: timing.attemptsPerRound,
    },
    ...(summary ? { summary } : {}),
  });
  const internalOptions = (summary?: string): ActivityOptions => ({
    startToCloseTimeout: timing.activityTimeoutMs,
    retry: {
      initialInterval: timing.initialIntervalMs,
      maximumInterval: timing.maximumIntervalMs,
      backoffCoefficient: 2,
    },
    ...(summary ? { summary } : {}),
  });
  const acts = proxyActivities<BackendServiceActivities>(internalOptions());
  /**
   * Our own bookkeeping (the read model, policy derivation, the secret store) runs as local
   * activities once the patch LOCAL_BOOKKEEPING is in: no round trip through the server, and their
   * inputs (the whole state, for a projection) never enter the history. Same retries as before:
   * until PostgreSQL is back, never for an error no retry can fix.
   */
  const localActs = proxyLocalActivities<BackendServiceActivities>({
    startToCloseTimeout: timing.activityTimeoutMs,
  });
  const localOptions = () => ({
    startToCloseTimeout: timing.activityTimeoutMs,
    retry: {
      initialInterval: timing.initialIntervalMs,
      maximumInterval: timing.maximumIntervalMs,
      backoffCoefficient: 2,
    },
  });
  function own<K extends Own>(
    name: K,
    summary: string,
    ownInput: Parameters<BackendServiceActivities[K]>[0],
  ): ReturnType<BackendServiceActivities[K]> {
    type Callable = { executeWithOptions(options: object, args: unknown[]): Promise<unknown> };
    const call = patched(LOCAL_BOOKKEEPING)
      ? (localActs[name] as unknown as Callable).executeWithOptions({ ...localOptions(), summary }, [
          ownInput,
        ])
      : (acts[name] as unknown as Callable).executeWithOptions(internalOptions(summary), [ownInput]);
    return call as ReturnType<BackendServiceActivities[K]>;
  }

  return {
    input,
    state,
    timing,
    flags,
    acts,
    aidboxCallOptions,
    internalOptions,
    own,
    entry: (actor, action, from, to, reason) => ({
      at: now(),
      actor,
      action,
      from,
      to,
      reason,
      revision: state.revision,
    }),
    result: () => ({
      status: state.status,
      revision: state.revision,
      projectionVersion: state.projectionVersion,
    }),
  };
}

function initialState(input: BackendServiceInput): ServiceState {
  return {
    serviceId: input.serviceId,
    ownerId: input.ownerId,
    registration: input.registration,
    status: INITIAL_STATUS,
    revision: 1,
    rejection: null,
    approval: null,
    credentials: {
      state: 'pending',
      checkedAt: null,
      secret: null,
      jwksReport: null,
      acceptedThumbprints: {},
    },
    sandbox: { revision: null, state: 'none', lastError: null },
    productionProvisioned: false,
    cleanup: null,
    submission: null,
    previousSubmission: null,
    createdAt: input.createdAt,
    updatedAt: input.createdAt,
    projectionVersion: 0,
  };
}

/** Workflow time (deterministic: the time of the current workflow task), as RFC 3339. */
export const now = () => new Date().toISOString();
