import { generateKeyPairSync, type KeyObject } from 'node:crypto';

/** Test key pairs, generated in the test run (no key material is committed). */
export interface TestKeyPair {
  privateKey: KeyObject;
  /** The public JWK as Node exports it (kty, n, e or kty, crv, x, y). */
  publicJwk: Record<string, unknown>;
  /** The full private JWK, for "published the private key by mistake" vectors. */
  privateJwk: Record<string, unknown>;
}

function pair(keys: { privateKey: KeyObject; publicKey: KeyObject }): TestKeyPair {
  return {
    privateKey: keys.privateKey,
    publicJwk: keys.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
    privateJwk: keys.privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
}

export function rsaKeyPair(modulusLength: number): TestKeyPair {
  return pair(generateKeyPairSync('rsa', { modulusLength }));
}

export function ecKeyPair(namedCurve: 'P-256' | 'P-384' | 'P-521'): TestKeyPair {
  return pair(generateKeyPairSync('ec', { namedCurve }));
}

export function ed25519KeyPair(): TestKeyPair {
  return pair(generateKeyPairSync('ed25519'));
}
