import { describe, expect, it } from 'vitest';
import { AidboxPermanentError, AidboxRetryableError, errorForStatus, parseRetryAfter } from './errors.js';

describe('Aidbox error classes (docs/architecture.md)', () => {
  it.each([408, 409, 412, 423, 429, 500, 502, 503, 504])('%s is retryable', (status) => {
    expect(errorForStatus('PUT', '/fhir/Client/x', status)).toBeInstanceOf(AidboxRetryableError);
  });
  it.each([400, 401, 403, 404, 405, 410, 415, 422])('%s is permanent', (status) => {
    expect(errorForStatus('PUT', '/fhir/Client/x', status)).toBeInstanceOf(AidboxPermanentError);
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(errorForStatus('GET', '/x', 429, '2').retryAfterMs).toBe(2_000);
  });
});
