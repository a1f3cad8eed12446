import { createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import type { KeyChecks, KeyFacts } from './jwks-key-checks.js';

/**
 * D7 and D8 of docs/smart-rules.md §3.2: the key material itself. An RSA key of 2048 bits or more, an
 * EC point on a named curve, each member well-formed base64url (RFC 7518 §6).
 */

/** RFC 7518 §3.4: the curve each ECDSA algorithm uses, and the coordinate length of each curve (§6.2.1.2). */
export const CURVE_ALGORITHM: Record<string, string> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
};
const CURVE_COORDINATE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
export const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

const BASE64URL = /^[A-Za-z0-9_-]+$/;

interface Base64urlMember {
  bytes: Buffer | null;
  problem: string | null;
}

/** RFC 7518 §6.2.1/§6.3.1: Base64urlUInt, base64url without padding. */
function readBase64url(jwk: Record<string, unknown>, member: string): Base64urlMember {
  const value = jwk[member];
  if (value === undefined) return { bytes: null, problem: `has no '${member}'` };
  if (typeof value !== 'string' || value === '')
    return { bytes: null, problem: `has a '${member}' that is not a string` };
  if (value.endsWith('='))
    return { bytes: null, problem: `pads '${member}' with '=': base64url in a JWK has no padding` };
  if (!BASE64URL.test(value)) {
    return {
      bytes: null,
      problem: `has a '${member}' that is not base64url (only A–Z a–z 0–9 - _ are allowed; '+' and '/' are plain base64)`,
    };
  }
  if (value.length % 4 === 1)
    return { bytes: null, problem: `has a '${member}' whose length is impossible for base64url` };
  return { bytes: Buffer.from(value, 'base64url'), problem: null };
}

function bitLength(bytes: Buffer): number {
  const first = bytes[0] ?? 0;
  return bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(first));
}

function importPublicKey(jwk: NodeJsonWebKey): string | null {
  try {
    createPublicKey({ key: jwk, format: 'jwk' });
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function checkRsa(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
  if (!c.enabled('D7')) {
    if (typeof jwk.n === 'string' && typeof jwk.e === 'string')
      facts.publicJwk = { kty: 'RSA', n: jwk.n, e: jwk.e };
    return;
  }
  const n = readBase64url(jwk, 'n');
  const e = readBase64url(jwk, 'e');
  let ok = true;
  for (const [member, read] of [
    ['n', n],
    ['e', e],
  ] as const) {
    if (read.problem) {
      ok = false;
      c.fail(
        'D7',
        `${c.label} ${read.problem}; an RSA public key needs the modulus n and exponent e (RFC 7518 §6.3.1)`,
      );
    } else if (read.bytes && read.bytes[0] === 0) {
      ok = false;
      c.fail(
        'D7',
        `${c.label} has a leading zero byte in '${member}': Base64urlUInt values use the minimal number of octets (RFC 7518 §6.3.1)`,
      );
    }
  }
  if (n.bytes && !n.problem) {
    facts.size = bitLength(n.bytes);
    if (facts.size < 2048) {
      ok = false;
      c.fail(
        'D7',
        `${c.label} is an RSA key of ${facts.size} bits; RSA keys must be at least 2048 bits (RFC 7518 §3.3): generate a new 2048-bit or larger pair`,
      );
    }
  }
  if (e.bytes && !e.problem) {
    const last = e.bytes[e.bytes.length - 1] ?? 0;
    const isOne = e.bytes.length === 1 && last === 1;
    if ((last & 1) === 0 || isOne || e.bytes.every((b) => b === 0)) {
      ok = false;
      c.fail(
        'D7',
        `${c.label} has an RSA exponent e that is not an odd number greater than 1 (normally 'AQAB', 65537)`,
      );
    }
  }
  if (!ok) return;
  const publicJwk = { kty: 'RSA', n: jwk.n as string, e: jwk.e as string };
  const importError = importPublicKey(publicJwk);
  if (importError) {
    c.fail('D7', `${c.label} is not a usable RSA public key (${importError})`);
    return;
  }
  facts.publicJwk = publicJwk;
  c.pass('D7', `${c.label} is a well-formed RSA public key of ${facts.size} bits`);
}

export function checkEc(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
  const crv = typeof jwk.crv === 'string' ? jwk.crv : null;
  facts.curve = crv;
  if (!c.enabled('D8')) {
    if (crv && typeof jwk.x === 'string' && typeof jwk.y === 'string')
      facts.publicJwk = { kty: 'EC', crv, x: jwk.x, y: jwk.y };
    return;
  }
  const length = crv ? CURVE_COORDINATE_BYTES[crv] : undefined;
  if (!crv || length === undefined) {
    c.fail(
      'D8',
      `${c.label} uses the curve ${crv ? `'${crv}'` : '(none given)'}; EC keys must use P-256, P-384 or P-521, and ES384 needs P-384 (RFC 7518 §6.2.1.1)`,
    );
    return;
  }
  let ok = true;
  for (const member of ['x', 'y'] as const) {
    const read = readBase64url(jwk, member);
    if (read.problem) {
      ok = false;
      c.fail(
        'D8',
        `${c.label} ${read.problem}; an EC public key needs the coordinates x and y (RFC 7518 §6.2.1)`,
      );
    } else if (read.bytes && read.bytes.length !== length) {
      ok = false;
      c.fail(
        'D8',
        `${c.label} has a '${member}' of ${read.bytes.length} bytes; on ${crv} each coordinate is exactly ${length} bytes, leading zeros included (RFC 7518 §6.2.1.2)`,
      );
    }
  }
  if (!ok) return;
  const publicJwk = { kty: 'EC', crv, x: jwk.x as string, y: jwk.y as string };
  if (importPublicKey(publicJwk)) {
    c.fail(
      'D8',
      `${c.label}: the point (x, y) is not on the curve ${crv}; this is not a valid public key (RFC 7518 §6.2.1)`,
    );
    return;
  }
  facts.publicJwk = publicJwk;
  c.pass('D8', `${c.label} is a valid ${crv} public key (the point is on the curve)`);
}
