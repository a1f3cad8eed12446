import { X509Certificate } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { findForbiddenCharacter } from '../platform/text-rules.js';
import { checkInlineJwks } from './check-jwks.js';
import type { JwksRuleId } from './jwks-key-checks.js';
import type { KeyReport } from './jwks-report.js';
import { validateJwks } from './jwks-validate.js';
import { ecKeyPair, ed25519KeyPair, rsaKeyPair, type TestKeyPair } from '../test-support/key-pairs.js';
import { createTestCa } from '../test-support/test-ca.js';

/** docs/smart-rules.md §3.2, rule by rule, on key sets generated here. */

let rsa2048: TestKeyPair;
let rsa2048b: TestKeyPair;
let rsa1024: TestKeyPair;
let p384: TestKeyPair;
let p256: TestKeyPair;
let ed25519: TestKeyPair;
let certificate: { x5c: string; jwk: Record<string, unknown> };

beforeAll(() => {
  rsa2048 = rsaKeyPair(2048);
  rsa2048b = rsaKeyPair(2048);
  rsa1024 = rsaKeyPair(1024);
  p384 = ecKeyPair('P-384');
  p256 = ecKeyPair('P-256');
  ed25519 = ed25519KeyPair();
  const ca = createTestCa(['jwks.example.test']);
  const der = ca.serverCertPem.replace(/-----[^-]+-----|\s/g, '');
  // The server certificate's own (P-256) public key.
  certificate = {
    x5c: der,
    jwk: new X509Certificate(ca.serverCertPem).publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
});

const pub = (pair: TestKeyPair, extra: Record<string, unknown> = {}) => ({ ...pair.publicJwk, ...extra });

/** Every string (and object key) at any depth that still holds a refused character. */
function rawText(value: unknown): string[] {
  if (typeof value === 'string') return findForbiddenCharacter(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(rawText);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [...rawText(k), ...rawText(v)]);
  return [];
}

function failed(key: KeyReport | undefined, rule: JwksRuleId | string) {
  return key?.checks.filter((c) => c.rule === rule && !c.passed) ?? [];
}

interface Vector {
  name: string;
  keys: () => unknown[];
  valid: boolean;
  /** [key index, rule, severity, text the message contains] */
  expectFailure?: [number, string, 'error' | 'warning', string];
  status?: KeyReport['status'][];
  documentRule?: string;
}

const vectors: Vector[] = [
  { name: 'RSA 2048 public key', keys: () => [pub(rsa2048, { kid: 'k1' })], valid: true, status: ['usable'] },
  {
    name: 'EC P-384 public key',
    keys: () => [pub(p384, { kid: 'e1', alg: 'ES384', use: 'sig' })],
    valid: true,
    status: ['usable'],
  },
  {
    name: 'RSA 1024 is too short (D7)',
    keys: () => [pub(rsa1024, { kid: 'k1' })],
    valid: false,
    expectFailure: [0, 'D7', 'error', 'is an RSA key of 1024 bits; RSA keys must be at least 2048 bits'],
    status: ['rejected'],
  },
  {
    name: 'P-256 alone cannot sign ES384 (D2)',
    keys: () => [pub(p256, { kid: 'e1' })],
    valid: false,
    expectFailure: [0, 'D2', 'warning', 'verifies only ES256'],
    status: ['ignored'],
    documentRule: 'D2',
  },
  {
    name: 'P-256 next to a usable RSA key',
    keys: () => [pub(p256, { kid: 'e1' }), pub(rsa2048, { kid: 'k1' })],
    valid: true,
    status: ['ignored', 'usable'],
  },
  {
    name: 'published RSA private key (D5)',
    keys: () => [{ ...rsa2048.privateJwk, kid: 'k1' }],
    valid: false,
    expectFailure: [0, 'D5', 'error', "key 'k1' contains the private exponent d, the first prime factor p"],
    status: ['rejected'],
  },
  {
    name: 'published EC private key (D5)',
    keys: () => [{ ...p384.privateJwk, kid: 'e1' }],
    valid: false,
    expectFailure: [
      0,
      'D5',
      'error',
      'this key is compromised; generate a new pair and publish only the public half',
    ],
  },
  {
    name: 'HS256 oct key (D5 k, D6 symmetric)',
    keys: () => [
      pub(rsa2048, { kid: 'k1' }),
      { kty: 'oct', kid: 's1', alg: 'HS256', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' },
    ],
    valid: false,
    expectFailure: [1, 'D6', 'error', 'is a symmetric (oct) key'],
    status: ['usable', 'rejected'],
  },
  {
    name: 'alg none on an RSA key (D6)',
    keys: () => [pub(rsa2048, { kid: 'k1', alg: 'none' })],
    valid: false,
    expectFailure: [0, 'D6', 'error', "declares alg 'none'"],
  },
  {
    name: 'duplicate kid with the same kty (D4)',
    keys: () => [pub(rsa2048, { kid: 'dup' }), pub(rsa2048b, { kid: 'dup' })],
    valid: false,
    expectFailure: [1, 'D4', 'error', "key 'dup' appears 2 times with kty 'RSA'"],
    status: ['rejected', 'rejected'],
  },
  {
    name: 'duplicate kid across kty is a warning (D4)',
    keys: () => [pub(rsa2048, { kid: 'same' }), pub(p384, { kid: 'same' })],
    valid: true,
    expectFailure: [0, 'D4', 'warning', 'also used by a key of another type (EC)'],
  },
  {
    name: 'missing kid (D3)',
    keys: () => [pub(rsa2048)],
    valid: false,
    expectFailure: [0, 'D3', 'error', 'has no kid'],
  },
  {
    name: 'missing kty (D3)',
    keys: () => [{ kid: 'x', n: rsa2048.publicJwk.n, e: 'AQAB' }],
    valid: false,
    expectFailure: [0, 'D3', 'error', 'has no kty'],
  },
  {
    name: 'a key that is not an object (D3)',
    keys: () => ['nope'],
    valid: false,
    expectFailure: [0, 'D3', 'error', 'is not a JSON object'],
  },
  {
    name: 'malformed base64url: plain base64 characters in n (D7)',
    keys: () => [
      pub(rsa2048, {
        kid: 'k1',
        n: (rsa2048.publicJwk.n as string).replace(/-/g, '+').replace(/_/g, '/') + '+/',
      }),
    ],
    valid: false,
    expectFailure: [0, 'D7', 'error', "has a 'n' that is not base64url"],
  },
  {
    name: 'malformed base64url: padding (D7)',
    keys: () => [pub(rsa2048, { kid: 'k1', e: 'AQAB=' })],
    valid: false,
    expectFailure: [0, 'D7', 'error', "pads 'e' with '='"],
  },
  {
    name: 'leading zero octet in n (D7)',
    keys: () => [
      pub(rsa2048, {
        kid: 'k1',
        n: Buffer.concat([
          Buffer.from([0]),
          Buffer.from(rsa2048.publicJwk.n as string, 'base64url'),
        ]).toString('base64url'),
      }),
    ],
    valid: false,
    expectFailure: [0, 'D7', 'error', "leading zero byte in 'n'"],
  },
  {
    name: 'even exponent (D7)',
    keys: () => [pub(rsa2048, { kid: 'k1', e: 'Ag' })],
    valid: false,
    expectFailure: [0, 'D7', 'error', 'not an odd number greater than 1'],
  },
  {
    name: 'EC coordinate too short (D8)',
    keys: () => [
      pub(p384, {
        kid: 'e1',
        x: Buffer.from(p384.publicJwk.x as string, 'base64url')
          .subarray(1)
          .toString('base64url'),
      }),
    ],
    valid: false,
    expectFailure: [0, 'D8', 'error', "has a 'x' of 47 bytes; on P-384 each coordinate is exactly 48 bytes"],
  },
  {
    name: 'EC point not on the curve (D8)',
    keys: () => {
      const y = Buffer.from(p384.publicJwk.y as string, 'base64url');
      y[47] = y[47]! ^ 1;
      return [pub(p384, { kid: 'e1', y: y.toString('base64url') })];
    },
    valid: false,
    expectFailure: [0, 'D8', 'error', 'is not on the curve P-384'],
  },
  {
    name: 'unsupported curve (D8)',
    keys: () => [pub(p384, { kid: 'e1', crv: 'secp256k1' })],
    valid: false,
    expectFailure: [0, 'D8', 'error', "uses the curve 'secp256k1'"],
  },
  {
    name: 'alg that does not fit the key (D9)',
    keys: () => [pub(rsa2048, { kid: 'k1', alg: 'ES384' })],
    valid: false,
    expectFailure: [0, 'D9', 'error', "declares alg 'ES384', which does not fit a RSA key"],
  },
  {
    name: 'ES256 declared on a P-384 key (D9)',
    keys: () => [pub(p384, { kid: 'e1', alg: 'ES256' })],
    valid: false,
    expectFailure: [0, 'D9', 'error', 'does not fit a EC P-384 key'],
  },
  {
    name: "use 'enc' (D9)",
    keys: () => [pub(rsa2048, { kid: 'k1', use: 'enc' })],
    valid: false,
    expectFailure: [0, 'D9', 'error', "has use 'enc'"],
  },
  {
    name: 'key_ops without verify: ignored (D9)',
    keys: () => [
      pub(rsa2048, { kid: 'k1', key_ops: ['encrypt'] }),
      pub(p384, { kid: 'e1', key_ops: ['verify'] }),
    ],
    valid: true,
    expectFailure: [0, 'D9', 'warning', "is ignored: its key_ops do not include 'verify'"],
    status: ['ignored', 'usable'],
  },
  {
    name: 'use and key_ops disagree (D9)',
    keys: () => [pub(rsa2048, { kid: 'k1', use: 'sig', key_ops: ['verify', 'encrypt'] })],
    valid: false,
    expectFailure: [0, 'D9', 'error', 'use and key_ops must agree'],
  },
  {
    name: 'x5c leaf with another public key (D10)',
    keys: () => [pub(p384, { kid: 'e1', x5c: [certificate.x5c] })],
    valid: false,
    expectFailure: [0, 'D10', 'error', 'carries a different public key'],
  },
  {
    name: 'x5u indirection (D10)',
    keys: () => [pub(rsa2048, { kid: 'k1', x5u: 'https://example.test/cert.pem' })],
    valid: false,
    expectFailure: [0, 'D10', 'error', 'has x5u'],
  },
  {
    name: 'OKP key is not used, next to a usable key (D6 warning)',
    keys: () => [pub(ed25519, { kid: 'ed' }), pub(rsa2048, { kid: 'k1' })],
    valid: true,
    expectFailure: [0, 'D6', 'warning', "has kty 'OKP'"],
    status: ['ignored', 'usable'],
  },
  {
    name: 'more than 20 keys (D11)',
    keys: () => Array.from({ length: 21 }, (_, i) => pub(rsa2048, { kid: `k${i}` })),
    valid: false,
    documentRule: 'D11',
  },
];

describe('validateJwks: docs/smart-rules.md D-rule vectors', () => {
  it.each(vectors)('$name', async (vector) => {
    const result = await validateJwks({
      keys: vector.keys(),
      extra: 'unknown top-level members are ignored (D1)',
    });
    expect(result.valid).toBe(vector.valid);
    if (vector.expectFailure) {
      const [index, rule, severity, text] = vector.expectFailure;
      const failures = failed(result.keys[index], rule);
      expect(failures.map((f) => f.message).join('\n')).toContain(text);
      expect(failures.some((f) => f.severity === severity)).toBe(true);
    }
    if (vector.status) expect(result.keys.map((k) => k.status)).toEqual(vector.status);
    if (vector.documentRule) expect(result.findings.map((f) => f.rule)).toContain(vector.documentRule);
    // The report is plain JSON: it survives a round trip unchanged (Temporal history, jsonb).
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('reports kid, kty, size or curve, usable algorithms and the RFC 7638 thumbprint per key', async () => {
    const result = await validateJwks({ keys: [pub(rsa2048, { kid: 'k1' }), pub(p384, { kid: 'e1' })] });
    const [rsa, ec] = result.keys;
    expect(rsa).toMatchObject({
      kid: 'k1',
      kty: 'RSA',
      size: 2048,
      curve: null,
      usableAlgorithms: ['RS384'],
      status: 'usable',
    });
    expect(ec).toMatchObject({
      kid: 'e1',
      kty: 'EC',
      size: null,
      curve: 'P-384',
      usableAlgorithms: ['ES384'],
      status: 'usable',
    });
    expect(rsa?.thumbprint).toBe(await calculateJwkThumbprint(rsa2048.publicJwk as JWK));
    expect(result.thumbprints).toEqual({ k1: rsa?.thumbprint, e1: ec?.thumbprint });
    // Every rule that applies says so when it passes, too.
    expect(rsa?.checks.filter((c) => c.passed).map((c) => c.rule)).toEqual([
      'D3',
      'D5',
      'D6',
      'D7',
      'D9',
      'D4',
    ]);
  });

  it('an x5c leaf with the same public key passes D10', async () => {
    const result = await validateJwks({ keys: [{ ...certificate.jwk, kid: 'c1', x5c: [certificate.x5c] }] });
    expect(result.keys[0]?.checks.find((c) => c.rule === 'D10')).toMatchObject({ passed: true });
  });

  it.each([
    ['a string', 'not json object'],
    ['an object without keys', { foo: 1 }],
    ['keys that is not an array', { keys: {} }],
    ['an empty keys array', { keys: [] }],
  ])('D1: %s is refused at document level', async (_name, document) => {
    const result = await validateJwks(document);
    expect(result.valid).toBe(false);
    expect(result.findings[0]).toMatchObject({ rule: 'D1', severity: 'error' });
  });

  it('D12: a kid whose key material changed since the last accepted check is rejected', async () => {
    const first = await validateJwks({ keys: [pub(rsa2048, { kid: 'k1' })] });
    const same = await validateJwks(
      { keys: [pub(rsa2048, { kid: 'k1' })] },
      { previousThumbprints: first.thumbprints },
    );
    expect(same.valid).toBe(true);
    expect(same.keys[0]?.checks.find((c) => c.rule === 'D12')).toMatchObject({ passed: true });

    const changed = await validateJwks(
      { keys: [pub(rsa2048b, { kid: 'k1' })] },
      { previousThumbprints: first.thumbprints },
    );
    expect(changed.valid).toBe(false);
    expect(failed(changed.keys[0], 'D12')[0]?.message).toContain('publish the new key under a new kid');

    const rotated = await validateJwks(
      { keys: [pub(rsa2048, { kid: 'k1' }), pub(rsa2048b, { kid: 'k2' })] },
      { previousThumbprints: first.thumbprints },
    );
    expect(rotated.valid).toBe(true);
  });

  it('D14: an inline JWKS gets the same judgement and a report without fetch findings', async () => {
    const report = await checkInlineJwks(
      { keys: [{ ...rsa2048.privateJwk, kid: 'k1' }] },
      { now: new Date('2026-12-01T00:00:00Z') },
    );
    expect(report).toMatchObject({
      valid: false,
      jwksUri: null,
      fetch: null,
      checkedAt: '2026-12-01T00:00:00.000Z',
    });
    expect(report.summary).toContain("key 'k1' contains the private exponent d");
  });

  it('quotes at most 64 characters of a hostile kid', async () => {
    const result = await validateJwks({ keys: [pub(rsa2048, { kid: 'x'.repeat(5000) })] });
    expect(result.valid).toBe(false);
    for (const check of result.keys[0]!.checks) expect(check.message.length).toBeLessThan(400);
  });

  it('D15: a kid (or any member) holding a control character, lone surrogate or bidi override refuses that key, shown escaped', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ kid: 'nul\u0000kid' }, 'U+0000', "'kid'"],
      [{ kid: 'k2', alg: 'RS384\u202e' }, 'U+202E', "'alg'"],
      [{ kid: 'k3', key_ops: ['verify', 'x\ud800'] }, 'U+D800', "'key_ops[1]'"],
    ];
    for (const [extra, codePoint, where] of cases) {
      const result = await validateJwks({ keys: [pub(rsa2048, { kid: 'good' }), pub(rsa2048b, extra)] });
      const key = result.keys[1]!;
      expect(key.status, JSON.stringify(extra)).toBe('rejected');
      const [check] = failed(key, 'D15');
      expect(check?.message).toContain(codePoint);
      expect(check?.message).toContain(where);
      // Nothing raw survives in what the report keeps: the kid and every message are escaped.
      expect(rawText(key)).toEqual([]);
      expect(Object.keys(result.thumbprints)).toEqual(['good']);
    }
    const nul = (await validateJwks({ keys: [pub(rsa2048, { kid: 'nul\u0000kid' })] })).keys[0]!;
    expect(nul.kid).toBe('nul\\u0000kid');
    // Negative control: the same key with a printable kid is usable.
    const clean = (await validateJwks({ keys: [pub(rsa2048, { kid: 'nul-kid' })] })).keys[0]!;
    expect(clean.status).toBe('usable');
    expect(failed(clean, 'D15')).toEqual([]);
  });
});
