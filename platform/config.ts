import { z } from 'zod';
import { envBool, envPort } from './env-parsers.js';
import { aidboxConfigSchema } from '../aidbox/config.js';
import { credentialsSchema } from '../credentials/config.js';
import { DEFAULT_PROVISIONING_MAX_ROUNDS } from '../workflows/backend-service/retry-timing.js';
import {
  MAX_COMMAND_TOKEN_LIFETIME_SECONDS,
  commandSigningKeySchema,
  commandVerifyKeysSchema,
} from './command-tokens.js';

/**
 * One zod-parsed configuration per process. Each process parses only the part it needs, fails fast
 * at start-up naming the variable, and never reads process.env anywhere else.
 * Every variable is documented in .env.example.
 */

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/backend_services';

const url = () => z.string().url();

export const appModeSchema = z.enum(['development', 'production']).default('production');

export const commonSchema = z.object({
  APP_MODE: appModeSchema,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const databaseSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .default(DEFAULT_DATABASE_URL),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
});

export const temporalSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('backend-services'),
  TEMPORAL_TLS: envBool(false),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /**
   * A file holding the bearer token sent as the API key (the cluster's `<namespace>:write` JWT); it is
   * re-read every TEMPORAL_API_KEY_REFRESH_SECONDS and a changed token replaces the old one on the live
   * connection, so whoever renews the file (the identity provider's agent) renews the process's token.
   */
  TEMPORAL_API_KEY_FILE: z.string().min(1).optional(),
  TEMPORAL_API_KEY_REFRESH_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** mTLS to the frontend: the CA that signed its certificate, this process's client certificate and key (PEM files). */
  TEMPORAL_TLS_CA_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT_FILE: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY_FILE: z.string().min(1).optional(),
  /** The name the frontend's certificate is checked against, when it differs from TEMPORAL_ADDRESS's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_UI_URL: url().default('http://localhost:8233'),
});

/**
 * Who may call the API (docs/api.md, Identity): bearer JWTs of the configured OIDC issuer and, in
 * development mode only, of the built-in development issuer (a key pair generated into DATA_DIR).
 * The cross-field rules (production refuses the development issuer; some issuer must exist) are
 * checked by `checkAuthConfig`, so this stays a plain object other fragments can extend.
 */
export const authSchema = z.object({
  AUTH_ISSUER: url().optional(),
  /** Where the issuer publishes its keys; default `<AUTH_ISSUER>/.well-known/jwks.json`. */
  AUTH_JWKS_URL: url().optional(),
  AUTH_AUDIENCE: z.string().min(1).default('backend-services-api'),
  /** Claim holding the roles array (`developer`, `admin`); a dotted path reaches into nested claims. */
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Default: on in development mode, off in production (where turning it on refuses to start). */
  AUTH_DEV_ISSUER: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes')),
});

/**
 * The portal and review pages (ui/): sign-in with authorization code + PKCE against AUTH_ISSUER as
 * this OIDC client, and the key that seals the session cookie. Without UI_SESSION_SECRET a
 * development process uses a random key (sessions end at restart); production pages answer 503.
 */
export const uiSchema = z.object({
  UI_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** Confidential clients only; a public client relies on PKCE alone. */
  UI_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  UI_OIDC_SCOPES: z.string().min(1).default('openid profile'),
  UI_SESSION_SECRET: z.string().min(32, 'at least 32 characters (`openssl rand -base64 32`)').optional(),
});

/**
 * Operators' view (README, Operations): Prometheus metrics on a listener of their own, never on the
 * public API port, and OpenTelemetry traces, off unless a collector is named.
 */
export const observabilitySchema = z.object({
  /** Where the metrics listeners bind; loopback by default so /metrics is never public by accident. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** OTLP/HTTP base URL of a collector (traces go to `<url>/v1/traces`); unset: no tracing SDK starts. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url().optional(),
  /** The `service.name` of this process's spans; default backend-services-api or -worker. */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});

