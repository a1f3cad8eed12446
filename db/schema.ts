import type { ColumnType } from 'kysely';

/**
 * Table types of the read model and the project's own tables. One interface per table; each
 * migration in db/migrations/ that adds or changes a table updates its type here.
 */

/** Read as an ISO string; optional on insert (the column has a default). */
export type Timestamp = ColumnType<string, string | undefined, string>;

export interface PlatformProbeTable {
  probe_id: string;
  note: string;
  recorded_at: Timestamp;
}

export interface Database {
  platform_probe: PlatformProbeTable;
}
