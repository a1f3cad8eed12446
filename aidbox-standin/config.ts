/**
 * Environment of `aidbox-standin/main.ts`, parsed with zod (every variable in .env.example).
 */
import { z } from 'zod';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const rate = z.coerce.number().min(0).max(1).default(0);

export const standinConfigSchema = z.object({
  STANDIN_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  STANDIN_HOST: z.string().min(1).default('127.0.0.1'),
  /** Base URL callers use; default http://localhost:<port>. */
  STANDIN_PUBLIC_URL: z.url().optional(),
  STANDIN_ORGBAC: bool(false),
  STANDIN_ROOT_CLIENT_ID: z.string().min(1).default('root'),
  STANDIN_ROOT_CLIENT_SECRET: z
    .string({ error: 'required (the root client secret)' })
    .min(8, 'at least 8 characters'),
  STANDIN_SAMPLE_DATA: bool(true),
  STANDIN_APP_MODE: z.enum(['development', 'production']).default('development'),
  STANDIN_FAULT_ERROR_RATE: rate,
  STANDIN_FAULT_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  STANDIN_FAULT_DROP_RATE: rate,
  STANDIN_LOG_REQUESTS: bool(false),
});

export type StandinConfig = z.infer<typeof standinConfigSchema>;

/** Parses the environment (empty means unset); throws an Error naming every bad variable. */
export function parseStandinConfig(env: NodeJS.ProcessEnv): StandinConfig {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([key, v]) => key.startsWith('STANDIN_') && v !== undefined && v !== ''),
  );
  const result = standinConfigSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid Aidbox stand-in configuration:\n${lines.join('\n')}\nSee .env.example.`);
}
