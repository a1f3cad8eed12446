import type { ColumnType, Generated } from 'kysely';
import type { ProjectedState } from '../workflows/backend-service/types.js';

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

/** Encrypted client secrets (credentials/secret-store.ts); no plaintext column by design. */
export interface ClientSecretTable {
  service_id: string;
  secret_version: number;
  fingerprint: string;
  key_id: string | null;
  iv: Buffer | null;
  ciphertext: Buffer | null;
  auth_tag: Buffer | null;
  created_at: Timestamp;
  shown_at: string | null;
  ciphertext_deleted_at: string | null;
}

export interface BackendServicesTable {
  id: string;
  owner_id: string;
  organization_id: string | null;
  status: string;
  auth_method: string;
  name: string;
  revision: number;
  submitted_at: string | null;
  created_at: string;
  updated_at: string;
  /** bigint, read as a string by the pg type parser (db/database.ts). */
  projection_version: ColumnType<string, number, number>;
  state: ColumnType<ProjectedState, string, string>;
  /** Orders attempts of one projection version (db/migrations/2026-11-30T0400_projection-seq.ts). */
  projection_seq: ColumnType<string, number | undefined, number>;
  /** Deleted by its owner (never live): kept for administrators, left out of developers' lists. */
  deleted_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Per-principal creation counters, one row per minute window (api/services/quotas.ts). */
export interface CreateRateWindowsTable {
  principal: string;
  window_start: string;
  count: number;
}

export interface BackendServiceHistoryTable {
  id: Generated<string>;
  service_id: string;
  projection_version: ColumnType<string, number, number>;
  at: string;
  actor: string;
  action: string;
  from_status: string | null;
  to_status: string;
  reason: string | null;
  revision: number;
  projection_seq: ColumnType<string, number | undefined, number>;
}

/** API idempotency records (db/migrations/2026-11-29T1700_idempotency.ts); never a secret. */
export interface IdempotencyRecordsTable {
  principal: string;
  route: string;
  key: string;
  request_hash: string;
  state: 'in_flight' | 'completed';
  locked_at: string | null;
  service_id: string | null;
  response_status: number | null;
  response_body: ColumnType<unknown, string | null, string | null>;
  secret_version: number | null;
  created_at: Timestamp;
  expires_at: string;
}

/** Server-side page sessions (db/migrations/2026-11-30T0130_ui-sessions.ts); the ID's hash only. */
export interface UiSessionsTable {
  id_hash: string;
  subject: string;
  created_at: Timestamp;
  expires_at: string;
}

/** Notification preferences and the webhook (db/migrations/2026-12-01T0900_notification-settings.ts). */
export interface NotificationSettingsTable {
  service_id: string;
  email: ColumnType<Record<string, boolean>, string | undefined, string>;
  webhook_url: string | null;
  webhook_secret_version: ColumnType<number, number | undefined, number>;
  webhook_key_id: string | null;
  webhook_iv: Buffer | null;
  webhook_ciphertext: Buffer | null;
  webhook_auth_tag: Buffer | null;
  updated_at: Timestamp;
}

export interface Database {
  create_rate_windows: CreateRateWindowsTable;
  platform_probe: PlatformProbeTable;
  backend_services: BackendServicesTable;
  backend_service_history: BackendServiceHistoryTable;
  client_secret: ClientSecretTable;
  idempotency_records: IdempotencyRecordsTable;
  ui_sessions: UiSessionsTable;
  notification_settings: NotificationSettingsTable;
}
