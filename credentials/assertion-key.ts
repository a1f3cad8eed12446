import { isRecord } from './json-object.js';
import { failed, passed, show, skipped, type AddCheck } from './assertion-checks.js';

function registeredKeys(jwks: unknown): Record<string, unknown>[] {
  return isRecord(jwks) && Array.isArray(jwks.keys) ? jwks.keys.filter(isRecord) : [];
}

/** A key the endpoint may use to verify: jose and the SMART reference server skip use≠sig and key_ops without verify (D9). */
function verifies(key: Record<string, unknown>): boolean {
  if (key.use !== undefined && key.use !== 'sig') return false;
  if (Array.isArray(key.key_ops) && !key.key_ops.includes('verify')) return false;
  return true;
}

/**
 * A8 (SP1 req 338): key resolution: registered set → kid and kty fitting alg → exactly one key.
 * Returns the key the signature is checked with, or null.
 */
export function resolveKey(
  input: { jwks: unknown; kid: string | null; family: 'RSA' | 'EC' | null; jkuOk: boolean },
  add: AddCheck,
): Record<string, unknown> | null {
  const { kid, family, jkuOk } = input;
  let key: Record<string, unknown> | null = null;
  const expectedKey = `exactly one key in the registered JWKS with kid ${show(kid ?? undefined)} and kty ${family ?? '(per alg)'}`;
  if (!jkuOk || kid === null || family === null) {
    add(
      'key',
      'A8',
      skipped(
        expectedKey,
        'Key resolution needs a usable alg, a kid and an acceptable jku; see the failures above.',
      ),
    );
  } else {
    const keys = registeredKeys(input.jwks);
    const matches = keys.filter((k) => k.kid === kid && k.kty === family && verifies(k));
    const available = keys.map((k) => `${show(k.kid)}/${String(k.kty)}`).join(', ') || '(no keys)';
    if (matches.length === 1) {
      key = matches[0]!;
      add(
        'key',
        'A8',
        passed(
          expectedKey,
          `key ${show(kid)} (${family})`,
          "Exactly one registered key matches. Note: Aidbox caches a client's JWKS for up to 5 minutes, so a key published in the last few minutes may not be seen yet.",
        ),
      );
    } else if (matches.length === 0) {
      add(
        'key',
        'A8',
        failed(
          expectedKey,
          `registered keys (kid/kty): ${available}`,
          `No registered ${family} key has kid ${show(kid)}: publish the public key under that kid in the JWKS, or sign with a key that is published.`,
        ),
      );
    } else {
      add(
        'key',
        'A8',
        failed(
          expectedKey,
          `${matches.length} keys match`,
          `${matches.length} registered keys share kid ${show(kid)} and kty ${family}; SMART key resolution fails unless exactly one matches (kids must be unique).`,
        ),
      );
    }
  }
  return key;
}
