import type { UpdateDefinition } from '@temporalio/common';
import type { SecretStore } from '../credentials/secret-store.js';
import type { Db } from '../db/database.js';
import { validatorsByUpdate, type Refusal } from '../workflows/backend-service/rules.js';
import type { BackendServiceInput } from '../workflows/backend-service/inputs.js';
import type { ServiceState } from '../workflows/backend-service/service-state.js';
import { UpdateRefused, type BackendServiceCommands } from '../api/services/commands.js';
import { findService } from '../api/services/read-model.js';
import { seedService, serviceState } from './api-harness.js';

/**
 * A stand-in for the workflow port in tests that exercise the API's own rules (authorization,
 * validation, problem mapping) without a worker: updates are judged by the workflow's real
 * validators (rules.ts) against the read model and, when accepted, change nothing. A create
 * projects a draft; a rotation stores a real secret version so the reveal path runs.
 */
export function rulesOnlyCommands(
  db: Db,
  secrets: SecretStore,
): BackendServiceCommands & { started: BackendServiceInput[] } {
  const started: BackendServiceInput[] = [];
  const validators: Record<string, (state: ServiceState, input: never) => Refusal | undefined> =
    validatorsByUpdate;
  return {
    started,
    async start(input) {
      if (await findService(db, input.serviceId)) return 'already-started';
      started.push(input);
      const secret =
        input.registration.authMethod.type === 'client_secret' ? await secrets.create(input.serviceId) : null;
      await seedService(
        db,
        serviceState({
          serviceId: input.serviceId,
          ownerId: input.ownerId,
          registration: input.registration,
          createdAt: input.createdAt,
          updatedAt: input.createdAt,
          credentials: {
            state: secret ? 'valid' : 'pending',
            checkedAt: null,
            secret: secret
              ? { version: secret.secretVersion, fingerprint: secret.fingerprint, createdAt: input.createdAt }
              : null,
            jwksReport: null,
            acceptedThumbprints: {},
          },
        }),
      );
      return 'started';
    },
    async update<Ret, Arg>(
      serviceId: string,
      definition: UpdateDefinition<Ret, [Arg]>,
      arg: Arg,
    ): Promise<Ret> {
      const row = await findService(db, serviceId);
      if (!row) throw new Error(`no service ${serviceId}`);
      const refusal = validators[definition.name]?.(row.state, arg as never);
      if (refusal) {
        throw new UpdateRefused(refusal.type, refusal.message, {
          currentStatus: refusal.currentStatus,
          field: refusal.field ?? null,
        });
      }
      const result = {
        status: row.state.status,
        revision: row.state.revision,
        projectionVersion: row.projectionVersion,
      };
      if (definition.name === 'rotateSecret') {
        const created = await secrets.create(serviceId);
        return { ...result, secretVersion: created.secretVersion, fingerprint: created.fingerprint } as Ret;
      }
      return result as Ret;
    },
  };
}
