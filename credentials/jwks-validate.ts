import { createPublicKey, X509Certificate, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import {
  describeForbidden,
  escapeForbiddenCharacters,
  findForbiddenCharacter,
  type ForbiddenCharacter,
} from '../platform/text-rules.js';
import type { DocumentFinding, KeyReport, KeyStatus, RuleCheck, Severity } from './jwks-report.js';

/**
 * Judges a JWKS document key by key against docs/smart-rules.md §3.2 (D1–D12, D14; D13's sandbox/production
 * clause does not apply to this product and "shared with another client" needs other clients' sets,
 * so it is left to the reviewer tooling). Pure apart from the thumbprint digest: no I/O.
 */

/** SMART requires servers to support at least one of RS384/ES384 (SP1 req 308/310); Aidbox verifies these two. */
export const DEFAULT_ALLOWED_ALGORITHMS = ['RS384', 'ES384'] as const;
/** docs/architecture.md, JWKS fetching: 20 keys at most (docs/smart-rules.md D11). */
export const DEFAULT_MAX_KEYS = 20;
const MAX_KID_LENGTH = 256;

export type JwksRuleId =
  'D1' | 'D2' | 'D3' | 'D4' | 'D5' | 'D6' | 'D7' | 'D8' | 'D9' | 'D10' | 'D11' | 'D12' | 'D15';

export interface JwksValidationOptions {
  allowedAlgorithms?: readonly string[];
  /** kid → RFC 7638 thumbprint from the last accepted check (D12). */
  previousThumbprints?: Readonly<Record<string, string>>;
  maxKeys?: number;
  /** Negative-control tests only: these rules are not evaluated. Production never passes it. */
  disabledRules?: readonly JwksRuleId[];
}

export interface JwksValidation {
  valid: boolean;
  findings: DocumentFinding[];
  keys: KeyReport[];
  thumbprints: Record<string, string>;
}

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

/** RFC 7518 §3.4: the curve each ECDSA algorithm uses, and the coordinate length of each curve (§6.2.1.2). */
const CURVE_ALGORITHM: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };
const CURVE_COORDINATE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function describeKey(index: number, kid: unknown): string {
  if (typeof kid !== 'string' || kid === '') return `key #${index + 1} (no kid)`;
  // A hostile document may carry a huge kid: messages quote at most 64 characters of it, escaped.
  const shown = escapeForbiddenCharacters(kid);
  return `key '${shown.length > 64 ? `${shown.slice(0, 61)}...` : shown}'`;
}

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class KeyChecks {
  readonly checks: RuleCheck[] = [];
  constructor(
    readonly label: string,
    private readonly disabled: ReadonlySet<string>,
  ) {}
  enabled(rule: JwksRuleId): boolean {
    return !this.disabled.has(rule);
  }
  pass(rule: JwksRuleId, message: string): void {
    this.checks.push({ rule, passed: true, severity: 'error', message });
  }
  fail(rule: JwksRuleId, message: string, severity: Severity = 'error'): void {
    this.checks.push({ rule, passed: false, severity, message });
  }
  failedErrors(): number {
    return this.checks.filter((c) => !c.passed && c.severity === 'error').length;
  }
}

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

interface KeyFacts {
  kid: string | null;
  kty: string | null;
  alg: string | null;
  use: string | null;
  size: number | null;
  curve: string | null;
  /** The public members, once they are well-formed (for the thumbprint and for importing). */
  publicJwk: JWK | null;
  /** Algorithms this key type could verify, before the allow-list. */
  algorithms: string[];
  ignoredBecause: string | null;
}

