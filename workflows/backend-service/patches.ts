import { patched as markPatch } from '@temporalio/workflow';

/**
 * Every change to what the workflow schedules goes behind a patch (docs/decisions/replay-safety.md),
 * and each `patched()` the SDK sees in a run records a marker and upserts the
 * `TemporalChangeVersion` search attribute: with ten patches, a new service's lifecycle carried
 * six markers and six upserts (a visibility write each) that said only "this run is current".
 *
 * `CURRENT_RUN` folds them: a run asks it once, first thing (`beginRun`). A run started on code
 * that has every patch below records that one marker and then takes every patch without asking
 * the SDK again. A run started before it replays without the marker, so each patch is asked
 * separately, exactly as before, and a history recorded either way replays the same.
 *
 * A new patch still goes through `patched(id)` below; the next consolidation takes it in with a
 * new CURRENT_RUN id.
 */
export const CURRENT_RUN = 'current-run-2026-11-30';

/** The patch IDs CURRENT_RUN stands for (every one existing when it was introduced). */
export const FOLDED_PATCHES: ReadonlySet<string> = new Set([
  'deactivation-first',
  'signed-commands-start',
  'signed-commands-updates',
  'credential-health',
  'local-bookkeeping',
  'notifications',
  'continue-after-timers',
  'provisioning-max-rounds',
  'notification-channels',
  'search-attributes-on-change',
]);

// Module state is per workflow run: the sandbox gives each workflow its own copy of this module.
let currentRun = false;

/** Asks CURRENT_RUN; called first in the workflow function, before anything else is scheduled. */
export function beginRun(): void {
  currentRun = markPatch(CURRENT_RUN);
}

/** `patched()` of the SDK, answered without a marker for a folded patch in a current run. */
export function patched(patchId: string): boolean {
  return (currentRun && FOLDED_PATCHES.has(patchId)) || markPatch(patchId);
}
