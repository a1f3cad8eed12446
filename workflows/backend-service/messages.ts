import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ServiceState } from './service-state.js';
import type {
  ApproveInput,
  DecisionInput,
  EditInput,
  OwnerActionInput,
  RecheckCredentialsInput,
  RotateSecretInput,
  RotateSecretResult,
  SubmitInput,
  UpdateResult,
} from './inputs.js';

// One definition per message, shared by the workflow and the API client.
export const editUpdate = defineUpdate<UpdateResult, [EditInput]>('edit');
export const submitUpdate = defineUpdate<UpdateResult, [SubmitInput]>('submit');
export const approveUpdate = defineUpdate<UpdateResult, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<UpdateResult, [DecisionInput]>('reject');
export const deactivateUpdate = defineUpdate<UpdateResult, [DecisionInput]>('deactivate');
export const rotateSecretUpdate = defineUpdate<RotateSecretResult, [RotateSecretInput]>('rotateSecret');
/** Re-runs the JWKS check (the developer fixed their key server) without editing the registration. */
export const recheckCredentialsUpdate = defineUpdate<UpdateResult, [RecheckCredentialsInput]>(
  'recheckCredentials',
);
/** Under review back to draft (the owner), refused once an approval is being carried out. */
export const withdrawUpdate = defineUpdate<UpdateResult, [OwnerActionInput]>('withdraw');
/** A service that never went live: sandbox client and stored secrets removed, the workflow completes. */
export const deleteUpdate = defineUpdate<UpdateResult, [OwnerActionInput]>('delete');
/** The owner's emergency cut-off of a live service: the same as a deactivation, final. */
export const revokeUpdate = defineUpdate<UpdateResult, [DecisionInput]>('revoke');
/** A staged secret goes live now instead of at its time. */
export const activateStagedSecretUpdate = defineUpdate<UpdateResult, [OwnerActionInput]>(
  'activateStagedSecret',
);
/** A staged secret is dropped: the live one stays. */
export const dropStagedSecretUpdate = defineUpdate<UpdateResult, [OwnerActionInput]>('dropStagedSecret');
/** A pending change (draft or rejected) is dropped: the live revision stays, the sandbox returns to it. */
export const dropPendingChangeUpdate = defineUpdate<UpdateResult, [OwnerActionInput]>('dropPendingChange');
export const stateQuery = defineQuery<ServiceState>('state');

export const workflowIdOf = (serviceId: string) => `backend-service/${serviceId}`;
