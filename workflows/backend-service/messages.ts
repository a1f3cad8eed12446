import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  ApproveInput,
  DecisionInput,
  EditInput,
  RecheckCredentialsInput,
  RotateSecretInput,
  RotateSecretResult,
  ServiceState,
  SubmitInput,
  UpdateResult,
} from './types.js';

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
export const stateQuery = defineQuery<ServiceState>('state');

export const workflowIdOf = (serviceId: string) => `backend-service/${serviceId}`;
