import type { z } from '@hono/zod-openapi';
import { checkJwksUrl } from '../../credentials/jwks-url.js';
import { buildScopes } from '../../scopes/build.js';
import type { Registration } from '../../workflows/backend-service/service-state.js';
import type { OrganizationDirectory } from '../organizations.js';
import { validationError, type FieldError } from '../problems.js';
import { RegistrationInput } from '../schemas/registration.js';
import { fieldErrors } from '../validation.js';

export type RegistrationInputValue = z.infer<typeof RegistrationInput>;

export interface RegistrationRules {
  mode: 'development' | 'production';
  orgbac: boolean;
  organizations: OrganizationDirectory;
}

/**
 * From a registration input that passed the schema to the Registration the workflow gets: scope
 * strings computed by the scopes module, the JWKS URL checked and canonical, the Organization
 * required (OrgBAC) and known. Every refusal names its field as a JSON pointer.
 */
export async function toRegistration(
  input: RegistrationInputValue,
  rules: RegistrationRules,
): Promise<Registration> {
  const errors: FieldError[] = [];

  const scopes = buildScopes(input.scopes, { pointer: '/scopes' });
  if (!scopes.ok) errors.push(...scopes.errors);

  let authMethod: Registration['authMethod'] = { type: 'client_secret' };
  if (input.authMethod.type === 'jwks_uri') {
    const verdict = checkJwksUrl(input.authMethod.jwksUri, rules.mode);
    if (verdict.ok) authMethod = { type: 'jwks_uri', jwksUri: verdict.canonical };
    else errors.push({ field: '/authMethod/jwksUri', message: verdict.message });
  }

  const organizationId = input.organizationId ?? null;
  if (rules.orgbac && organizationId === null) {
    errors.push({
      field: '/organizationId',
      message: 'choose the Organization whose data the service may access',
    });
  } else if (!rules.orgbac && organizationId !== null) {
    errors.push({
      field: '/organizationId',
      message: 'this deployment has no organizations (OrgBAC is off); leave it out',
    });
  } else if (
    organizationId !== null &&
    errors.length === 0 &&
    !(await rules.organizations.exists(organizationId))
  ) {
    errors.push({
      field: '/organizationId',
      message: `Organization '${organizationId}' does not exist in production`,
    });
  }

  if (errors.length > 0 || !scopes.ok) throw validationError(errors);
  return {
    name: input.name,
    description: input.description,
    contactEmail: input.contactEmail,
    authMethod,
    scopes: { version: scopes.value.version, rules: scopes.value.rules, strings: scopes.value.strings },
    organizationId,
  };
}

/** The registration as a client would send it (what a merge-patch applies to). */
export function registrationAsInput(registration: Registration): Record<string, unknown> {
  return {
    name: registration.name,
    description: registration.description,
    contactEmail: registration.contactEmail,
    authMethod: registration.authMethod,
    scopes: { version: registration.scopes.version, rules: registration.scopes.rules },
    organizationId: registration.organizationId,
  };
}

/** RFC 7396 JSON merge-patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Applies a merge-patch to the current registration and validates the result like a new registration. */
export function patchedRegistrationInput(
  current: Registration,
  patch: Record<string, unknown>,
): RegistrationInputValue {
  const merged = mergePatch(registrationAsInput(current), patch) as Record<string, unknown>;
  const authMethod = merged.authMethod;
  if (typeof authMethod !== 'object' || authMethod === null || Array.isArray(authMethod)) {
    // Name what the request sent (a non-object, or null: merge-patch's "remove"), not a field inside it.
    throw validationError([
      { field: '/authMethod', message: `must be an object whose type stays ${current.authMethod.type}` },
    ]);
  }
  const type = (authMethod as { type?: unknown }).type;
  if (type !== current.authMethod.type) {
    throw validationError([
      {
        field: '/authMethod/type',
        message: 'the authentication method cannot change; register a new service instead',
      },
    ]);
  }
  const parsed = RegistrationInput.safeParse(merged);
  if (!parsed.success) throw validationError(fieldErrors(parsed.error.issues, 'json'));
  return parsed.data;
}
