import type { CarriedNotifications } from './notification-types.js';
import type { RetryTiming } from './retry-timing.js';
import type { Registration, ServiceState, ServiceStatus } from './service-state.js';

/**
 * What the workflow and its updates take and answer: the start input (and what continue-as-new
 * carries), the update arguments and their results. Plain JSON, never a secret.
 */

export interface Actor {
  /** OIDC `sub`. */
  sub: string;
  roles: string[];
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
  /** Failed rounds after which an approval's provisioning fails (PROVISIONING_MAX_ROUNDS); absent: 12. */
  provisioningMaxRounds?: number;
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

// ---- update arguments and results (messages.ts) ----

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
