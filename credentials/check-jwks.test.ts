/**
 * The JWKS report's headline and order (issue 24): the worst finding first, published private key
 * material before anything else (docs/smart-rules.md D5 outranks D4), one verdict per rule and key,
 * and an EC `d` named for what it is.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkInlineJwks } from './check-jwks.js';

let rsaPrivate: JWK;
let rsaPublic: JWK;
let ecPrivate: JWK;

beforeAll(async () => {
  const rsa = await generateKeyPair('RS384', { extractable: true });
  const ec = await generateKeyPair('ES384', { extractable: true });
  rsaPrivate = { ...(await exportJWK(rsa.privateKey)), kid: 'k1', alg: 'RS384' };
  rsaPublic = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS384' };
  ecPrivate = { ...(await exportJWK(ec.privateKey)), kid: 'e1', alg: 'ES384' };
});

describe('JWKS report severity order', () => {
  it('a set with a published private key and a duplicate kid leads with the private key', async () => {
    const report = await checkInlineJwks({ keys: [rsaPrivate, rsaPublic] });
    expect(report.valid).toBe(false);
    expect(report.summary).toContain('private exponent d');
    expect(report.summary).not.toContain('appears 2 times');
    // Each key's failures are listed worst first too.
    expect(report.keys[0]!.checks.find((c) => !c.passed)?.rule).toBe('D5');
  });

  it('negative control: the duplicate kid alone is what the headline names', async () => {
    const report = await checkInlineJwks({ keys: [rsaPublic, { ...rsaPublic }] });
    expect(report.valid).toBe(false);
    expect(report.summary).toContain('appears 2 times');
  });

  it("an EC key's d is called the private key, not a private exponent", async () => {
    const report = await checkInlineJwks({ keys: [ecPrivate] });
    expect(report.summary).toContain('the private key d');
    expect(report.summary).not.toContain('exponent');
    // Negative control: RSA's d is the private exponent.
    expect((await checkInlineJwks({ keys: [rsaPrivate] })).summary).toContain('the private exponent d');
  });

  it('a key ignored for its key_ops shows D9 once, as a finding, never also as passed', async () => {
    const report = await checkInlineJwks({ keys: [{ ...rsaPublic, key_ops: ['encrypt'] }] });
    const d9 = report.keys[0]!.checks.filter((c) => c.rule === 'D9');
    expect(d9).toHaveLength(1);
    expect(d9[0]!.passed).toBe(false);
    // Negative control: a plain signing key passes D9 once.
    const good = await checkInlineJwks({ keys: [rsaPublic] });
    expect(good.keys[0]!.checks.filter((c) => c.rule === 'D9')).toEqual([
      expect.objectContaining({ passed: true }),
    ]);
  });
});
