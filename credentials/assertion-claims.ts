import type { JWTPayload } from 'jose';
import { failed, passed, show, type AddCheck } from './assertion-checks.js';

/** A4–A7: who signed (iss, sub), for whom (aud), until when (exp) and once only (jti). */
export function checkClaims(
  payload: JWTPayload,
  input: { clientId: string; tokenUrl: string; now: Date },
  options: { clockSkewSeconds: number; maxLifetimeSeconds: number },
  add: AddCheck,
): void {
  // A4 (SP1; RFC 7523 §3): iss = sub = client_id.
  for (const claim of ['iss', 'sub'] as const) {
    const value = payload[claim];
    if (value === input.clientId)
      add(claim, 'A4', passed(show(input.clientId), show(value), `${claim} is the client_id.`));
    else
      add(
        claim,
        'A4',
        failed(
          show(input.clientId),
          show(value),
          `${claim} must be exactly the client_id issued at registration.`,
        ),
      );
  }

  // A5 (SP1; RFC 7523 §3): aud = the token endpoint URL, compared exactly.
  const aud = payload.aud;
  if (aud === input.tokenUrl) {
    add('aud', 'A5', passed(show(input.tokenUrl), show(aud), "aud is this environment's token URL."));
  } else if (Array.isArray(aud) && aud.includes(input.tokenUrl)) {
    add(
      'aud',
      'A5',
      passed(
        show(input.tokenUrl),
        show(aud),
        'aud contains the token URL. RFC 7519 allows an array, but SMART shows a single string: send the URL alone to be safe.',
      ),
    );
  } else {
    const slashOnly = typeof aud === 'string' && aud.replace(/\/$/, '') === input.tokenUrl.replace(/\/$/, '');
    add(
      'aud',
      'A5',
      failed(
        show(input.tokenUrl),
        show(aud),
        slashOnly
          ? 'aud differs from the token URL only by a trailing slash; the comparison is exact.'
          : "aud must be this environment's token URL exactly (sandbox and production have different token URLs).",
      ),
    );
  }

  // A6 (SP1 req 331): exp required, not past, at most five minutes ahead (with skew).
  const now = Math.floor(input.now.getTime() / 1000);
  const latest = now + options.maxLifetimeSeconds + options.clockSkewSeconds;
  const expectedExp = `a NumericDate after now − ${options.clockSkewSeconds} s and at most ${options.maxLifetimeSeconds} s ahead (+${options.clockSkewSeconds} s skew)`;
  const exp = payload.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    add(
      'exp',
      'A6',
      failed(
        expectedExp,
        show(exp),
        'exp is required: a number of seconds since 1970 (NumericDate), not a string or milliseconds.',
      ),
    );
  } else {
    const when = `${show(exp)} (${new Date(exp * 1000).toISOString()}, ${exp - now} s from now)`;
    const refusal =
      exp <= now - options.clockSkewSeconds
        ? 'The assertion has expired: sign a fresh one just before calling the token endpoint.'
        : exp > latest
          ? exp > 1e11
            ? 'exp looks like milliseconds: use seconds since 1970.'
            : 'exp is more than five minutes ahead; SMART limits assertion lifetime to five minutes (Aidbox enforces the same).'
          : null;
    if (refusal !== null) add('exp', 'A6', failed(expectedExp, when, refusal));
    else add('exp', 'A6', passed(expectedExp, when, 'exp is within the five-minute window.'));
  }

  // A7 (SP1 req 332): jti required; this checker never records it.
  if (typeof payload.jti === 'string' && payload.jti !== '') {
    add(
      'jti',
      'A7',
      passed(
        'a non-empty unique string',
        show(payload.jti),
        'jti is present. The endpoint refuses a jti it has already seen, so use a new random jti for every assertion; this check did not record it.',
      ),
    );
  } else {
    add(
      'jti',
      'A7',
      failed(
        'a non-empty unique string',
        show(payload.jti),
        'jti is required: a new random value for every assertion (replay protection).',
      ),
    );
  }
}
