import type { ApiConfig } from '../../platform/config.js';
import { devIssuerEnabled } from '../../platform/config.js';
import { loadOrCreateDevelopmentIssuer, type LocalIssuer } from './local-issuer.js';
import { createTokenVerifier, localKeys, remoteKeys, type TrustedIssuer } from './verifier.js';

/** The issuers `npm start` and production trust: AUTH_ISSUER, plus the development issuer when it is on. */
export async function identityFromConfig(
  config: ApiConfig,
): Promise<{ verifier: ReturnType<typeof createTokenVerifier>; developmentIssuer: LocalIssuer | null }> {
  const trusted: TrustedIssuer[] = [];
  if (config.AUTH_ISSUER) {
    const jwksUrl = config.AUTH_JWKS_URL ?? `${config.AUTH_ISSUER.replace(/\/$/, '')}/.well-known/jwks.json`;
    trusted.push({
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      keys: remoteKeys(jwksUrl),
      rolesClaim: config.AUTH_ROLES_CLAIM,
    });
  }
  let developmentIssuer: LocalIssuer | null = null;
  if (devIssuerEnabled(config)) {
    developmentIssuer = await loadOrCreateDevelopmentIssuer(config.DATA_DIR, {
      audience: config.AUTH_AUDIENCE,
      rolesClaim: config.AUTH_ROLES_CLAIM,
    });
    trusted.push({
      issuer: developmentIssuer.issuer,
      audience: developmentIssuer.audience,
      keys: localKeys(developmentIssuer.jwks),
      rolesClaim: config.AUTH_ROLES_CLAIM,
    });
  }
  return { verifier: createTokenVerifier(trusted), developmentIssuer };
}