function checkRsa(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
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

function checkEc(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
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

/** D9: alg, use and key_ops agree with the key and with signing (RFC 7517 §4.2–4.4). */
function checkIntendedUse(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
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
function checkCertificates(jwk: Record<string, unknown>, c: KeyChecks, facts: KeyFacts): void {
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

async function checkKey(
  raw: unknown,
  index: number,
  options: Required<Omit<JwksValidationOptions, 'disabledRules'>> & { disabled: ReadonlySet<string> },
): Promise<KeyReport> {
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

/** D4 (SP1: kid "SHALL be unique within the client's JWK Set"; key resolution needs exactly one match). */
function checkUniqueKids(keys: KeyReport[], disabled: ReadonlySet<string>): void {
  if (disabled.has('D4')) return;
  for (const key of keys) {
    if (key.kid === null) continue;
    const others = keys.filter((k) => k !== key && k.kid === key.kid);
    const label = describeKey(key.index, key.kid);
    if (others.some((k) => k.kty === key.kty)) {
      key.checks.push({
        rule: 'D4',
        passed: false,
        severity: 'error',
        message: `${label} appears ${others.length + 1} times with kty '${key.kty}'; each kid must be unique in the set, or the token endpoint cannot tell which key signed`,
      });
      key.status = 'rejected';
      key.usableAlgorithms = [];
    } else if (others.length > 0) {
      key.checks.push({
        rule: 'D4',
        passed: false,
        severity: 'warning',
        message: `${label} is also used by a key of another type (${others.map((k) => k.kty).join(', ')}); SMART asks for kids unique within the set`,
      });
    } else {
      key.checks.push({ rule: 'D4', passed: true, severity: 'error', message: `${label} has a unique kid` });
    }
  }
}

export async function validateJwks(
  document: unknown,
  options: JwksValidationOptions = {},
): Promise<JwksValidation> {
  const disabled = new Set<string>(options.disabledRules ?? []);
  const resolved = {
    allowedAlgorithms: options.allowedAlgorithms ?? DEFAULT_ALLOWED_ALGORITHMS,
    previousThumbprints: options.previousThumbprints ?? {},
    maxKeys: options.maxKeys ?? DEFAULT_MAX_KEYS,
    disabled,
  };
  const findings: DocumentFinding[] = [];

  // D1 (RFC 7517 §5): an object with a non-empty keys array; unknown top-level members are ignored.
  if (!isRecord(document) || !Array.isArray(document.keys)) {
    findings.push({
      rule: 'D1',
      severity: 'error',
      message: 'the document is not a JWK Set: it must be a JSON object with a "keys" array (RFC 7517 §5)',
    });
    return { valid: false, findings, keys: [], thumbprints: {} };
  }
  const rawKeys: unknown[] = document.keys;
  if (rawKeys.length === 0) {
    findings.push({
      rule: 'D1',
      severity: 'error',
      message: 'the "keys" array is empty: publish at least one public key',
    });
    return { valid: false, findings, keys: [], thumbprints: {} };
  }

  // D11: cap the work and the attack surface; keys past the cap are not judged.
  let judged = rawKeys;
  if (!disabled.has('D11') && rawKeys.length > resolved.maxKeys) {
    findings.push({
      rule: 'D11',
      severity: 'error',
      message: `the set has ${rawKeys.length} keys; at most ${resolved.maxKeys} are accepted (publish only the keys in use)`,
    });
    judged = rawKeys.slice(0, resolved.maxKeys);
  }

  const keys = await Promise.all(judged.map((raw, index) => checkKey(raw, index, resolved)));
  checkUniqueKids(keys, disabled);

  // D2 (SP1 req 308/310; SP4): at least one key verifies RS384 or ES384.
  const usable = keys.filter((k) => k.status === 'usable');
  if (!disabled.has('D2') && usable.length === 0) {
    findings.push({
      rule: 'D2',
      severity: 'error',
      message: `no key in the set can verify an ${resolved.allowedAlgorithms.join(' or ')} client assertion: publish an RSA key of 2048 bits or more (RS384) or an EC P-384 key (ES384)`,
    });
  }

  const thumbprints: Record<string, string> = {};
  for (const key of keys) {
    if (key.status !== 'rejected' && key.kid !== null && key.thumbprint !== null)
      thumbprints[key.kid] = key.thumbprint;
  }
  const valid =
    !findings.some((f) => f.severity === 'error') &&
    keys.every((k) => k.status !== 'rejected') &&
    (usable.length > 0 || disabled.has('D2'));
  return { valid, findings, keys, thumbprints };
}
