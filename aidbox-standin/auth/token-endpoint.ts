/**
 * `POST /auth/token` for `grant_type=client_credentials` (docs/aidbox-contract.md §4 and §9.6;
 * docs/smart-rules.md §3.3): client_secret_basic, client_secret_post (form or JSON body) and
 * private_key_jwt. Issues RS256 JWT access tokens for clients with `token_format: jwt` and opaque
 * tokens otherwise (section 1.1), and records a Session per token (section 4), whose deletion
 * revokes the token (section 8 call 4).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ResourceStore, Resource } from '../store/store.js';
import { JWT_BEARER, verifyClientAssertion, type AssertionContext } from './assertion.js';
import type { SigningKey } from './keys.js';
import { grantScopes } from './scopes.js';
import { hashSecret, verifySecret } from './secrets.js';
import { TokenError } from './token-error.js';

export interface TokenEndpointDeps {
  store: ResourceStore;
  signingKey: SigningKey;
  /** The stand-in's base URL: the token `iss`, and `<base>/auth/token` is the assertion `aud`. */
  baseUrl: () => string;
  assertion: Omit<AssertionContext, 'tokenUrl' | 'findClient'>;
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
}

const CLIENT_EXTENSION_B2B = 'http://health-samurai.io/fhir/core/StructureDefinition/client-hl7B2b';

/** Parses the token request body: form (A1) or JSON (Aidbox accepts both, section 4). */
export function parseTokenForm(contentType: string | undefined, raw: string): Record<string, string> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new TokenError(400, 'invalid_request', 'the body is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new TokenError(400, 'invalid_request', 'the body must be an object');
    return Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  }
  throw new TokenError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
}

function basicCredentials(authorization: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new TokenError(400, 'invalid_client', 'malformed Basic credentials');
  // RFC 6749 section 2.3.1: both parts are form-urlencoded before base64.
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
}

function secretClient(store: ResourceStore, id: string, secret: string): Resource {
  const client = store.get('Client', id);
  // One message for unknown client and bad secret: the answer must not reveal which ids exist.
  if (!client || !verifySecret(secret, client.secret))
    throw new TokenError(400, 'invalid_client', 'invalid client credentials');
  if (client.active === false) throw new TokenError(400, 'invalid_client', 'client is not active');
  const grantTypes = Array.isArray(client.grant_types) ? client.grant_types : [];
  if (!grantTypes.includes('client_credentials'))
    throw new TokenError(400, 'invalid_client', 'client_credentials is not among the client grant_types');
  return client;
}

/** The UDAP B2B claim of section 1.1 / 4, from the client's hl7B2b extension. */
function b2bClaim(client: Resource, store: ResourceStore): Record<string, unknown> | undefined {
  const extension = (Array.isArray(client.extension) ? client.extension : []).find(
    (e: { url?: string }) => e?.url === CLIENT_EXTENSION_B2B,
  ) as { extension?: Array<Record<string, unknown>> } | undefined;
  if (!extension) return undefined;
  const part = (url: string) => extension.extension?.find((e) => e.url === url);
  const orgReference = (part('organization')?.valueReference as { reference?: string } | undefined)
    ?.reference;
  const identifierSystem = part('organizationIdentifierSystem')?.valueUri;
  const purpose = part('purposeOfUse')?.valueCoding as { code?: string } | undefined;
  const orgId = orgReference?.split('/')[1];
  const org = orgId ? store.get('Organization', orgId) : undefined;
  const identifiers = (Array.isArray(org?.identifier) ? org.identifier : []) as Array<{
    system?: string;
    value?: string;
  }>;
  const identifier = identifiers.find((i) => identifierSystem === undefined || i.system === identifierSystem);
  return {
    version: '1',
    organization_id: identifier?.value ?? orgReference,
    organization_name: typeof org?.name === 'string' ? org.name : undefined,
    purpose_of_use: purpose?.code ? [purpose.code] : [],
  };
}

