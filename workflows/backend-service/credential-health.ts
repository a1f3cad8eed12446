import { proxyLocalActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import { patched } from './patches.js';
import type { BackendServiceActivities } from '../../activities/backend-service-contract.js';
import { keyChanges } from '../../credentials/key-changes.js';
import { cutOff } from './rules.js';
import type { CredentialHealth, HistoryEntry, ServiceState } from './service-state.js';

/**
 * Live JWKS services are watched: the key set is re-checked on a durable workflow timer (the main
 * loop's wait), daily with ±10 % jitter, and after a failure sooner, doubling. A failing check
 * never deactivates: it is recorded, projected and shown until a check succeeds.
 *
 * Behind the patch CREDENTIAL_HEALTH: services that were live before it get their first schedule
 * at their next activation after the upgrade, and histories recorded before it replay as they ran.
 */
export const CREDENTIAL_HEALTH = 'credential-health';

const { credentialHealthTiming } = proxyLocalActivities<BackendServiceActivities>({
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

export interface HealthTiming {
  intervalSeconds: number;
  retrySeconds: number;
  maxRetrySeconds: number;
}

/** Seconds until the next check: the interval with ±10 % jitter when ok, the doubling retry when failing. */
export function nextWaitSeconds(timing: HealthTiming, failures: number, random: () => number): number {
  if (failures === 0) return timing.intervalSeconds * (0.9 + 0.2 * random());
  return Math.min(timing.retrySeconds * 2 ** (failures - 1), timing.maxRetrySeconds);
}

export const watched = (state: ServiceState) =>
  state.status === 'active' &&
  state.registration.authMethod.type === 'jwks_uri' &&
  !cutOff(state) &&
  !state.deletedAt;

export interface HealthDeps {
  state: () => ServiceState;
  acts: ActivityInterfaceFor<BackendServiceActivities>;
  checkJwksOptions: Parameters<
    ActivityInterfaceFor<BackendServiceActivities>['checkJwks']['executeWithOptions']
  >[0];
  project: (history: HistoryEntry | null) => Promise<void>;
  entry: (action: HistoryEntry['action'], reason: string | null) => HistoryEntry;
}

export function createCredentialHealth(deps: HealthDeps) {
  /** Milliseconds until the next check (0: now), or undefined when this service is not watched. */
  function dueInMs(): number | undefined {
    const state = deps.state();
    const next = state.credentials.health?.nextCheckAt;
    if (!watched(state) || !next) return undefined;
    return Math.max(0, Date.parse(next) - Date.now());
  }

  /** A watched service with no schedule yet (just approved, or live before the patch) gets one. */
  async function scheduleIfNeeded(): Promise<void> {
    const state = deps.state();
    if (!watched(state) || state.credentials.health?.nextCheckAt || !patched(CREDENTIAL_HEALTH)) return;
    const timing = await credentialHealthTiming();
    const now = new Date().toISOString();
    state.credentials = {
      ...state.credentials,
      health: {
        state: 'ok',
        since: now,
        lastCheckedAt: state.credentials.checkedAt,
        nextCheckAt: new Date(Date.now() + nextWaitSeconds(timing, 0, Math.random) * 1000).toISOString(),
        failures: 0,
        report: null,
        changes: [],
      },
    };
    await deps.project(null);
  }

  /** One check: fetch and judge the set, name what changed, record, schedule the next. */
  async function check(): Promise<void> {
    const state = deps.state();
    const method = state.registration.authMethod;
    if (method.type !== 'jwks_uri') return;
    const timing = await credentialHealthTiming();
    const report = await deps.acts.checkJwks.executeWithOptions(deps.checkJwksOptions, [
      {
        serviceId: state.serviceId,
        jwksUri: method.jwksUri,
        previousThumbprints: state.credentials.acceptedThumbprints,
      },
    ]);
    const before = state.credentials.health;
    const changes = keyChanges(state.credentials.acceptedThumbprints, report);
    const healthState: CredentialHealth['state'] = report.valid ? 'ok' : 'failing';
    const failures = report.valid ? 0 : (before?.failures ?? 0) + 1;
    const now = new Date().toISOString();
    state.credentials = {
      ...state.credentials,
      state: report.valid ? 'valid' : 'invalid',
      checkedAt: report.checkedAt,
      jwksReport: report,
      // A good set is the new baseline: a key removed on purpose is reported once, not forever.
      acceptedThumbprints: report.valid ? report.thumbprints : state.credentials.acceptedThumbprints,
      health: {
        state: healthState,
        since: before?.state === healthState ? before.since : now,
        lastCheckedAt: report.checkedAt,
        nextCheckAt: new Date(
          Date.now() + nextWaitSeconds(timing, failures, Math.random) * 1000,
        ).toISOString(),
        failures,
        report,
        changes,
      },
    };
    const turned = before?.state !== healthState && (before != null || healthState === 'failing');
    const reason =
      healthState === 'failing'
        ? `${report.summary}${changes.length ? ` ${changes.map((c) => c.message).join('; ')}` : ''}`
        : 'the key set passes again';
    await deps.project(
      turned
        ? deps.entry(healthState === 'failing' ? 'credentials-failing' : 'credentials-recovered', reason)
        : null,
    );
  }

  return { dueInMs, scheduleIfNeeded, check };
}
