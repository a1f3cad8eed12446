import { describe, expect, it } from 'vitest';
import type { JwksReport, KeyReport } from './jwks-report.js';
import { keyChanges } from './key-changes.js';

const key = (kid: string, thumbprint: string, status: KeyReport['status'] = 'usable'): KeyReport => ({
  index: 0,
  kid,
  kty: 'RSA',
  alg: 'RS384',
  use: 'sig',
  size: 2048,
  curve: null,
  usableAlgorithms: status === 'usable' ? ['RS384'] : [],
  thumbprint,
  status,
  checks:
    status === 'usable'
      ? []
      : [{ rule: 'D7', passed: false, severity: 'error', message: 'its modulus is too short' }],
});
const report = (keys: KeyReport[]): JwksReport => ({
  valid: keys.some((k) => k.status === 'usable'),
  summary: '',
  jwksUri: 'https://keys.example/jwks.json',
  checkedAt: '2026-11-30T00:00:00.000Z',
  fetch: null,
  findings: [],
  keys,
  thumbprints: {},
});

describe('what changed in a live key set', () => {
  const accepted = { a: 'tA', b: 'tB', c: 'tC' };

  it('names a removed key, a changed key and a key that became unusable', () => {
    const changes = keyChanges(
      accepted,
      report([key('b', 'tB-new'), key('c', 'tC', 'rejected'), key('d', 'tD')]),
    );
    expect(changes.map((c) => [c.kid, c.change])).toEqual([
      ['a', 'removed'],
      ['b', 'changed'],
      ['c', 'unusable'],
    ]);
    expect(changes[2]!.message).toContain('modulus is too short');
  });

  it('negative control: the same set, or one with a key added, has no change', () => {
    expect(keyChanges(accepted, report([key('a', 'tA'), key('b', 'tB'), key('c', 'tC')]))).toEqual([]);
    expect(
      keyChanges(accepted, report([key('a', 'tA'), key('b', 'tB'), key('c', 'tC'), key('e', 'tE')])),
    ).toEqual([]);
  });
});
