/**
 * Environment variables of both Aidboxes (sandbox and production), a zod object fragment the
 * process configurations merge (`...aidboxConfigSchema.shape`). Documented in .env.example.
 */
import { z } from 'zod';
import { envBool } from '../platform/env-parsers.js';
import type { AidboxConnection } from './client.js';

export const aidboxConfigSchema = z.object({
  /** Admin URL the registry calls. */
  SANDBOX_AIDBOX_URL: z.url().default('http://localhost:8090'),
  /** URL shown to developers (FHIR base, token URL…); default: SANDBOX_AIDBOX_URL. */
  SANDBOX_AIDBOX_PUBLIC_URL: z.url().optional(),
  SANDBOX_AIDBOX_CLIENT_ID: z.string().min(1).default('root'),
  SANDBOX_AIDBOX_CLIENT_SECRET: z.string().min(1).optional(),
  PRODUCTION_AIDBOX_URL: z.url().default('http://localhost:8080'),
  PRODUCTION_AIDBOX_PUBLIC_URL: z.url().optional(),
  PRODUCTION_AIDBOX_CLIENT_ID: z.string().min(1).default('root'),
  PRODUCTION_AIDBOX_CLIENT_SECRET: z.string().min(1).optional(),
  /** Whether production runs OrgBAC (docs/aidbox-contract.md §3: Payerbox's PHI Aidbox does). */
  PRODUCTION_ORGBAC: envBool(true),
});

export type AidboxConfig = z.infer<typeof aidboxConfigSchema>;

/**
 * The two environments from configuration. The admin secrets are optional in the schema so that
 * processes that never call Aidbox (migrations) need not carry them; a process that does calls
 * this at start-up and fails there, naming the variable.
 */
export function aidboxEnvironments(config: AidboxConfig): {
  sandbox: AidboxConnection;
  production: AidboxConnection;
} {
  const missing = [
    config.SANDBOX_AIDBOX_CLIENT_SECRET ? undefined : 'SANDBOX_AIDBOX_CLIENT_SECRET',
    config.PRODUCTION_AIDBOX_CLIENT_SECRET ? undefined : 'PRODUCTION_AIDBOX_CLIENT_SECRET',
  ].filter(Boolean);
  if (missing.length > 0)
    throw new Error(`Invalid configuration: ${missing.join(', ')} must be set (see .env.example)`);
  const trim = (url: string) => url.replace(/\/+$/, '');
  return {
    sandbox: {
      name: 'sandbox',
      baseUrl: trim(config.SANDBOX_AIDBOX_URL),
      publicUrl: trim(config.SANDBOX_AIDBOX_PUBLIC_URL ?? config.SANDBOX_AIDBOX_URL),
      clientId: config.SANDBOX_AIDBOX_CLIENT_ID,
      clientSecret: config.SANDBOX_AIDBOX_CLIENT_SECRET!,
      orgbac: false,
    },
    production: {
      name: 'production',
      baseUrl: trim(config.PRODUCTION_AIDBOX_URL),
      publicUrl: trim(config.PRODUCTION_AIDBOX_PUBLIC_URL ?? config.PRODUCTION_AIDBOX_URL),
      clientId: config.PRODUCTION_AIDBOX_CLIENT_ID,
      clientSecret: config.PRODUCTION_AIDBOX_CLIENT_SECRET!,
      orgbac: config.PRODUCTION_ORGBAC,
    },
  };
}
