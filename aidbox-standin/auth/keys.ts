/**
 * The stand-in's own signing key: access tokens are RS256 JWTs verified against
 * `<base>/.well-known/jwks.json` (docs/aidbox-contract.md §4, "Aidbox-issued JWT"). A fresh key per
 * start, like an Aidbox without BOX_SECURITY_AUTH_KEYS_* configured.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}
