import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

/** Where the replay test (workflows/backend-service/replay.test.ts) reads recorded histories from. */
export const HISTORIES_DIR = fileURLToPath(
  new URL('../workflows/backend-service/__histories__/', import.meta.url),
);

/**
 * With RECORD_HISTORIES=1, writes the workflow's history to __histories__/<file> for the replay
 * test. A committed history is never overwritten: it is the proof that executions started under
 * the code that recorded it still replay, so re-recording it would hide exactly the change it must
 * catch. A new path gets a new file name (docs/decisions/replay-safety.md).
 */
export async function recordHistory(handle: WorkflowHandle, file: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const target = path.join(HISTORIES_DIR, file);
  if (existsSync(target) && process.env.RECORD_HISTORIES !== 'overwrite')
    throw new Error(
      `${file} is already recorded; record the new path under a new name (RECORD_HISTORIES=overwrite only for a history that was never committed)`,
    );
  const history = await handle.fetchHistory();
  writeFileSync(target, historyToJSON(history) + '\n');
}

type HistoryLike = { events?: readonly unknown[] | null };
type Payload = { data?: string | Uint8Array | null };

function payloadJson(payload: Payload | undefined): unknown {
  if (!payload?.data) return undefined;
  const text =
    typeof payload.data === 'string'
      ? Buffer.from(payload.data, 'base64').toString('utf8')
      : Buffer.from(payload.data).toString('utf8');
  return JSON.parse(text) as unknown;
}

/**
 * What a history exercised, read from its events: accepted update names, scheduled activity types,
 * local activity types (from their markers), patch IDs (from their markers), and whether a
 * projection answered with projectionError.
 */
export function pathsOf(history: HistoryLike) {
  const updates = new Set<string>();
  const activities = new Set<string>();
  const localActivities = new Set<string>();
  const patches = new Set<string>();
  let projectionErrorAnswered = false;
  const scheduled = new Map<string, string>();
  for (const event of history.events ?? []) {
    const e = event as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const update = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
    if (update) updates.add(update);
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (type) {
      activities.add(type);
      scheduled.set(String(e.eventId), type);
    }
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed && scheduled.get(String(completed.scheduledEventId)) === 'projectService') {
      const result = payloadJson(completed.result?.payloads?.[0]) as
        { projectionError?: unknown } | undefined;
      if (result?.projectionError) projectionErrorAnswered = true;
    }
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_patch') {
      const data = payloadJson(marker.details?.['patch-data']?.payloads?.[0]) as { id?: string } | undefined;
      if (data?.id) patches.add(data.id);
    }
    if (marker?.markerName === 'core_local_activity') {
      const data = payloadJson(marker.details?.data?.payloads?.[0]) as { activity_type?: string } | undefined;
      if (data?.activity_type) localActivities.add(data.activity_type);
    }
  }
  return { updates, activities, localActivities, patches, projectionErrorAnswered };
}
