import { X509Certificate } from 'node:crypto';
import type { KeyChecks, KeyFacts } from './jwks-key-checks.js';

/** D9: alg, use and key_ops agree with the key and with signing (RFC 7517 §4.2–4.4). */
export function checkIntendedUse(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
  if (!c.enabled('D9')) return;
  let ok = true;
  if (facts.alg !== null && facts.algorithms.length > 0 && !facts.algorithms.includes(facts.alg)) {
    ok = false;
    c.fail(
      'D9',
      `${c.label} declares alg '${facts.alg}', which does not fit a ${facts.kty}${facts.curve ? ` ${facts.curve}` : ''} key (it would verify ${facts.algorithms.join(', ')})`,
    );
  }
  if (facts.use !== null && facts.use !== 'sig') {
    ok = false;
    c.fail(
      'D9',
      `${c.label} has use '${facts.use}'; a key that verifies client assertions must have use 'sig' or no use at all`,
    );
  }
  const keyOps = jwk.key_ops;
  if (keyOps !== undefined) {
    if (!Array.isArray(keyOps) || !keyOps.every((op) => typeof op === 'string')) {
      ok = false;
      c.fail('D9', `${c.label} has a key_ops that is not an array of strings (RFC 7517 §4.3)`);
    } else if (!keyOps.includes('verify')) {
      facts.ignoredBecause = `its key_ops [${keyOps.join(', ')}] do not include 'verify'`;
      // A warning, but still a D9 finding: the key must not also show "D9 passed".
      ok = false;
      c.fail(
        'D9',
        `${c.label} is ignored: its key_ops do not include 'verify', so no token endpoint will use it to check a signature`,
        'warning',
      );
    } else if (facts.use === 'sig' && keyOps.some((op) => !['verify', 'sign'].includes(op))) {
      ok = false;
      c.fail(
        'D9',
        `${c.label} has use 'sig' but key_ops [${keyOps.join(', ')}]; use and key_ops must agree (RFC 7517 §4.3)`,
      );
    }
  }
  if (ok) c.pass('D9', `${c.label}: alg, use and key_ops are consistent with signing`);
}

/** D10: an x5c leaf must carry the same public key (RFC 7517 §4.7); x5u is indirection nobody should follow. */
export function checkCertificates(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
  if (!c.enabled('D10')) return;
  if (jwk.x5u !== undefined) {
    c.fail(
      'D10',
      `${c.label} has x5u: neither this registry nor the token endpoint fetches certificates from a URL; remove it and publish the key itself`,
    );
  }
  if (jwk.x5c === undefined) return;
  const chain = jwk.x5c;
  if (!Array.isArray(chain) || chain.length === 0 || typeof chain[0] !== 'string') {
    c.fail(
      'D10',
      `${c.label} has an x5c that is not a non-empty array of base64 certificates (RFC 7517 §4.7)`,
    );
    return;
  }
  if (!facts.publicJwk) return; // the key itself is already reported as malformed
  try {
    const leaf = new X509Certificate(Buffer.from(chain[0], 'base64'));
    const certKey = leaf.publicKey.export({ format: 'jwk' });
    const mine = facts.publicJwk as Record<string, unknown>;
    const same =
      facts.kty === 'RSA'
        ? certKey.n === mine.n && certKey.e === mine.e
        : certKey.crv === mine.crv && certKey.x === mine.x && certKey.y === mine.y;
    if (same) c.pass('D10', `${c.label}: the x5c certificate carries the same public key`);
    else
      c.fail(
        'D10',
        `${c.label}: the first x5c certificate carries a different public key than the JWK itself (RFC 7517 §4.7)`,
      );
  } catch {
    c.fail(
      'D10',
      `${c.label} has an x5c whose first entry is not a DER certificate in standard base64 (RFC 7517 §4.7)`,
    );
  }
}