export const apiSchema = commonSchema.extend({
  ...databaseSchema.shape,
  ...temporalSchema.shape,
  ...credentialsSchema.shape,
  ...aidboxConfigSchema.shape,
  ...authSchema.shape,
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: envPort(3000),
  PUBLIC_URL: url().optional(),
  /** Deadline of every Temporal call the API makes; past it the API answers 503 with Retry-After. */
  TEMPORAL_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * The private JWK (P-256, with kid) that signs every command the API sends to a workflow
   * (docs/decisions/signed-commands.md). Required in production; development makes one in DATA_DIR.
   */
  COMMAND_SIGNING_KEY: commandSigningKeySchema.optional(),
  /** How long a command token is valid (exp − iat), at most five minutes. */
  COMMAND_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_COMMAND_TOKEN_LIFETIME_SECONDS)
    .default(MAX_COMMAND_TOKEN_LIFETIME_SECONDS),
  /** Services a developer may hold that are neither deactivated, revoked nor deleted; past it, create answers 429. */
  MAX_SERVICES_PER_OWNER: z.coerce.number().int().min(1).max(100_000).default(50),
  /** Creates per principal per minute, counted in PostgreSQL so every API process shares the count. */
  CREATE_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(10),
  /**
   * Failed rounds after which an approval's production provisioning ends as failed (README, "A
   * provisioning that does not finish"). Passed to each new service's workflow at its start.
   */
  PROVISIONING_MAX_ROUNDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(DEFAULT_PROVISIONING_MAX_ROUNDS),
  /**
   * Service details kept per API process while their row is unchanged (api/services/row-cache.ts):
   * a few KiB each, so the default costs a few MiB; 0 turns the cache off.
   */
  DETAIL_CACHE_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(2_000),
  /**
   * Presented list items kept per API process, checked against each listed row's version
   * (api/services/list-items.ts): about 1 KiB each; 0 turns it off.
   */
  LIST_CACHE_ENTRIES: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  ...uiSchema.shape,
  ...observabilitySchema.shape,
  /** Prometheus `/metrics` of the API process (prom-client); 0 turns the listener off. */
  API_METRICS_PORT: envPort(9464),
});

