import { z } from '@hono/zod-openapi';
import { scopesInputSchema } from '../../scopes/build.js';
import {
  multiLineText,
  organizationIdText,
  refuseBlank,
  refuseForbiddenCharacters,
  singleLineText,
} from '../text-fields.js';

/** What a developer sends to register a service, and to edit it. */

export const AuthMethodInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('jwks_uri'), jwksUri: singleLineText('jwksUri').min(1).max(2048) }),
  z.strictObject({ type: z.literal('client_secret') }),
]);

export const RegistrationInput = z
  .strictObject({
    name: singleLineText('name').trim().min(1).max(200).superRefine(refuseBlank('name')),
    description: multiLineText('description').max(4000).default(''),
    contactEmail: z
      .email({ error: 'must be an e-mail address' })
      .max(320)
      .superRefine(refuseForbiddenCharacters('contactEmail')),
    authMethod: AuthMethodInput,
    scopes: scopesInputSchema,
    organizationId: organizationIdText()
      .nullable()
      .default(null)
      .openapi({ description: 'Required when OrgBAC is on' }),
  })
  .openapi('RegistrationInput');

/** A merge-patch (RFC 7396) of the registration: any subset of its fields. */
export const RegistrationPatch = z
  .strictObject({
    name: z.unknown().optional(),
    description: z.unknown().optional(),
    contactEmail: z.unknown().optional(),
    authMethod: z.unknown().optional(),
    scopes: z.unknown().optional(),
    organizationId: z.unknown().optional(),
  })
  .openapi('RegistrationPatch', {
    description: 'JSON merge-patch of RegistrationInput; authMethod.type cannot change',
  });
