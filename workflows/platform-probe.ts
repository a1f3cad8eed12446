import { proxyActivities } from '@temporalio/workflow';
import type { PlatformProbeActivities } from '../activities/platform-probe.js';

/**
 * The smallest workflow that proves the platform works end to end: Temporal schedules it, the
 * worker runs it, an activity writes a projection to PostgreSQL. Kept as the smoke test.
 */
const { recordProbe } = proxyActivities<PlatformProbeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5, initialInterval: '100 ms' },
});

export interface PlatformProbeInput {
  probeId: string;
  note: string;
}

export async function platformProbe(input: PlatformProbeInput): Promise<{ probeId: string; recorded: true }> {
  await recordProbe(input);
  return { probeId: input.probeId, recorded: true };
}