/** `90`, `30s`, `15m`, `36h`, `2d`: a duration in seconds (a bare number is seconds). */
export const durationSeconds = (fallback: string) =>
  z
    .string()
    .regex(/^\d+\s*[smhd]?$/, 'a duration: a number of seconds, or with s, m, h or d (e.g. 2d)')
    .default(fallback)
    .transform((value) => {
      const match = /^(\d+)\s*([smhd]?)$/.exec(value)!;
      const unit = { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
      return Number(match[1]) * unit;
    })
    .refine((seconds) => seconds >= 1, 'at least one second');

/**
 * Notifications (docs/decisions/notifications.md): e-mail through SMTP with nodemailer, reviewers'
 * addresses, the links' base URL and the timings. The cross-field rules (production needs SMTP_URL
 * and REVIEWERS_EMAIL) are checked by `checkNotificationConfig`.
 */
export const notificationSchema = z.object({
  /**
   * `smtps://user:pass@host:465` (TLS from the start) or `smtp://…:587` (STARTTLS, required in
   * production). Unset in development: nothing is mailed (`npm start` sets its catcher's URL).
   */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Backend Services <backend-services@localhost>'),
  /** Comma-separated reviewer addresses; default reviewers@localhost in development, required in production. */
  REVIEWERS_EMAIL: z.string().min(3).optional(),
  /** Links in notifications: `<PUBLIC_URL>/portal/services/<id>` and `/admin/services/<id>`. */
  PUBLIC_URL: url().default('http://localhost:3000'),
  /** A submission waiting longer than this reminds the reviewers, then every REVIEW_REMINDER_EVERY. */
  REVIEW_REMINDER_AFTER: durationSeconds('2d'),
  REVIEW_REMINDER_EVERY: durationSeconds('1d'),
  /** How long before a staged secret goes live its owner is told. */
  STAGED_SECRET_NOTICE: durationSeconds('24h'),
  /** A failing delivery is retried with backoff up to this interval… */
  NOTIFICATION_RETRY_MAX_INTERVAL: durationSeconds('10m'),
  /** One delivery attempt's limit (a worker killed mid-send is noticed after it). */
  NOTIFICATION_ATTEMPT_TIMEOUT: durationSeconds('60s'),
  /** …for this long, then dropped with a `notification-dropped` entry in the service's history. */
  NOTIFICATION_GIVE_UP_AFTER: durationSeconds('24h'),
});

export const workerSchema = commonSchema.extend({
  ...databaseSchema.shape,
  ...temporalSchema.shape,
  ...credentialsSchema.shape,
  ...aidboxConfigSchema.shape,
  /** A workflow bundle built ahead of time; without it the worker bundles workflows/ at start (seconds). */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /**
   * The public keys (a JWK Set, by kid) the worker verifies command tokens with; several while the
   * API's key rotates. Required in production; development uses the pair in DATA_DIR.
   */
  COMMAND_VERIFY_KEYS: commandVerifyKeysSchema.optional(),
  /**
   * The worker's resident memory (MiB): its V8 heap limits (flags its launcher passes) and the size
   * of its cache of running workflows follow from it (worker/memory-plan.ts). Larger: fewer replays
   * when a service is touched again; smaller: less RSS.
   */
  WORKER_MEMORY_BUDGET_MB: z.coerce.number().int().min(64).max(65_536).default(384),
  /** How often a live JWKS service's key set is re-checked (seconds, ±10 % jitter). */
  JWKS_HEALTH_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(86_400),
  /** After a failed check, the first re-check comes after this many seconds, then doubles up to 21600. */
  JWKS_HEALTH_RETRY_SECONDS: z.coerce.number().int().min(1).max(21_600).default(3_600),
  ...notificationSchema.shape,
  ...observabilitySchema.shape,
  /**
   * The Temporal SDK's Prometheus endpoint (its own metrics and the registry's business metrics,
   * recorded through the SDK's metric meter); 0 turns it off.
   */
  WORKER_METRICS_PORT: envPort(9465),
});

/** `npm start`: the orchestrator that brings the whole development stack up. */
export const startSchema = commonSchema.extend({
  APP_MODE: z.enum(['development', 'production']).default('development'),
  DATABASE_URL: databaseSchema.shape.DATABASE_URL.unwrap().optional(),
  DATA_DIR: z.string().min(1).default('data'),
  PORT: envPort(3000),
  TEMPORAL_PORT: envPort(7233),
  TEMPORAL_UI_PORT: envPort(8233),
  /** The Aidbox stand-ins (docs/api.md, Defaults: Payerbox's quickstart uses the same split). */
  SANDBOX_AIDBOX_PORT: envPort(8090),
  PRODUCTION_AIDBOX_PORT: envPort(8080),
  TEMPORAL_NAMESPACE: temporalSchema.shape.TEMPORAL_NAMESPACE,
  TEMPORAL_TASK_QUEUE: temporalSchema.shape.TEMPORAL_TASK_QUEUE,
  METRICS_HOST: observabilitySchema.shape.METRICS_HOST,
  OTEL_EXPORTER_OTLP_ENDPOINT: observabilitySchema.shape.OTEL_EXPORTER_OTLP_ENDPOINT,
  API_METRICS_PORT: envPort(9464),
  WORKER_METRICS_PORT: envPort(9465),
  /** The development SMTP catcher (notifications/dev-mail.ts) the worker mails to. */
  SMTP_CATCHER_PORT: envPort(2525),
});

/**
 * `npm run cluster`: the production topology on this machine (platform/cluster-topology.ts). Its
 * ports and databases differ from npm start's, so both can run side by side.
 */
export const clusterSchema = commonSchema.extend({
  DATABASE_URL: databaseSchema.shape.DATABASE_URL.unwrap().optional(),
  DATA_DIR: z.string().min(1).default('data'),
  /** The read model (`<DATABASE_URL's server>/backend_services_cluster`) and Temporal's two databases. */
  CLUSTER_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('backend_services_cluster'),
  CLUSTER_TEMPORAL_DATABASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('temporal_cluster'),
  CLUSTER_TEMPORAL_PORT: envPort(7333),
  CLUSTER_TEMPORAL_UI_PORT: envPort(8333),
  CLUSTER_API_PORTS: z
    .string()
    .regex(/^\d+,\d+$/, 'two ports, comma-separated')
    .default('3100,3101')
    .transform((v) => v.split(',').map(Number) as [number, number]),
  CLUSTER_SANDBOX_AIDBOX_PORT: envPort(8190),
  CLUSTER_PRODUCTION_AIDBOX_PORT: envPort(8180),
  /** Lifetime of the Temporal tokens the cluster writes for its processes (renewed at half of it). */
  CLUSTER_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  TEMPORAL_NAMESPACE: temporalSchema.shape.TEMPORAL_NAMESPACE,
  TEMPORAL_TASK_QUEUE: temporalSchema.shape.TEMPORAL_TASK_QUEUE,
});

export type StartConfig = z.infer<typeof startSchema>;
export type ApiConfig = z.infer<typeof apiSchema>;
export type WorkerConfig = z.infer<typeof workerSchema>;

/** Whether the development issuer is on: explicit AUTH_DEV_ISSUER, else on in development mode only. */
export function devIssuerEnabled(config: Pick<ApiConfig, 'APP_MODE' | 'AUTH_DEV_ISSUER'>): boolean {
  return config.AUTH_DEV_ISSUER ?? config.APP_MODE === 'development';
}

/** The rules between auth variables; throws a ConfigError naming the variable. */
export function checkAuthConfig(config: ApiConfig): void {
  if (config.APP_MODE === 'production' && config.AUTH_DEV_ISSUER === true) {
    throw new ConfigError(
      'Invalid configuration:\n  AUTH_DEV_ISSUER: the development issuer is refused in production mode (APP_MODE=production)',
    );
  }
  if (!devIssuerEnabled(config) && !config.AUTH_ISSUER) {
    throw new ConfigError(
      'Invalid configuration:\n  AUTH_ISSUER: required when the development issuer is off (production mode)',
    );
  }
}

/** The reviewers' addresses: REVIEWERS_EMAIL, else reviewers@localhost in development; production requires it and SMTP_URL. */
export function checkNotificationConfig(
  config: Pick<WorkerConfig, 'APP_MODE' | 'SMTP_URL' | 'REVIEWERS_EMAIL'>,
): { reviewers: string[] } {
  const missing = [
    ...(config.SMTP_URL ? [] : ['SMTP_URL']),
    ...(config.REVIEWERS_EMAIL ? [] : ['REVIEWERS_EMAIL']),
  ];
  if (config.APP_MODE === 'production' && missing.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((name) => `  ${name}: required in production mode (notifications)`).join('\n')}`,
    );
  }
  const reviewers = (config.REVIEWERS_EMAIL ?? 'reviewers@localhost')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return { reviewers };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` with `schema`; on failure throws a ConfigError naming every bad variable. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  // Empty strings mean "unset": `.env` files and compose often carry `VAR=`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    // Never echo key material (a private key pasted into the wrong variable included).
    const sensitive = /KEY|SECRET/.test(name);
    const given =
      typeof cleaned[name] === 'string' && !sensitive ? ` (got ${JSON.stringify(cleaned[name])})` : '';
    return `  ${name}: ${issue.message}${given}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every variable.`);
}

/** Loads configuration at process start-up, printing a clear message and exiting on a bad variable. */
export function loadConfigOrExit<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
