import type { Db } from '../db/database.js';

export interface PlatformProbeActivities {
  recordProbe(input: { probeId: string; note: string }): Promise<void>;
}

export function createPlatformProbeActivities(db: Db): PlatformProbeActivities {
  return {
    async recordProbe({ probeId, note }) {
      // Upsert: a retried activity writes the same row once.
      await db
        .insertInto('platform_probe')
        .values({ probe_id: probeId, note })
        .onConflict((oc) => oc.column('probe_id').doUpdateSet({ note }))
        .execute();
    },
  };
}
