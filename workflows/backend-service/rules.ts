import {
  FailureType,
  type Actor,
  type ApproveInput,
  type DecisionInput,
  type EditInput,
  type RecheckCredentialsInput,
  type RotateSecretInput,
  type ServiceState,
  type SubmitInput,
} from './types.js';

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

function refuse(state: ServiceState, type: Refusal['type'], message: string, field?: string): Refusal {
  return { type, message, currentStatus: state.status, ...(field ? { field } : {}) };
}

function describe(state: ServiceState): string {
  if (provisioning(state)) return 'its approval is being carried out';
  if (state.status === 'rejected')
    return state.rejection?.kind === 'deactivated' ? 'it is deactivated' : 'it was declined';
  return `it is ${state.status.replace('_', ' ')}`;
}

export function refuseEdit(state: ServiceState, input: EditInput): Refusal | undefined {
  if (!isOwner(state, input.actor))
    return refuse(state, FailureType.Forbidden, 'only the owner may edit a service');
  if (provisioning(state) || !(state.status === 'draft' || declined(state))) {
    return refuse(state, FailureType.InvalidTransition, `the service cannot be edited: ${describe(state)}`);
  }
  if (input.expectedRevision !== state.revision) {
    return refuse(
      state,
      FailureType.RevisionMismatch,
      `revision ${input.expectedRevision} is not the current revision ${state.revision}; reload and edit again`,
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
  if (input.registration.organizationId !== state.registration.organizationId && state.status !== 'draft') {
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
  if (!(state.status === 'draft' || declined(state))) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `the service cannot be submitted: ${describe(state)}`,
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
  if (state.status !== 'under_review' || provisioning(state)) {
    return refuse(state, FailureType.InvalidTransition, `the service cannot be approved: ${describe(state)}`);
  }
  const reviewed = state.submission;
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
  if (state.status !== 'under_review' || provisioning(state)) {
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
  if (provisioning(state) || (state.status === 'rejected' && state.rejection?.kind === 'deactivated')) {
    return refuse(state, FailureType.InvalidTransition, `the secret cannot be rotated: ${describe(state)}`);
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
  if (provisioning(state) || (state.status === 'rejected' && state.rejection?.kind === 'deactivated')) {
    return refuse(
      state,
      FailureType.InvalidTransition,
      `the credentials cannot be re-checked: ${describe(state)}`,
    );
  }
  return undefined;
}
