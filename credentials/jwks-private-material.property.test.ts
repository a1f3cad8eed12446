import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { propertySeed } from '../test-support/seed.js';
import { validateJwks, type JwksValidationOptions } from './jwks-validate.js';
import { ecKeyPair, rsaKeyPair, type TestKeyPair } from '../test-support/key-pairs.js';

/**
 * Property (docs/smart-rules.md D5; RFC 7518 §6.2.2, §6.3.2, §6.4.1): no JWKS that contains private key
 * material is ever accepted, whatever else the set holds. The negative control runs the same
 * property against a validator with D5 switched off and must find a counterexample, which shows
 * the property has teeth.
 */

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

let pool: TestKeyPair[];
beforeAll(() => {
  pool = [rsaKeyPair(2048), rsaKeyPair(2048), ecKeyPair('P-384'), ecKeyPair('P-384'), ecKeyPair('P-256')];
});

/** A base key set that is acceptable on its own, then private members sprinkled onto some of its keys. */
const keySetWithLeak = fc
  .record({
    picks: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 5 }),
    leaks: fc.array(
      fc.record({
        target: fc.nat(),
        member: fc.constantFrom(...PRIVATE_MEMBERS),
        // The real private value when the pair has one, else arbitrary base64url (a leak is a leak).
        realValue: fc.boolean(),
        fake: fc
          .base64String({ minLength: 4, maxLength: 64 })
          .map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    // Unknown members a real set may carry; they must not change the verdict.
    note: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  })
  .map(({ picks, leaks, note }) => {
    const keys = picks.map((i, n) => {
      const pair = pool[i]!;
      const key: Record<string, unknown> = { ...pair.publicJwk, kid: `k${n}` };
      if (note !== undefined) key['x-note'] = note;
      return { key, pair };
    });
    for (const leak of leaks) {
      const { key, pair } = keys[leak.target % keys.length]!;
      const real = pair.privateJwk[leak.member];
      key[leak.member] =
        leak.realValue && real !== undefined
          ? real
          : leak.member === 'oth'
            ? [{ r: leak.fake, d: leak.fake, t: leak.fake }]
            : leak.fake;
    }
    // Make sure at least one usable key exists, so only the leak can make the set unacceptable.
    keys.push({ key: { ...pool[0]!.publicJwk, kid: 'clean' }, pair: pool[0]! });
    return { keys: keys.map((k) => k.key) };
  });

function containsPrivateMaterial(document: { keys: Record<string, unknown>[] }): boolean {
  return document.keys.some((key) => PRIVATE_MEMBERS.some((m) => key[m] !== undefined));
}

function neverAcceptsPrivateMaterial(options: JwksValidationOptions) {
  return fc.asyncProperty(keySetWithLeak, async (document) => {
    if (!containsPrivateMaterial(document)) return;
    const result = await validateJwks(document, options);
    expect(result.valid).toBe(false);
  });
}

describe('property: private key material is never accepted', () => {
  it('holds for the validator', async () => {
    await fc.assert(neverAcceptsPrivateMaterial({}), {
      numRuns: 300,
      seed: propertySeed('jwks private material', 20_261_125),
    });
  });

  it('negative control: with D5 switched off the property fails', async () => {
    await expect(
      fc.assert(neverAcceptsPrivateMaterial({ disabledRules: ['D5'] }), {
        numRuns: 300,
        seed: propertySeed('jwks private material, D5 off', 20_261_126),
      }),
    ).rejects.toThrow(/Property failed/);
  });

  it('the generator is not vacuous: every set it draws leaks, and is accepted once the leak is removed', async () => {
    // The property returns early on a set without private material, and a set refused for another
    // reason would pass it for the wrong reason: both are checked on the generator's own output.
    const samples = fc.sample(keySetWithLeak, {
      numRuns: 100,
      seed: propertySeed('jwks private material generator', 20_261_127),
    });
    expect(samples.filter((document) => !containsPrivateMaterial(document))).toEqual([]);
    const refusedWithoutLeak: unknown[] = [];
    for (const document of samples) {
      const stripped = {
        keys: document.keys.map((key) =>
          Object.fromEntries(
            Object.entries(key).filter(([name]) => !(PRIVATE_MEMBERS as readonly string[]).includes(name)),
          ),
        ),
      };
      if (!(await validateJwks(stripped)).valid) refusedWithoutLeak.push(stripped);
    }
    expect(refusedWithoutLeak).toEqual([]);
  });
});
