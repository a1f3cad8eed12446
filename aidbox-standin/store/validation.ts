/**
 * Shapes Aidbox refuses with 422 (docs/aidbox-contract.md §1.1, §2.1, §9.2): unknown AccessPolicy
 * engines, malformed engine payloads, `grant_types` outside Aidbox's list, a `jwks_uri` that is not
 * a URL, a body whose `resourceType` contradicts the URL, ids outside the FHIR id rule.
 */
import { z } from 'zod';
import { invalid } from '../http/outcome.js';
import { KNOWN_ENGINES } from '../policy/engine.js';

export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** Client.grant_types allowed values (section 1.1). */
export const GRANT_TYPES = [
  'basic',
  'authorization_code',
  'code',
  'password',
  'client_credentials',
  'implicit',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:token-exchange',
] as const;

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

const reference = z.looseObject({
  reference: z.string().optional(),
  resourceType: z.string().optional(),
  id: z.string().optional(),
});

const clientSchema = z.looseObject({
  active: z.boolean().optional(),
  type: z.string().optional(),
  secret: z.string().min(1).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).optional(),
  scope: z.array(z.string()).optional(),
  jwks_uri: httpUrl.optional(),
  jwks: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional() })).optional(),
  auth: z
    .looseObject({
      client_credentials: z
        .looseObject({
          client_assertion_types: z.array(z.string()).optional(),
          token_format: z.literal('jwt').optional(),
          access_token_expiration: z.number().int().positive().optional(),
          refresh_token: z.boolean().optional(),
        })
        .optional(),
    })
    .optional(),
  meta: z.looseObject({ extension: z.array(z.looseObject({ url: z.string() })).optional() }).optional(),
});

type RuleShape = {
  engine?: unknown;
  matcho?: unknown;
  and?: unknown;
  or?: unknown;
  link?: unknown;
  roleName?: unknown;
};

function checkRule(rule: RuleShape, where: string): void {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    throw invalid(`${where}: must be an object`);
  if (rule.engine === undefined) {
    if (rule.roleName !== undefined) return; // RBAC policies carry roleName instead (section 2.1).
    throw invalid(`${where}.engine: required`);
  }
  if (!(KNOWN_ENGINES as readonly unknown[]).includes(rule.engine)) {
    throw invalid(
      `${where}.engine: unknown engine ${JSON.stringify(rule.engine)}; one of ${KNOWN_ENGINES.join(', ')}`,
    );
  }
  if (
    rule.engine === 'matcho' &&
    (typeof rule.matcho !== 'object' || rule.matcho === null || Array.isArray(rule.matcho))
  ) {
    throw invalid(`${where}.matcho: the matcho engine needs a matcho object`);
  }
  if (rule.engine === 'complex') {
    const { and, or } = rule;
    if ((and === undefined) === (or === undefined))
      throw invalid(`${where}: complex needs exactly one of and / or`);
    const list = and ?? or;
    if (!Array.isArray(list) || list.length === 0)
      throw invalid(`${where}: and / or must be a non-empty array`);
    list.forEach((sub: RuleShape, i) => checkRule(sub, `${where}.${and ? 'and' : 'or'}[${i}]`));
  }
}

function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(resource)'}: ${issue.message}`).join('; ');
}

/** Throws a 422 HttpError when Aidbox would refuse the resource. */
export function validateResource(
  type: string,
  body: unknown,
  urlId?: string,
): asserts body is Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('the body must be a JSON object');
  const record = body as Record<string, unknown>;
  if (record.resourceType !== undefined && record.resourceType !== type) {
    throw invalid(`resourceType ${JSON.stringify(record.resourceType)} does not match the URL (${type})`);
  }
  const id = urlId ?? record.id;
  if (id !== undefined && (typeof id !== 'string' || !FHIR_ID.test(id)))
    throw invalid(`id ${JSON.stringify(id)} is not a valid id`);

  if (type === 'Client') {
    const parsed = clientSchema.safeParse(record);
    if (!parsed.success) throw invalid(describeZodError(parsed.error));
  }
  if (type === 'AccessPolicy') {
    checkRule(record as RuleShape, 'AccessPolicy');
    if (record.link !== undefined) {
      const links = z.array(reference).safeParse(record.link);
      if (!links.success) throw invalid(`link: ${describeZodError(links.error)}`);
    }
  }
}
