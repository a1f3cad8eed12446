import { z } from 'zod';

/**
 * Configuration fragment of the credentials module, merged into the worker's and the
 * API's schemas (platform/config.ts). Every variable is documented in .env.example.
 */

/** `kid:base64key,kid:base64key`; each key is 32 bytes (AES-256), standard or URL-safe base64. */
const secretKeyList = z
  .string()
  .min(1)
  .refine(
    (value) =>
      value.split(',').every((entry) => /^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_-]{43}=?$/.test(entry.trim())),
    'must be kid:base64key[,kid:base64key…] with 1–32 letters, digits, _ or - per kid and 32-byte keys',
  );

const milliseconds = (fallback: number, max: number) =>
  z.coerce.number().int().min(100).max(max).default(fallback);

export const credentialsSchema = z.object({
  /**
   * Keys that encrypt client secrets at rest (docs/architecture.md, Secrets). Required in production;
   * in development a key is generated into DATA_DIR on first start when unset.
   */
  SECRET_KEYS: secretKeyList.optional(),
  /** The key ID that encrypts new secrets; the others only decrypt (rotation). Default: the first listed. */
  SECRET_ACTIVE_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .optional(),
  /** Where the development secret key lives (same variable and default as `npm start`). */
  DATA_DIR: z.string().min(1).default('data'),
  // JWKS fetch limits (docs/architecture.md, JWKS fetching). The defaults are the architecture's numbers;
  // they are configurable downwards for tests, and upwards only within sane bounds.
  JWKS_FETCH_CONNECT_TIMEOUT_MS: milliseconds(3_000, 10_000),
  JWKS_FETCH_TOTAL_TIMEOUT_MS: milliseconds(5_000, 10_000),
  JWKS_FETCH_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(64 * 1024),
});

export type CredentialsConfig = z.infer<typeof credentialsSchema>;

/** The fetch limits in the shape `createJwksFetcher` takes. */
export function jwksFetchLimitsFromConfig(
  config: Pick<
    CredentialsConfig,
    'JWKS_FETCH_CONNECT_TIMEOUT_MS' | 'JWKS_FETCH_TOTAL_TIMEOUT_MS' | 'JWKS_FETCH_MAX_BYTES'
  >,
): { connectTimeoutMs: number; totalTimeoutMs: number; maxBytes: number } {
  return {
    connectTimeoutMs: config.JWKS_FETCH_CONNECT_TIMEOUT_MS,
    totalTimeoutMs: config.JWKS_FETCH_TOTAL_TIMEOUT_MS,
    maxBytes: config.JWKS_FETCH_MAX_BYTES,
  };
}
