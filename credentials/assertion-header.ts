import type { ProtectedHeaderParameters } from 'jose';
import { failed, passed, show, type AddCheck } from './assertion-checks.js';

/** The key type an algorithm needs (A8 resolves the key by kid and this kty), or null for none/HMAC/unknown. */
export function keyFamily(alg: string): 'RSA' | 'EC' | null {
  if (/^(RS|PS)\d{3}$/.test(alg)) return 'RSA';
  if (/^ES\d{3}$/.test(alg)) return 'EC';
  return null;
}

export interface HeaderVerdict {
  /** The header's alg when it is a string, acceptable or not. */
  alg: string | null;
  algOk: boolean;
  kid: string | null;
  jkuOk: boolean;
}

/** A3: the protected header's alg, kid, typ and jku (SP1 req 321, 322, 325, 338). */
export function checkHeader(
  header: ProtectedHeaderParameters,
  jwksUri: string | null,
  allowedAlgorithms: readonly string[],
  add: AddCheck,
): HeaderVerdict {
  const allowed = allowedAlgorithms.join(' or ');

  // A3 (SP1 req 321): alg from the allow-list.
  const alg = typeof header.alg === 'string' ? header.alg : null;
  const algOk = alg !== null && allowedAlgorithms.includes(alg) && keyFamily(alg) !== null;
  if (algOk && alg === 'ES384') {
    add(
      'alg',
      'A3',
      passed(
        allowed,
        show(alg),
        'ES384 is allowed by SMART. Note: the Aidbox documentation lists only RS384 for client assertions; Payerbox lists RS384 and ES384, so RS384 is the safest choice.',
      ),
    );
  } else if (algOk) {
    add('alg', 'A3', passed(allowed, show(alg), `${alg} is an algorithm the token endpoint accepts.`));
  } else {
    add(
      'alg',
      'A3',
      failed(
        allowed,
        show(header.alg),
        `The header alg must be ${allowed} (SMART requires servers to support at least one of RS384/ES384); ${alg === 'none' || /^HS/.test(alg ?? '') ? 'none and HMAC algorithms are never accepted for client assertions' : 'sign with RS384 or ES384'}.`,
      ),
    );
  }

  // A3 (SP1 req 322): kid required.
  const kid = typeof header.kid === 'string' && header.kid !== '' ? header.kid : null;
  if (kid)
    add(
      'kid',
      'A3',
      passed(
        'a non-empty kid naming a key in the registered JWKS',
        show(kid),
        'The header names the signing key.',
      ),
    );
  else
    add(
      'kid',
      'A3',
      failed(
        'a non-empty kid naming a key in the registered JWKS',
        show(header.kid),
        'The header must carry kid, the key ID of the signing key as published in the JWKS.',
      ),
    );

  // A3: typ fixed "JWT" (SP1 header table).
  if (header.typ === 'JWT') add('typ', 'A3', passed("'JWT'", show(header.typ), 'typ is JWT.'));
  else add('typ', 'A3', failed("'JWT'", show(header.typ), "SMART fixes the header typ to 'JWT'."));

  // A3 (SP1 req 325, 338): jku, when present, must equal the registered URL; it is never dereferenced.
  let jkuOk = true;
  if (header.jku === undefined) {
    add(
      'jku',
      'A3',
      passed(
        'absent, or equal to the registered JWKS URL',
        '(absent)',
        'No jku: the registered JWKS is used.',
      ),
    );
  } else if (jwksUri !== null && header.jku === jwksUri) {
    add('jku', 'A3', passed(show(jwksUri), show(header.jku), 'jku equals the registered JWKS URL.'));
  } else {
    jkuOk = false;
    add(
      'jku',
      'A3',
      failed(
        jwksUri === null
          ? 'absent (this service registered its keys inline)'
          : `absent, or exactly ${show(jwksUri)}`,
        show(header.jku),
        jwksUri === null
          ? 'This service registered its keys inline, so there is no URL a jku could match: remove jku from the header.'
          : 'A jku that differs from the registered JWKS URL is refused (string comparison, no normalisation); the endpoint never fetches keys from an unregistered URL. Remove jku or make it identical.',
      ),
    );
  }
  return { alg, algOk, kid, jkuOk };
}
