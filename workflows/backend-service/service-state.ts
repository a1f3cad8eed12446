import type { JwksReport } from '../../credentials/jwks-report.js';
import type { DerivedPolicySet } from '../../scopes/derive.js';

/**
 * The Backend Service entity's state: what the workflow holds, projects into the read model and
 * answers queries with. Everything here is plain JSON (it travels through Temporal history, the read
 * model and the API) and never carries a secret: a client secret appears only as
 * `{ version, fingerprint }`. Field names follow docs/api.md ("The service").
 */

export type ServiceStatus = 'draft' | 'under_review' | 'active' | 'rejected';
/** Every service starts as a draft (its workflow's first state, and its search attributes at start). */
export const INITIAL_STATUS: ServiceStatus = 'draft';
export type Environment = 'sandbox' | 'production';
export type ScopeVersion = 'v1' | 'v2';
export type Operation = 'create' | 'read' | 'update' | 'delete' | 'search';

export type AuthMethod = { type: 'jwks_uri'; jwksUri: string } | { type: 'client_secret' };

export interface ScopeRule {
  resource: string;
  operations: Operation[];
}

/** What the developer registers (docs/api.md, "The service": registration input), plus the scope strings the server computed. */
export interface Registration {
  name: string;
  description: string;
  contactEmail: string;
  authMethod: AuthMethod;
  scopes: { version: ScopeVersion; rules: ScopeRule[]; strings: string[] };
  organizationId: string | null;
}

/**
 * declined: at review (edit and resubmit). deactivated (by an administrator) and revoked-by-owner
 * (the owner's emergency cut-off): final, production disabled and the sandbox client removed.
 */
export interface Rejection {
  kind: 'declined' | 'deactivated' | 'revoked-by-owner';
  reason: string;
  by: string;
  at: string;
}

/** Status and kind only: never an Aidbox response body (docs/architecture.md, "Activities touching Aidbox"). */
export interface ProvisioningError {
  environment: Environment;
  operation: string;
  status: number | null;
  kind: string;
  at: string;
}

export interface Approval {
  state: 'provisioning' | 'failed';
  revision: number;
  policyHash: string;
  by: string;
  at: string;
  attempts: number;
  lastError: ProvisioningError | null;
}

export interface SecretInfo {
  version: number;
  fingerprint: string;
  createdAt: string;
}

/** A secret generated and shown, waiting for its time: it goes live at `activateAt` on a workflow timer. */
export interface StagedSecret extends SecretInfo {
  activateAt: string;
}

/** What changed in a watched key set since it was last accepted, one finding per key. */
export interface KeyChange {
  kid: string;
  change: 'removed' | 'changed' | 'unusable';
  message: string;
}

/**
 * A live JWKS service's key set, re-checked on a durable timer. `failing` never deactivates: it is
 * shown (detail, admin list, search attribute) until a check succeeds.
 */
export interface CredentialHealth {
  state: 'ok' | 'failing';
  /** When it became `state`. */
  since: string;
  lastCheckedAt: string | null;
  nextCheckAt: string;
  /** Consecutive failed checks (the retry wait doubles with them). */
  failures: number;
  report: JwksReport | null;
  changes: KeyChange[];
}

export interface Credentials {
  state: 'pending' | 'valid' | 'invalid';
  checkedAt: string | null;
  secret: SecretInfo | null;
  /** The next secret, staged by a planned rotation (absent in states recorded before it existed). */
  stagedSecret?: StagedSecret | null;
  /** Live JWKS services only (absent before credential health existed). */
  health?: CredentialHealth | null;
  /** The highest secret version ever generated (a dropped staged secret's number is never reused). */
  highestSecretVersion?: number;
  jwksReport: JwksReport | null;
  /** kid → RFC 7638 thumbprint of the last accepted key set. */
  acceptedThumbprints: Record<string, string>;
}

/** What was under review: kept so a resubmission can be compared with the previous review. */
export interface SubmissionSnapshot {
  revision: number;
  submittedAt: string;
  submittedBy: string;
  registration: Registration;
  productionPolicies: DerivedPolicySet;
}

/**
 * A change to a live service, under its own revision: the service stays `active` and production
 * keeps serving the approved revision until an administrator approves the change. The sandbox serves
 * the change as soon as its credentials are valid.
 */
export interface PendingChange {
  revision: number;
  state: 'draft' | 'under_review' | 'rejected';
  registration: Registration;
  /** The change's own credential check (a JWKS URI may change); the live one stays in `credentials`. */
  credentials: Pick<Credentials, 'state' | 'checkedAt' | 'jwksReport' | 'acceptedThumbprints'>;
  /** What is (or was last) under review: revision, registration and the production policies. */
  submission: SubmissionSnapshot | null;
  rejection: Rejection | null;
}

export interface SandboxState {
  /** Revision whose credentials and scopes the sandbox client serves; null until first provisioned. */
  revision: number | null;
  state: 'none' | 'provisioning' | 'ready' | 'failed';
  lastError: ProvisioningError | null;
}

export interface ServiceState {
  serviceId: string;
  ownerId: string;
  registration: Registration;
  status: ServiceStatus;
  revision: number;
  rejection: Rejection | null;
  approval: Approval | null;
  credentials: Credentials;
  sandbox: SandboxState;
  productionProvisioned: boolean;
  /** After deactivation: whether production is cut off and the sandbox client removed yet. */
  cleanup: { done: boolean; lastError: ProvisioningError | null } | null;
  submission: SubmissionSnapshot | null;
  previousSubmission: SubmissionSnapshot | null;
  createdAt: string;
  updatedAt: string;
  /** Grows with every projection; the read model ignores a write older than what it holds. */
  projectionVersion: number;
  /** A change to the live service, reviewed before production gets it (absent before live changes existed). */
  pendingChange?: PendingChange | null;
  /** Deleted by its owner before it ever went live: the workflow has completed (absent before delete existed). */
  deletedAt?: string | null;
}

/**
 * Set by the read model only, never by the workflow: the last projection PostgreSQL refused for good.
 * The row then holds the state with refused characters escaped; the next projection that succeeds
 * clears it.
 */
export interface ProjectionError {
  at: string;
  projectionVersion: number;
  sqlstate: string;
  message: string;
}

/** What the read model's `state` column holds: the workflow's state, and a projection error if any. */
export type ProjectedState = ServiceState & { projectionError?: ProjectionError };

/** The projection activity's answer: nothing when the row was written as it is. */
export interface ProjectionOutcome {
  projectionError: ProjectionError | null;
}

export interface HistoryEntry {
  at: string;
  actor: string;
  action:
    | 'create'
    | 'edit'
    | 'submit'
    | 'approve'
    | 'approval-completed'
    | 'approval-failed'
    | 'reject'
    | 'deactivate'
    | 'rotate-secret'
    | 'withdraw'
    | 'delete'
    | 'revoke'
    | 'stage-secret'
    | 'activate-staged-secret'
    | 'drop-staged-secret'
    | 'drop-change'
    | 'credentials-failing'
    | 'credentials-recovered'
    /** A command whose token did not verify; `actor` is who it claimed to be (unverified). */
    | 'refused-command'
    /** A notification whose delivery kept failing past its retry window (notifications.ts). */
    | 'notification-dropped';
  from: ServiceStatus | null;
  to: ServiceStatus;
  reason: string | null;
  revision: number;
}
