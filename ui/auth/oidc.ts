import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';

/**
 * The pages as an OpenID Connect client of AUTH_ISSUER: authorization code flow with PKCE (S256),
 * `state` against CSRF on the callback, `nonce` checked in the ID token. The access token it
 * obtains is what the pages send to the API, which verifies it like any other bearer token.
 */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

export interface OidcTokens {
  accessToken: string;
  idToken: string | null;
}

export class OidcError extends Error {
  override name = 'OidcError';
}

export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
export const randomValue = () => randomBytes(32).toString('base64url');

export interface OidcClient {
  authorizationUrl(params: {
    redirectUri: string;
    state: string;
    nonce: string;
    verifier: string;
  }): Promise<string>;
  exchange(params: {
    code: string;
    redirectUri: string;
    verifier: string;
    nonce: string;
  }): Promise<OidcTokens>;
  /**
   * Where to send the browser to end its session at the provider (OpenID Connect RP-Initiated
   * Logout 1.0, https://openid.net/specs/openid-connect-rpinitiated-1_0.html), or null when the
   * discovery document has no `end_session_endpoint`.
   */
  endSessionUrl(params: { postLogoutRedirectUri: string }): Promise<string | null>;
}

export function createOidcClient(settings: OidcSettings, fetchImpl: typeof fetch = fetch): OidcClient {
  let discovery: Promise<Discovery> | null = null;
  let keys: JWTVerifyGetKey | null = null;

  function discover(): Promise<Discovery> {
    discovery ??= (async () => {
      const url = `${settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok)
        throw new OidcError(`the identity provider's discovery document answered ${response.status}`);
      const document = (await response.json()) as Partial<Discovery>;
      if (document.issuer !== settings.issuer)
        throw new OidcError('the discovery document names another issuer than AUTH_ISSUER');
      if (!document.authorization_endpoint || !document.token_endpoint || !document.jwks_uri)
        throw new OidcError('the discovery document lacks an authorization, token or JWKS endpoint');
      return document as Discovery;
    })().catch((error: unknown) => {
      discovery = null; // try again on the next sign-in rather than caching a failure
      throw error instanceof OidcError ? error : new OidcError('the identity provider could not be reached');
    });
    return discovery;
  }

  return {
    async authorizationUrl({ redirectUri, state, nonce, verifier }) {
      const d = await discover();
      const url = new URL(d.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: settings.clientId,
        redirect_uri: redirectUri,
        scope: settings.scopes,
        state,
        nonce,
        code_challenge: pkceChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },

    async endSessionUrl({ postLogoutRedirectUri }) {
      const d = await discover();
      if (!d.end_session_endpoint) return null;
      const url = new URL(d.end_session_endpoint);
      // client_id instead of id_token_hint (section 2 allows either): the ID token is not kept.
      url.searchParams.set('client_id', settings.clientId);
      url.searchParams.set('post_logout_redirect_uri', postLogoutRedirectUri);
      return url.toString();
    },

    async exchange({ code, redirectUri, verifier, nonce }) {
      const d = await discover();
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      });
      const headers: Record<string, string> = {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
      };
      if (settings.clientSecret) {
        // client_secret_basic (RFC 6749 2.3.1: form-encode both parts first).
        const basic = `${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`;
        headers.Authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
      } else {
        body.set('client_id', settings.clientId);
      }
      let response: Response;
      try {
        response = await fetchImpl(d.token_endpoint, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(10_000),
        });
      } catch {
        throw new OidcError('the identity provider could not be reached');
      }
      // Never echo the provider's body: it may carry tokens or internals.
      if (!response.ok)
        throw new OidcError(`the identity provider refused the sign-in (HTTP ${response.status})`);
      const tokens = (await response.json()) as { access_token?: unknown; id_token?: unknown };
      if (typeof tokens.access_token !== 'string')
        throw new OidcError('the identity provider returned no access token');
      const idToken = typeof tokens.id_token === 'string' ? tokens.id_token : null;
      if (!idToken) throw new OidcError('the identity provider returned no ID token');
      keys ??= createRemoteJWKSet(new URL(d.jwks_uri), { timeoutDuration: 5_000 });
      try {
        const { payload } = await jwtVerify(idToken, keys, {
          issuer: settings.issuer,
          audience: settings.clientId,
        });
        if (payload.nonce !== nonce) throw new OidcError('the ID token does not answer this sign-in (nonce)');
      } catch (error) {
        throw error instanceof OidcError ? error : new OidcError('the ID token does not verify');
      }
      return { accessToken: tokens.access_token, idToken };
    },
  };
}

/** Who the token says the user is, for the page header only (the API verifies the token on every call). */
export function describeToken(
  token: string,
  rolesClaim: string,
): { sub: string; roles: string[]; exp: number } {
  const claims = decodeJwt(token);
  let value: unknown = claims;
  for (const segment of rolesClaim.split('.'))
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  const roles = Array.isArray(value) ? value.filter((r): r is string => typeof r === 'string') : [];
  return {
    sub: typeof claims.sub === 'string' ? claims.sub : 'unknown',
    roles,
    exp: typeof claims.exp === 'number' ? claims.exp : Math.floor(Date.now() / 1000) + 300,
  };
}
