/** A JSON object (not an array, not null): what a JWK, a JWK Set and a JWT header or payload must be. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