export async function handleTokenRequest(
  deps: TokenEndpointDeps,
  request: { contentType?: string; authorization?: string; rawBody: string },
): Promise<TokenResponse> {
  const form = parseTokenForm(request.contentType, request.rawBody);
  // A1: client_credentials only.
  if (form.grant_type === undefined) throw new TokenError(400, 'invalid_request', 'grant_type is required');
  if (form.grant_type !== 'client_credentials')
    throw new TokenError(400, 'invalid_request', `unsupported grant_type ${form.grant_type}`);

  const tokenUrl = `${deps.baseUrl()}/auth/token`;
  let client: Resource;
  if (form.client_assertion_type !== undefined || form.client_assertion !== undefined) {
    // A2: exact assertion type; the assertion must be present.
    if (form.client_assertion_type !== JWT_BEARER)
      throw new TokenError(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
    if (!form.client_assertion) throw new TokenError(400, 'invalid_request', 'client_assertion is required');
    client = await verifyClientAssertion(form.client_assertion, form.client_id, {
      ...deps.assertion,
      tokenUrl,
      findClient: (id) => deps.store.get('Client', id),
    });
  } else {
    const basic = basicCredentials(request.authorization);
    if (basic) client = secretClient(deps.store, basic.id, basic.secret);
    else if (form.client_id !== undefined && form.client_secret !== undefined)
      client = secretClient(deps.store, form.client_id, form.client_secret);
    else throw new TokenError(400, 'invalid_client', 'client authentication is required');
  }

  // A10: SMART scope rules for SMART clients only. A plain Aidbox client (no `type: smart-app`, such as
  // the quickstart's admin-api) gets a token with or without scope, which it carries as asked
  // (https://docs.aidbox.app/auth/client-credentials shows a token request without scope; README
  // "unverified" for what happens to a scope it sends).
  let scope: string;
  if (client.type === 'smart-app') {
    const decision = grantScopes(form.scope, client.scope);
    if (!decision.ok) throw new TokenError(400, 'invalid_scope', decision.description);
    scope = decision.scopes.join(' ');
  } else {
    scope = (form.scope ?? '').split(' ').filter(Boolean).join(' ');
  }

  const settings = (
    client.auth as
      { client_credentials?: { token_format?: string; access_token_expiration?: number } } | undefined
  )?.client_credentials;
  const expiresIn = settings?.access_token_expiration ?? 300;
  const now = Math.floor(Date.now() / 1000);
  const sessionId = randomUUID();
  const isJwt = settings?.token_format === 'jwt';

  let accessToken: string;
  if (isJwt) {
    const claims: Record<string, unknown> = {};
    // atv/scope only for smart-app clients (section 2.5): that is what turns on Aidbox's scope layer.
    if (client.type === 'smart-app') Object.assign(claims, { atv: 2, scope });
    const b2b = b2bClaim(client, deps.store);
    if (b2b) claims.extensions = { 'hl7-b2b': b2b };
    accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: deps.signingKey.kid, typ: 'JWT' })
      .setIssuer(deps.baseUrl())
      .setSubject(client.id)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresIn)
      .setJti(sessionId)
      .sign(deps.signingKey.privateKey);
  } else {
    accessToken = randomBytes(32).toString('base64url');
  }

  deps.store.put('Session', sessionId, {
    type: 'client_credentials',
    client: { reference: `Client/${client.id}` },
    scope,
    exp: now + expiresIn,
    access_token: hashSecret(accessToken),
  });

  // Section 4: JWT tokens carry expires_in and scope; opaque ones (the default) do not.
  const body: Record<string, unknown> = { token_type: 'Bearer', access_token: accessToken };
  // `need_patient_banner` is a launch-context parameter of user-facing apps (SMART App Launch
  // "Launch context arrives with your access_token"); a client_credentials answer has no launch.
  if (isJwt) Object.assign(body, { expires_in: expiresIn, ...(scope ? { scope } : {}) });
  return { status: 200, body };
}
