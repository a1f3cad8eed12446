import { calculateJwkThumbprint } from 'jose';
import {
  describeForbidden,
  escapeForbiddenCharacters,
  findForbiddenCharacter,
  type ForbiddenCharacter,
} from '../platform/text-rules.js';
import { isRecord } from './json-object.js';
import { describeKey, KeyChecks, type KeyFacts } from './jwks-key-checks.js';
import { checkEc, checkRsa, CURVE_ALGORITHM, RSA_ALGORITHMS } from './jwks-key-material.js';
import { checkCertificates, checkIntendedUse } from './jwks-key-use.js';
import type { KeyReport, KeyStatus } from './jwks-report.js';

/**
 * One key of a JWKS against docs/smart-rules.md §3.2, in the order a developer should fix things:
 * what it is (D3, D15), whether it leaks (D5) or is symmetric (D6), its material (D7, D8), its
 * intended use (D9, D10), whether its kid changed material (D12), and whether the token endpoint
 * will use it at all (D2).
 */

const MAX_KID_LENGTH = 256;

/** RFC 7518 §6.2.2, §6.3.2, §6.4.1 (and RFC 8037 §2 for OKP `d`): members only a private or secret key has. */
const PRIVATE_MEMBERS: Record<string, string> = {
  d: 'the private exponent d',
  p: 'the first prime factor p',
  q: 'the second prime factor q',
  dp: 'the first factor CRT exponent dp',
  dq: 'the second factor CRT exponent dq',
  qi: 'the first CRT coefficient qi',
  oth: 'the other primes info oth',
  k: 'the symmetric key value k',
};

/**
 * D15 (a product rule, not SMART's): every text member of a key is printable text. A control
 * character, lone surrogate or bidirectional override in a kid (or any other member) is refused,
 * named by its JSON path and code point; the report shows the value escaped, never raw
 * (platform/text-rules.ts says why each is refused).
 */
function findUnprintableMember(
  value: unknown,
  path: string,
): { path: string; found: ForbiddenCharacter } | undefined {
  if (typeof value === 'string') {
    const found = findForbiddenCharacter(value);
    return found ? { path, found } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const inner = findUnprintableMember(item, `${path}[${index}]`);
      if (inner) return inner;
    }
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const member =
        path === '' ? escapeForbiddenCharacters(key) : `${path}.${escapeForbiddenCharacters(key)}`;
      const inKey = findForbiddenCharacter(key);
      if (inKey) return { path: member, found: inKey };
      const inner = findUnprintableMember(item, member);
      if (inner) return inner;
    }
  }
  return undefined;
}

export interface KeyCheckOptions {
  allowedAlgorithms: readonly string[];
  /** kid → RFC 7638 thumbprint from the last accepted check (D12). */
  previousThumbprints: Readonly<Record<string, string>>;
  disabled: ReadonlySet<string>;
}

