import { createInMemoryIssuer } from '../../api/auth/local-issuer.js';
import { createTokenVerifier, localKeys } from '../../api/auth/verifier.js';

export const BENCH_ISSUER = 'https://bench.invalid';
export const BENCH_AUDIENCE = 'backend-services-api';

/** An in-memory issuer and the API's verifier trusting only it: the benches' callers sign in here. */
export async function benchIdentity() {
  const issuer = await createInMemoryIssuer({ issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE });
  const verifier = createTokenVerifier([
    { issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, keys: localKeys(issuer.jwks), rolesClaim: 'roles' },
  ]);
  return { issuer, verifier };
}
