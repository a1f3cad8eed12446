import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { derivePolicies } from '../scopes/derive.js';
import { createScopeActivities } from './scopes.js';

describe('scope activities', () => {
  it('returns the pure derivation as plain JSON', async () => {
    const input = { clientId: 'bs-acme', scopes: ['system/Patient.rs'], organizationId: null };
    const result = await createScopeActivities().derivePolicies(input);
    expect(result).toEqual(derivePolicies(input));
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('fails non-retryably on a refused scope', async () => {
    const failure = await createScopeActivities()
      .derivePolicies({ clientId: 'bs-acme', scopes: ['system/Client.rs'], organizationId: null })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).type).toBe('ScopeDerivationError');
  });
});
