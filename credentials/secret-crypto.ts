import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { SecretKeyring } from './keyring.js';

/**
 * Client secrets: generation, fingerprint, and AES-256-GCM encryption at rest
 * (docs/architecture.md, Secrets; docs/smart-rules.md K-S1).
 */

/** 256 random bits (RFC 6749 §10.10 asks for ≤ 2^-160 guessing odds), base64url: 43 characters. */
export const SECRET_BYTES = 32;

export function generateSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** First 8 hex characters of SHA-256 of the secret: identifies a version without revealing any of it. */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}

export interface EncryptedSecret {
  keyId: string;
  /** 96-bit random nonce (NIST SP 800-38D §8.2.2); the volume here is far below the 2^32 limit per key. */
  iv: Buffer;
  ciphertext: Buffer;
  authTag: Buffer;
}

/** What the ciphertext is bound to: a ciphertext copied onto another service's or version's row fails to decrypt. */
export interface SecretBinding {
  serviceId: string;
  secretVersion: number;
}

function additionalData({ serviceId, secretVersion }: SecretBinding): Buffer {
  return Buffer.from(JSON.stringify(['client-secret', serviceId, secretVersion]), 'utf8');
}

export class UnknownSecretKey extends Error {
  override name = 'UnknownSecretKey';
  constructor(readonly keyId: string) {
    super(
      `the secret was encrypted with key ID '${keyId}', which is not in the configured keyring (SECRET_KEYS)`,
    );
  }
}

export class SecretDecryptionFailed extends Error {
  override name = 'SecretDecryptionFailed';
  constructor(binding: SecretBinding) {
    // Says nothing about the bytes involved: the message may travel to logs and Temporal history.
    super(
      `secret version ${binding.secretVersion} of service '${binding.serviceId}' failed authentication ` +
        '(ciphertext altered, moved to another row, or a different key under the same key ID)',
    );
  }
}

export function encryptSecret(
  keyring: SecretKeyring,
  plaintext: string,
  binding: SecretBinding,
): EncryptedSecret {
  const key = keyring.keys.get(keyring.activeKeyId);
  if (!key) throw new UnknownSecretKey(keyring.activeKeyId);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(binding));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: keyring.activeKeyId, iv, ciphertext, authTag: cipher.getAuthTag() };
}

export function decryptSecret(
  keyring: SecretKeyring,
  encrypted: EncryptedSecret,
  binding: SecretBinding,
): string {
  const key = keyring.keys.get(encrypted.keyId);
  if (!key) throw new UnknownSecretKey(encrypted.keyId);
  try {
    // A fixed tag length: a truncated tag would otherwise be accepted with weaker authentication.
    const decipher = createDecipheriv('aes-256-gcm', key, encrypted.iv, { authTagLength: 16 });
    decipher.setAAD(additionalData(binding));
    decipher.setAuthTag(encrypted.authTag);
    return Buffer.concat([decipher.update(encrypted.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptionFailed(binding);
  }
}
