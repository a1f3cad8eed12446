import type { ServiceState } from './service-state.js';
import type {
  Actor,
  ApproveInput,
  DecisionInput,
  EditInput,
  OwnerActionInput,
  RecheckCredentialsInput,
  RotateSecretInput,
  SubmitInput,
} from './inputs.js';
import { FailureType } from './failure-types.js';

/**
 * Which message the service accepts in which state: the validators of the workflow's updates.
 * Pure functions (no Temporal API) so they are unit-tested directly. A refusal here leaves no trace
 * in history (docs/architecture.md, "Refusals").
 */
export interface Refusal {
  type: (typeof FailureType)[keyof typeof FailureType];
  message: string;
  currentStatus: ServiceState['status'];
  field?: string;
}

const isAdmin = (actor: Actor) => actor.roles.includes('admin');
const isOwner = (state: ServiceState, actor: Actor) => actor.sub === state.ownerId;
const declined = (state: ServiceState) => state.status === 'rejected' && state.rejection?.kind === 'declined';
const provisioning = (state: ServiceState) => state.approval?.state === 'provisioning';
/** A live service's change waiting for a decision. */
export const changeUnderReview = (state: ServiceState) =>
  state.status === 'active' && state.pendingChange?.state === 'under_review';
/** The revision an edit must name: the pending change's when there is one, else the service's. */
export const newestRevision = (state: ServiceState) => state.pendingChange?.revision ?? state.revision;
/** What is under review: the service's submission, or its pending change's. */
export const submissionUnderReview = (state: ServiceState) =>
  changeUnderReview(state) ? (state.pendingChange?.submission ?? null) : state.submission;
/** Deactivated by an administrator or revoked by its owner: final. */
export const cutOff = (state: ServiceState) =>
  state.status === 'rejected' &&
  (state.rejection?.kind === 'deactivated' || state.rejection?.kind === 'revoked-by-owner');

function refuse(state: ServiceState, type: Refusal['type'], message: string, field?: string): Refusal {
  return { type, message, currentStatus: state.status, ...(field ? { field } : {}) };
}

function describe(state: ServiceState): string {
  if (provisioning(state)) return 'its approval is being carried out';
  if (state.deletedAt) return 'it was deleted';
  if (state.status === 'rejected') {
    if (state.rejection?.kind === 'deactivated') return 'it is deactivated';
    if (state.rejection?.kind === 'revoked-by-owner') return 'its owner revoked it';
    return 'it was declined';
  }
  return `it is ${state.status.replace('_', ' ')}`;
}

export function refuseEdit(state: ServiceState, input: EditInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may edit a service');
  const live = state.status === 'active';
  if (provisioning(state) || !(state.status === 'draft' || declined(state) || live)) {
    return refuse(state, FailureType.InvalidTransition, `the service cannot be edited: ${describe(state)}`);
  }
  if (changeUnderReview(state)) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      'its change is under review; withdraw the change to edit it again',
    );
  }
  if (input.expectedRevision !== newestRevision(state)) {
    return refuse(
      state,
      FailureType.RevisionMismatch,
      `revision ${input.expectedRevision} is not the current revision ${newestRevision(state)}; reload and edit again`,
    );
  }
  if (input.registration.authMethod.type !== state.registration.authMethod.type) {
    return refuse(
      state,
      FailureType.InvalidInput,
      'the authentication method cannot change; register a new service instead',
      '/authMethod/type',
    );
  }
  // A live service's change may move it to another Organization: the review decides.
  if (
    input.registration.organizationId !== state.registration.organizationId &&
    !live &&
    state.status !== 'draft'
  ) {
    return refuse(
      state,
      FailureType.InvalidInput,
      'the organization can change only while the service is a draft',
      '/organizationId',
    );
  }
  return undefined;
}

export function refuseSubmit(state: ServiceState, input: SubmitInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may submit a service');
  const change = state.pendingChange;
  if (
    state.status === 'active' &&
    (change?.state === 'draft' || change?.state === 'rejected') &&
    !provisioning(state)
  )
    return undefined;
  if (!(state.status === 'draft' || declined(state))) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      state.status === 'active'
        ? `the service is live and has ${change ? 'its change already under review' : 'no pending change to submit'}`
        : `the service cannot be submitted: ${describe(state)}`,
    );
  }
  return undefined;
}

export function refuseApprove(state: ServiceState, input: ApproveInput): Refusal | undefined {
  if (!isAdmin(input.actor))
    return refuse(state, FailureType.Forbidden, 'only administrators approve services');
  if (isOwner(state, input.actor)) {
    return refuse(
      state,
      FailureType.SelfApproval,
      'nobody may approve a service they own; ask another administrator',
    );
  }
  if (!(state.status === 'under_review' || changeUnderReview(state)) || provisioning(state)) {
    return refuse(state, FailureType.InvalidTransition, `the service cannot be approved: ${describe(state)}`);
  }
  const reviewed = submissionUnderReview(state);
  if (
    !reviewed ||
    input.revision !== reviewed.revision ||
    input.policyHash !== reviewed.productionPolicies.policyHash
  ) {
    return refuse(
      state,
      FailureType.StaleReview,
      `what you reviewed (revision ${input.revision}, policy hash ${input.policyHash.slice(0, 12)}…) is not what is under review ` +
        `(revision ${reviewed?.revision}, policy hash ${reviewed?.productionPolicies.policyHash.slice(0, 12)}…); reload the review page`,
    );
  }
  return undefined;
}

