/**
 * The floor workflow (floor-workflow.ts) with its no-op outside calls replaced by our real Aidbox
 * activities against the stand-ins: the same Client upserts, policy applies and activation, and the
 * client secret the Client is created with. Nothing else of ours: no projection, no derivation
 * activity, no verification, no search attributes. What this costs over the floor is the work any
 * implementation must do to provision a Backend Service in two Aidboxes, so its throughput against
 * the floor's bounds what any workflow shape can reach on the bench's machine.
 */
import type { BackendServiceActivities } from '../activities/backend-service-contract.js';
import { derivePolicies } from '../scopes/derive.js';
import type { Registration } from '../workflows/backend-service/service-state.js';
import type { FloorActivities } from './floor-workflow.js';

type Real = Pick<
  BackendServiceActivities,
  'generateClientSecret' | 'upsertClient' | 'applyPolicies' | 'setClientActive' | 'checkJwks'
>;

export function floorActivitiesWithAidboxWork(real: Real, registration: Registration): FloorActivities {
  const secretVersion = registration.authMethod.type === 'client_secret' ? 1 : null;
  return {
    async checkJwks({ serviceId }) {
      if (registration.authMethod.type === 'jwks_uri')
        await real.checkJwks({ serviceId, jwksUri: registration.authMethod.jwksUri });
    },
    async upsertClient({ environment, serviceId, active }) {
      // The sandbox's upsert is the service's first outside call: its secret is made then.
      if (environment === 'sandbox' && secretVersion !== null)
        await real.generateClientSecret({ serviceId, secretVersion });
      await real.upsertClient({ environment, serviceId, registration, secretVersion, active });
    },
    async applyPolicies({ environment, clientId }) {
      const { policies } = derivePolicies({
        clientId,
        scopes: registration.scopes.strings,
        organizationId: registration.organizationId,
      });
      await real.applyPolicies({ environment, clientId, policies });
    },
    async setClientActive(input) {
      await real.setClientActive(input);
    },
  };
}
