import type { JwksReport } from '../../credentials/jwks-report.js';

export type { JwksReport };
import type { DerivedPolicySet } from '../../scopes/derive.js';

/**
 * The Backend Service entity: its state, its messages and their results. Everything here is plain
 * JSON (it travels through Temporal history, the read model and the API) and never carries a
 * secret: a client secret appears only as `{ version, fingerprint }`.
 * Field names follow docs/api.md ("The service").
 */

export type ServiceStatus = 'draft' | 'under_review' | 'active' | 'rejected';
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

export interface Actor {
  /** OIDC `sub`. */
  sub: string;
  roles: string[];
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

/** The derivation's output (scopes/derive.ts): the policies, their hash (what an admin approves) and notes. */
export type { DerivedPolicySet, AccessPolicy as AccessPolicyResource } from '../../scopes/derive.js';

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

/** Timings of retries, from workflow input so tests run fast (docs/architecture.md, "Tests and the network rule"). */
export interface RetryTiming {
  /** First retry interval of an activity within a round. */
  initialIntervalMs: number;
  maximumIntervalMs: number;
  /** Attempts per activity run (one round). */
  attemptsPerRound: number;
  /** Wait between two provisioning rounds. */
  roundDelayMs: number;
  /** Upper bound of an activity attempt. */
  activityTimeoutMs: number;
}

export const DEFAULT_RETRY_TIMING: RetryTiming = {
  initialIntervalMs: 1_000,
  maximumIntervalMs: 10_000,
  attemptsPerRound: 5,
  roundDelayMs: 30_000,
  activityTimeoutMs: 30_000,
};

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

/**
 * Every command the API sends carries a command token (docs/decisions/signed-commands.md): a JWS
 * naming the workflow, the command, the actor and the digest of the argument without this field.
 */
export interface SignedCommand {
  commandToken?: string;
}

export interface BackendServiceInput extends SignedCommand {
  serviceId: string;
  ownerId: string;
  registration: Registration;
  createdAt: string;
  /** The `email` claim of the creator's token: the owner hears about their service (absent for older services). */
  ownerEmail?: string;
  retry?: RetryTiming;
  /** Continue-as-new once history has this many events (tests pass a low number). */
  continueAsNewAfterEvents?: number;
  /**
   * Negative-control tests only (the API never sets it): false keeps a deactivation in line behind
   * the job in progress, as before the patch 'deactivation-first'.
   */
  deactivationJumpsQueue?: boolean;
  /** Carried over by continue-as-new; absent on the first run. */
  carried?: CarriedState;
}

export interface CarriedState {
  state: ServiceState;
  recentUpdates: RecentUpdate[];
  /** Command tokens seen lately (their jti), so a replayed token is refused across runs too. */
  recentCommands?: RecentCommand[];
  /** Notifications not yet delivered and the reminder timers (absent before notifications existed). */
  notifications?: CarriedNotifications;
}

export interface RecentCommand {
  jti: string;
  /** The update that used it: a retry of that same update is no replay. */
  updateId: string | null;
  /** Seconds since the epoch; forgotten once expired (an expired token is refused anyway). */
  exp: number;
}

export interface RecentUpdate {
  id: string;
  result: unknown;
}

// ---- messages ----

export interface EditInput extends SignedCommand {
  actor: Actor;
  expectedRevision: number;
  registration: Registration;
}
export interface SubmitInput extends SignedCommand {
  actor: Actor;
}
export interface ApproveInput extends SignedCommand {
  actor: Actor;
  revision: number;
  policyHash: string;
}
export interface DecisionInput extends SignedCommand {
  actor: Actor;
  reason: string;
}
export interface RotateSecretInput extends SignedCommand {
  actor: Actor;
  /** RFC 3339: stage the new secret to go live then, instead of at once. */
  activateAt?: string;
}
/** Withdraw a submission, delete a service that never went live, activate or drop a staged secret. */
export interface OwnerActionInput extends SignedCommand {
  actor: Actor;
}
export interface RecheckCredentialsInput extends SignedCommand {
  actor: Actor;
}

export interface UpdateResult {
  status: ServiceStatus;
  revision: number;
  projectionVersion: number;
}
export interface RotateSecretResult extends UpdateResult {
  secretVersion: number;
  fingerprint: string;
}

/** ApplicationFailure types the workflow uses; the API maps each to an HTTP answer. */
export const FailureType = {
  /** Refused on state alone (validator): 409 with currentStatus. */
  InvalidTransition: 'InvalidTransition',
  /** If-Match revision is not the current one: 412. */
  RevisionMismatch: 'RevisionMismatch',
  /** Approve names a revision or policy hash that is not what is under review: 409. */
  StaleReview: 'StaleReview',
  /** An administrator approving their own service: 403. */
  SelfApproval: 'SelfApproval',
  /** Not allowed for this caller: 403. */
  Forbidden: 'Forbidden',
  /** A field that may not change: 400 naming it. */
  InvalidInput: 'InvalidInput',
  /** Accepted update whose fresh JWKS check failed: 409 with the report. */
  CredentialsInvalid: 'CredentialsInvalid',
  /** The change was applied, but the read model refused it for good (see projectionError): 503. */
  ProjectionFailed: 'ProjectionFailed',
  /** A deactivation cancelled the job this update was waiting for: 409. */
  CancelledByDeactivation: 'CancelledByDeactivation',
  /** The command's token is missing, forged, expired, replayed or for another workflow or argument: 403. */
  CommandNotAuthorized: 'CommandNotAuthorized',
} as const;

// ---- notifications (notifications.ts, activities/notifications.ts, docs/decisions/notifications.md) ----

/** What people hear about. Owners may turn off the e-mail of any but the security events. */
export const NOTIFICATION_EVENTS = [
  'submitted',
  'review-reminder',
  'approved',
  'rejected',
  'approval-failed',
  'deactivated',
  'revoked',
  'credentials-failing',
  'credentials-recovered',
  'staged-secret-soon',
  'staged-secret-live',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Always sent, whatever the preferences say: a cut-off or a secret change must never go unnoticed. */
export const SECURITY_EVENTS: readonly NotificationEvent[] = [
  'deactivated',
  'revoked',
  'staged-secret-soon',
  'staged-secret-live',
];

/** reviewers: REVIEWERS_EMAIL. owner: the service's contact and the owner's e-mail, and its webhook. */
export type NotificationAudience = 'reviewers' | 'owner';
export type NotificationChannel = 'mail' | 'webhook';

/** One notification, as the workflow starts it. No secret: names, addresses, status and a reason. */
export interface NotificationInput {
  /** `<serviceId>/<event>/<projectionVersion>[/<reminder>]`: the Message-ID and the `webhook-id`. */
  key: string;
  event: NotificationEvent;
  audience: NotificationAudience;
  serviceId: string;
  serviceName: string;
  contactEmail: string;
  ownerEmail: string | null;
  status: ServiceStatus;
  at: string;
  reason: string | null;
  /** Review reminders: 1, 2, … */
  reminder?: number;
  /** Staged-secret events: when the secret goes live. */
  activateAt?: string;
}

export interface NotificationOutcome {
  delivered: boolean;
  /** Why nothing went out (no webhook, e-mail turned off, no recipient). */
  skipped?: string;
}

/** From the worker's configuration (a local activity), so tests shorten it. */
export interface NotificationTiming {
  reviewReminderAfterSeconds: number;
  reviewReminderEverySeconds: number;
  /** How long before a staged secret goes live its owner is told. */
  stagedSecretNoticeSeconds: number;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  /** One delivery attempt's limit: a worker that died mid-send is noticed after it, and the send retried. */
  attemptTimeoutSeconds: number;
  /** After this long a notification is dropped, on the record. */
  giveUpAfterSeconds: number;
}

export interface PendingNotification {
  channel: NotificationChannel;
  input: NotificationInput;
}

export interface CarriedNotifications {
  ownerEmail: string | null;
  pending: PendingNotification[];
  /** The submission waiting for review: its projection version, reminders sent, the next one's time. */
  reminder: { submittedAt: string; projectionVersion: number; sent: number; nextAt: string | null } | null;
  /** The staged secret whose owner is told before it goes live (nextAt null: staged too late for a notice). */
  stagedNotice: { secretVersion: number; nextAt: string | null; sent: boolean } | null;
}
