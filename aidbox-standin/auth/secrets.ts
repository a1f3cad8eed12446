/**
 * Client secrets are stored hashed (docs/aidbox-contract.md §1.1: SHA-256 since Aidbox 2410): a GET
 * returns the hash, never the plaintext. Whatever arrives in `secret` on a write is hashed, as
 * Aidbox does, so a product that PUTs back a hash it read breaks the client, exactly the mistake
 * section 6 warns about ("Do not PUT a full Client without the secret").
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256$';

export function hashSecret(plaintext: string): string {
  return PREFIX + createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash (docs/smart-rules.md K-S1). */
export function verifySecret(presented: string, storedHash: unknown): boolean {
  if (typeof storedHash !== 'string' || !storedHash.startsWith(PREFIX)) return false;
  const expected = Buffer.from(storedHash);
  const actual = Buffer.from(hashSecret(presented));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
