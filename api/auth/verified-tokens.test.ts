import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Principal } from './principal.js';
import { InvalidToken, rememberingVerifications } from './verifier.js';

/** A token whose payload the cache reads (`exp`); what verifies it is the fake below. */
const token = (sub: string, expSeconds: number) =>
  new UnsecuredJWT({ sub }).setExpirationTime(expSeconds).encode();

/** A verifier that counts its calls and accepts what `accept` says. */
function fakeVerifier(accept: (token: string) => boolean = () => true) {
  const calls = { count: 0 };
  const verify = async (t: string): Promise<Principal> => {
    calls.count += 1;
    if (!accept(t)) throw new InvalidToken('the token signature does not verify with the issuer keys');
    return { sub: 'alice', roles: ['developer'] };
  };
  return { verify, calls };
}

describe('remembered verifications', () => {
  const start = 1_800_000_000_000;

  it('a token verified once is not verified again until its exp or the TTL, whichever comes first', async () => {
    let now = start;
    const { verify, calls } = fakeVerifier();
    const cached = rememberingVerifications(verify, { now: () => now });
    const longLived = token('alice', start / 1000 + 3600);
    await cached(longLived);
    await cached(longLived);
    expect(calls.count).toBe(1);
    now = start + 60_001; // past the 60 s TTL
    await cached(longLived);
    expect(calls.count).toBe(2);
    const shortLived = token('alice', start / 1000 + 120);
    await cached(shortLived);
    now = start + 120_000; // at exp
    await cached(shortLived);
    expect(calls.count).toBe(4);
  });

  it('refusals are not remembered, and a token refused after expiry stays refused', async () => {
    let now = start;
    let valid = true;
    const { verify, calls } = fakeVerifier(() => valid);
    const cached = rememberingVerifications(verify, { now: () => now });
    const t = token('alice', start / 1000 + 30);
    await cached(t);
    now = start + 30_000;
    valid = false; // what jose says of it now
    await expect(cached(t)).rejects.toThrow(InvalidToken);
    await expect(cached(t)).rejects.toThrow(InvalidToken);
    expect(calls.count).toBe(3);
  });

  it('the principal handed out again cannot be changed by a request', async () => {
    const cached = rememberingVerifications(fakeVerifier().verify, { now: () => start });
    const t = token('alice', start / 1000 + 3600);
    await cached(t);
    const again = await cached(t);
    expect(() => again.roles.push('admin')).toThrow();
    expect((await cached(t)).roles).toEqual(['developer']);
  });

  it('negative control: with no entries every request is verified', async () => {
    const { verify, calls } = fakeVerifier();
    const cached = rememberingVerifications(verify, { now: () => start, cacheEntries: 0 });
    const t = token('alice', start / 1000 + 3600);
    await cached(t);
    await cached(t);
    expect(calls.count).toBe(2);
  });
});