export function refuseReject(state: ServiceState, input: DecisionInput): Refusal | undefined {
  if (!isAdmin(input.actor))
    return refuse(state, FailureType.Forbidden, 'only administrators reject services');
  if (!(state.status === 'under_review' || changeUnderReview(state)) || provisioning(state)) {
    return refuse(state, FailureType.InvalidTransition, `the service cannot be rejected: ${describe(state)}`);
  }
  return undefined;
}

export function refuseDeactivate(state: ServiceState, input: DecisionInput): Refusal | undefined {
  if (!isAdmin(input.actor))
    return refuse(state, FailureType.Forbidden, 'only administrators deactivate services');
  if (state.status !== 'active') {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `only an active service can be deactivated: ${describe(state)}`,
    );
  }
  return undefined;
}

export function refuseRotateSecret(state: ServiceState, input: RotateSecretInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may rotate the secret');
  if (state.registration.authMethod.type !== 'client_secret') {
    return refuse(
      state,
      FailureType.InvalidTransition,
      'this service authenticates with a JWKS URI: it has no secret to rotate',
    );
  }
  if (provisioning(state) || cutOff(state)) {
    return refuse(state, FailureType.InvalidTransition, `the secret cannot be rotated: ${describe(state)}`);
  }
  if (state.credentials.stagedSecret) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `a secret is already staged to go live at ${state.credentials.stagedSecret.activateAt}; activate or drop it first`,
    );
  }
  if (input.activateAt !== undefined) {
    const at = Date.parse(input.activateAt);
    // Workflow time in the validator (deterministic); the API checks the same against its clock first.
    if (Number.isNaN(at) || at <= Date.now()) {
      return refuse(
        state,
        FailureType.InvalidInput,
        'activateAt must be a time in the future (RFC 3339)',
        '/activateAt',
      );
    }
  }
  return undefined;
}

export function refuseRecheckCredentials(
  state: ServiceState,
  input: RecheckCredentialsInput,
): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may re-check the credentials');
  if (state.registration.authMethod.type !== 'jwks_uri') {
    return refuse(
      state,
      FailureType.InvalidTransition,
      'this service authenticates with a client secret: there is no JWKS to check',
    );
  }
  if (provisioning(state) || cutOff(state)) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `the credentials cannot be re-checked: ${describe(state)}`,
    );
  }
  return undefined;
}

export function refuseWithdraw(state: ServiceState, input: OwnerActionInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may withdraw a submission');
  if (provisioning(state)) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      'the submission cannot be withdrawn: it was approved and production is being set up',
    );
  }
  if (!(state.status === 'under_review' || changeUnderReview(state))) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `only a submission under review can be withdrawn: ${describe(state)}`,
    );
  }
  return undefined;
}

export function refuseDelete(state: ServiceState, input: OwnerActionInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may delete a service');
  if (state.deletedAt) return refuse(state, FailureType.InvalidTransition, 'the service was already deleted');
  if (state.productionProvisioned || !(state.status === 'draft' || declined(state)) || provisioning(state)) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `only a service that never went live (a draft, or declined at review) can be deleted: ${describe(state)}; a live service is revoked or deactivated instead`,
    );
  }
  return undefined;
}

export function refuseRevoke(state: ServiceState, input: DecisionInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may revoke their service');
  if (state.status !== 'active') {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `only an active service can be revoked: ${describe(state)}`,
    );
  }
  return undefined;
}

function refuseStagedSecretAction(
  state: ServiceState,
  input: OwnerActionInput,
  what: string,
): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, `only the owner may ${what} a staged secret`);
  if (cutOff(state) || state.deletedAt)
    return refuse(state, FailureType.InvalidTransition, `the secret cannot change: ${describe(state)}`);
  if (!state.credentials.stagedSecret)
    return refuse(state, FailureType.InvalidTransition, 'there is no staged secret');
  return undefined;
}

export const refuseActivateStagedSecret = (state: ServiceState, input: OwnerActionInput) =>
  refuseStagedSecretAction(state, input, 'activate');
export const refuseDropStagedSecret = (state: ServiceState, input: OwnerActionInput) =>
  refuseStagedSecretAction(state, input, 'drop');

export function refuseDropPendingChange(state: ServiceState, input: OwnerActionInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may drop a pending change');
  const change = state.pendingChange;
  if (state.status !== 'active' || !change)
    return refuse(state, FailureType.InvalidTransition, 'there is no pending change to drop');
  if (change.state === 'under_review' || provisioning(state)) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      'the change is under review (or being carried out); withdraw it first',
    );
  }
  return undefined;
}

/** Every update's validator, by update name: the one table the workflow and the API's tests read. */
export const validatorsByUpdate = {
  edit: refuseEdit,
  submit: refuseSubmit,
  approve: refuseApprove,
  reject: refuseReject,
  deactivate: refuseDeactivate,
  rotateSecret: refuseRotateSecret,
  recheckCredentials: refuseRecheckCredentials,
  withdraw: refuseWithdraw,
  delete: refuseDelete,
  revoke: refuseRevoke,
  activateStagedSecret: refuseActivateStagedSecret,
  dropStagedSecret: refuseDropStagedSecret,
  dropPendingChange: refuseDropPendingChange,
} as const;