export async function checkKey(raw: unknown, index: number, options: KeyCheckOptions): Promise<KeyReport> {
  const jwk = isRecord(raw) ? raw : {};
  const c = new KeyChecks(describeKey(index, jwk.kid), options.disabled);
  const facts: KeyFacts = {
    kid: typeof jwk.kid === 'string' && jwk.kid !== '' ? escapeForbiddenCharacters(jwk.kid) : null,
    kty: typeof jwk.kty === 'string' ? escapeForbiddenCharacters(jwk.kty) : null,
    alg: typeof jwk.alg === 'string' ? escapeForbiddenCharacters(jwk.alg) : null,
    use: typeof jwk.use === 'string' ? escapeForbiddenCharacters(jwk.use) : null,
    size: null,
    curve: null,
    publicJwk: null,
    algorithms: [],
    ignoredBecause: null,
  };

  // D3 (SP1 req 313): "each JWK SHALL represent an asymmetric key by including kty and kid".
  if (c.enabled('D3')) {
    if (!isRecord(raw)) c.fail('D3', `${c.label} is not a JSON object`);
    else if (facts.kty === null)
      c.fail('D3', `${c.label} has no kty; every key must say its type (RFC 7517 §4.1)`);
    else if (facts.kid === null)
      c.fail(
        'D3',
        `${c.label} has no kid; SMART requires a non-empty kid on every key so the assertion header can name it`,
      );
    else if (facts.kid.length > MAX_KID_LENGTH)
      c.fail('D3', `${c.label} has a kid longer than ${MAX_KID_LENGTH} characters`);
    else c.pass('D3', `${c.label} has kty '${facts.kty}' and a kid`);
  }

  if (c.enabled('D15') && isRecord(raw)) {
    const unprintable = findUnprintableMember(raw, '');
    if (unprintable) {
      c.fail(
        'D15',
        `${c.label} is refused: ${describeForbidden(`'${unprintable.path}'`, unprintable.found)} on the key server (key members must be printable text)`,
      );
    }
  }

  // D5 (RFC 7518 §6.2.2, §6.3.2, §6.4.1): private or secret material published means the key is compromised.
  if (c.enabled('D5')) {
    const leaked = Object.keys(PRIVATE_MEMBERS).filter((m) => jwk[m] !== undefined);
    if (leaked.length > 0) {
      // `d` is the private exponent only for RSA; for EC and OKP it is the private key itself
      // (RFC 7518 §6.2.2.1, RFC 8037 §2).
      const name = (m: string) =>
        m === 'd' && facts.kty !== 'RSA' ? 'the private key d' : PRIVATE_MEMBERS[m];
      const what = leaked.map(name).join(', ');
      c.fail(
        'D5',
        `${c.label} contains ${what}: this key is compromised; generate a new pair and publish only the public half`,
      );
    } else {
      c.pass('D5', `${c.label} contains no private key material`);
    }
  }

  // D6 (SP1 "each JWK SHALL represent an asymmetric key"; RFC 8725 §3.1–3.2): no symmetric keys, no none/HS*.
  if (c.enabled('D6')) {
    if (facts.kty === 'oct') {
      c.fail(
        'D6',
        `${c.label} is a symmetric (oct) key; SMART Backend Services needs an asymmetric key (RSA or EC), and a shared secret must never be published`,
      );
    } else if (facts.alg === 'none' || /^HS\d+$/.test(facts.alg ?? '')) {
      c.fail(
        'D6',
        `${c.label} declares alg '${facts.alg}', which is not an asymmetric signature; use RS384 or ES384`,
      );
    } else if (facts.kty !== null) {
      c.pass('D6', `${c.label} is not a symmetric key`);
    }
  }

  if (facts.kty === 'RSA') {
    facts.algorithms = RSA_ALGORITHMS;
    checkRsa(jwk, c, facts);
  } else if (facts.kty === 'EC') {
    checkEc(jwk, c, facts);
    const curveAlgorithm = facts.curve ? CURVE_ALGORITHM[facts.curve] : undefined;
    facts.algorithms = curveAlgorithm ? [curveAlgorithm] : [];
  } else if (facts.kty !== null && facts.kty !== 'oct') {
    facts.ignoredBecause = `kty '${facts.kty}' is not RSA or EC`;
    c.fail(
      'D6',
      `${c.label} has kty '${facts.kty}'; SMART client assertions are signed RS384 or ES384, so only RSA and EC keys are used`,
      'warning',
    );
  }

  checkIntendedUse(jwk, c, facts);
  checkCertificates(jwk, c, facts);

  const thumbprint = facts.publicJwk ? await calculateJwkThumbprint(facts.publicJwk, 'sha256') : null;

  // D12 (Keycloak #14263): caches keyed by kid keep the old key when the material changes under the same kid.
  if (c.enabled('D12') && facts.kid !== null && thumbprint !== null) {
    const previous = options.previousThumbprints[facts.kid];
    if (previous !== undefined && previous !== thumbprint) {
      c.fail(
        'D12',
        `${c.label} has new key material under a kid that was accepted before; token endpoints cache keys by kid (Aidbox for up to 5 minutes) and would keep using the old key: publish the new key under a new kid`,
      );
    } else if (previous !== undefined) {
      c.pass('D12', `${c.label} has the same key material as at the last accepted check`);
    }
  }

  const candidates = facts.alg !== null ? [facts.alg] : facts.algorithms;
  const allowedForKey = candidates.filter(
    (a) => facts.algorithms.includes(a) && options.allowedAlgorithms.includes(a),
  );
  let status: KeyStatus = 'usable';
  if (c.failedErrors() > 0) status = 'rejected';
  else if (facts.ignoredBecause !== null) status = 'ignored';
  else if (allowedForKey.length === 0) {
    status = 'ignored';
    c.fail(
      'D2',
      `${c.label} is valid but verifies only ${candidates.join(', ') || 'no algorithm'}; the token endpoint accepts ${options.allowedAlgorithms.join(' and ')}, so it will not be used`,
      'warning',
    );
  }

  return {
    index,
    kid: facts.kid,
    kty: facts.kty,
    alg: facts.alg,
    use: facts.use,
    size: facts.size,
    curve: facts.curve,
    usableAlgorithms: status === 'usable' ? allowedForKey : [],
    thumbprint,
    status,
    checks: c.checks,
  };
}
