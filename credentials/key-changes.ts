import type { KeyChange } from '../workflows/backend-service/service-state.js';
import type { JwksReport } from './jwks-report.js';

/**
 * What a fresh check of a live key set says about the keys that were accepted before (kid →
 * RFC 7638 thumbprint): a key gone from the set, a key whose material changed under the same kid
 * (token endpoints cache by kid: docs/smart-rules.md D12), a key still there but no longer usable.
 * Pure: the workflow keeps the result in its state.
 */
export function keyChanges(accepted: Readonly<Record<string, string>>, report: JwksReport): KeyChange[] {
  const changes: KeyChange[] = [];
  for (const [kid, thumbprint] of Object.entries(accepted)) {
    const now = report.keys.find((k) => k.kid === kid);
    if (!now) {
      changes.push({
        kid,
        change: 'removed',
        message: `key '${kid}' is no longer in the set; assertions signed with it are refused`,
      });
    } else if (now.thumbprint !== null && now.thumbprint !== thumbprint) {
      changes.push({
        kid,
        change: 'changed',
        message: `key '${kid}' has new key material under the same kid; publish a new key under a new kid instead`,
      });
    } else if (now.status !== 'usable') {
      const why = now.checks.find((c) => !c.passed && c.severity === 'error')?.message;
      changes.push({
        kid,
        change: 'unusable',
        message: `key '${kid}' is no longer usable${why ? `: ${why}` : ''}`,
      });
    }
  }
  return changes;
}
