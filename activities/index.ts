import type { Db } from '../db/database.js';
import { createPlatformProbeActivities } from './platform-probe.js';

/** What activities need from the process that hosts them (the worker); tests pass their own. */
export interface ActivityDependencies {
  db: Db;
}

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createPlatformProbeActivities(deps.db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
