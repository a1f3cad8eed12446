/**
 * Who is calling (docs/aidbox-contract.md §6 "Admin authentication" and §9.4, §9.7):
 * - `Basic`: the root client from configuration (full access, no policy), or a stored Client whose
 *   `grant_types` include `basic` (its requests go through the policy engine);
 * - `Bearer`: a token this stand-in issued: a JWT verified against its own key, or an opaque token;
 *   either way its Session must still exist (deleting the Session revokes the token);
 * - nothing: anonymous (policies decide; a denial then answers 401).
 */
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { unauthorized } from '../http/outcome.js';
import type { Resource, ResourceStore } from '../store/store.js';
import type { SigningKey } from './keys.js';
import { hashSecret, verifySecret } from './secrets.js';

export type Caller =
  | { kind: 'root' }
  | { kind: 'basic'; client: Resource }
  | { kind: 'bearer'; client: Resource | undefined; jwt: JWTPayload | undefined; session: Resource }
  | { kind: 'anonymous' };

export interface AuthenticateDeps {
  store: ResourceStore;
  signingKey: SigningKey;
  baseUrl: () => string;
  root: { id: string; secret: string };
}

function constantTimeEquals(a: string, b: string): boolean {
  return verifySecret(a, hashSecret(b));
}

function clientOfSession(store: ResourceStore, session: Resource): Resource | undefined {
  const reference = (session.client as { reference?: string } | undefined)?.reference;
  const id = reference?.startsWith('Client/') ? reference.slice('Client/'.length) : undefined;
  return id ? store.get('Client', id) : undefined;
}

export async function authenticate(
  deps: AuthenticateDeps,
  authorization: string | undefined,
): Promise<Caller> {
  if (!authorization) return { kind: 'anonymous' };
  const [scheme, credentials = ''] = authorization.trim().split(/\s+/, 2);

  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? '' : decoded.slice(colon + 1);
    if (id === deps.root.id && constantTimeEquals(secret, deps.root.secret)) return { kind: 'root' };
    const client = deps.store.get('Client', id);
    const grantTypes = Array.isArray(client?.grant_types) ? client.grant_types : [];
    if (
      client &&
      client.active !== false &&
      grantTypes.includes('basic') &&
      verifySecret(secret, client.secret)
    ) {
      return { kind: 'basic', client };
    }
    throw unauthorized('Invalid client credentials');
  }

  if (scheme?.toLowerCase() === 'bearer' && credentials !== '') {
    if (credentials.split('.').length === 3) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(credentials, deps.signingKey.publicKey, {
          issuer: deps.baseUrl(),
          algorithms: ['RS256'],
        }));
      } catch (error) {
        throw unauthorized(
          error instanceof joseErrors.JWTExpired ? 'Access token expired' : 'Invalid access token',
          true,
        );
      }
      const session = typeof payload.jti === 'string' ? deps.store.get('Session', payload.jti) : undefined;
      if (!session) throw unauthorized('Access token was revoked', true);
      return { kind: 'bearer', client: clientOfSession(deps.store, session), jwt: payload, session };
    }
    const hash = hashSecret(credentials);
    const session = deps.store.scan('Session').find((s) => s.access_token === hash);
    const now = Math.floor(Date.now() / 1000);
    if (!session || (typeof session.exp === 'number' && session.exp < now))
      throw unauthorized('Invalid access token', true);
    return { kind: 'bearer', client: clientOfSession(deps.store, session), jwt: undefined, session };
  }
  throw unauthorized('Unsupported authorization scheme');
}
