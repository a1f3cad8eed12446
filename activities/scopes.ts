import { ApplicationFailure } from '@temporalio/common';
import type { DerivePoliciesInput, DerivedPolicySet } from '../scopes/derive.js';
import { ScopeDerivationError, derivePolicies } from '../scopes/derive.js';

export interface ScopeActivities {
  /**
   * The scope → AccessPolicy derivation as an activity, so its result (plain JSON) is recorded in
   * history and later changes to the mapping never break the replay of running workflows
   * (docs/architecture.md, "Deriving policies in an activity").
   */
  derivePolicies(input: DerivePoliciesInput): Promise<DerivedPolicySet>;
}

export function createScopeActivities(): ScopeActivities {
  return {
    async derivePolicies(input) {
      try {
        return derivePolicies(input);
      } catch (error) {
        // A refused scope or a malformed id fails the same way on every attempt: do not retry.
        if (error instanceof ScopeDerivationError) {
          throw ApplicationFailure.nonRetryable(error.message, 'ScopeDerivationError');
        }
        throw error;
      }
    },
  };
}
