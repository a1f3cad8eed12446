import type { WorkflowClientInterceptor } from '@temporalio/client';
import { inject } from 'vitest';
import { commandSigningInterceptor } from '../api/commands/signing-interceptor.js';
import { createCommandSigner, type CommandSignerOptions } from '../api/commands/signer.js';
import { commandSigningKeySchema, commandVerifyKeysSchema } from '../platform/command-tokens.js';
import type { CommandVerification } from '../worker/command-verifier.js';

/**
 * The run's command key pair (made by the global setup): test clients and the API under test sign
 * with it, test workers verify with it, as the API and the worker would in production.
 */
export const testCommandSigningKey = () => commandSigningKeySchema.parse(inject('commandSigningKey'));
export const testCommandVerifyKeys = () => commandVerifyKeysSchema.parse(inject('commandVerifyKeys'));

export const testCommandSigner = (options: CommandSignerOptions = {}) =>
  createCommandSigner(testCommandSigningKey(), options);

export const testCommandVerification = (): CommandVerification => ({ keys: testCommandVerifyKeys() });

/** Signs starts and updates the way the API would (see api/commands/signing-interceptor.ts). */
export const testSigningInterceptor = (): WorkflowClientInterceptor =>
  commandSigningInterceptor(testCommandSigner());
