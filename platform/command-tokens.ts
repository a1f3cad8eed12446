import { createHash } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';

/**
 * Command tokens (docs/decisions/signed-commands.md): every command the API sends to a service's
 * workflow (the start and every update) carries a compact JWS, ES256, signed with the API's command
 * key (COMMAND_SIGNING_KEY) and verified by the worker against COMMAND_VERIFY_KEYS. What both sides
 * share lives here: the claims, the digest of the arguments, the key formats, development keys.
 */

export const COMMAND_TOKEN_ALG = 'ES256';
export const COMMAND_TOKEN_TYP = 'backend-service-command+jwt';
/** The argument field that carries the token; the digest covers the argument without it. */
export const COMMAND_TOKEN_FIELD = 'commandToken';
/** `exp` is at most this long after `iat`. */
export const MAX_COMMAND_TOKEN_LIFETIME_SECONDS = 300;
/** The update name a start's token names. */
export const START_COMMAND = 'start';

export interface CommandActor {
  sub: string;
  roles: string[];
}

/** The claims of a command token. */
export interface CommandClaims {
  /** Workflow ID (`backend-service/<serviceId>`). */
  wf: string;
  /** Update name, or `start`. */
  cmd: string;
  /** The actor the API authenticated. */
  act: CommandActor;
  /** base64url SHA-256 of the canonical JSON of the argument without its token. */
  dig: string;
  iat: number;
  exp: number;
  jti: string;
}

/**
 * Canonical JSON: the value as JSON (so `undefined` fields vanish as they do on the way through
 * Temporal's payload converter), object keys sorted, no whitespace.
 */
export function canonicalJson(value: unknown): string {
  return canonical(JSON.parse(JSON.stringify(value ?? null)) as unknown);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The argument without its token field. */
export function withoutToken(argument: unknown): unknown {
  if (argument === null || typeof argument !== 'object' || Array.isArray(argument)) return argument;
  const { [COMMAND_TOKEN_FIELD]: _token, ...rest } = argument as Record<string, unknown>;
  return rest;
}

/** The `dig` claim of an argument (its token field, if any, excluded). */
export function argumentDigest(argument: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(withoutToken(argument)))
    .digest('base64url');
}

// ---- keys ----

const ecJwk = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().min(1),
    y: z.string().min(1),
    kid: z.string().min(1, 'every command key needs a kid'),
  })
  .passthrough();

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** COMMAND_SIGNING_KEY: one private P-256 JWK with a kid (JSON). */
export const commandSigningKeySchema = jsonOf(
  ecJwk.extend({ d: z.string().min(1, 'a private key (with "d")') }),
).transform((jwk) => jwk as JWK & { kid: string });

/** COMMAND_VERIFY_KEYS: a JWK Set of public P-256 keys, each with its kid (JSON). */
export const commandVerifyKeysSchema = jsonOf(
  z.object({
    keys: z
      .array(ecJwk.refine((k) => !('d' in k), 'public keys only: remove "d"'))
      .min(1, 'at least one key'),
  }),
).transform((set) => set as { keys: Array<JWK & { kid: string }> });

export interface CommandKeyPair {
  signingKey: JWK & { kid: string };
  verifyKeys: { keys: Array<JWK & { kid: string }> };
}

/** A fresh P-256 pair; the public half alone in the verify set. */
export async function generateCommandKeyPair(
  kid = `cmd-${Date.now().toString(36)}`,
): Promise<CommandKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(COMMAND_TOKEN_ALG, { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid, alg: COMMAND_TOKEN_ALG, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: COMMAND_TOKEN_ALG, use: 'sig' };
  return { signingKey, verifyKeys: { keys: [publicJwk] } };
}

export const DEVELOPMENT_COMMAND_KEYS_FILE = 'command-keys.json';

/**
 * Development mode: the pair lives in `<dataDir>/command-keys.json` (mode 0600), made on first
 * start and reused. The API and the worker may start at the same moment: the file is written
 * elsewhere and linked into place, so both end up reading the one pair that won.
 */
export async function loadOrCreateDevelopmentCommandKeys(dataDir: string): Promise<CommandKeyPair> {
  const file = path.join(dataDir, DEVELOPMENT_COMMAND_KEYS_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const pair = await generateCommandKeyPair();
    const scratch = `${file}.${process.pid}.${Date.now()}`;
    writeFileSync(scratch, JSON.stringify(pair) + '\n', { mode: 0o600 });
    try {
      linkSync(scratch, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(scratch, { force: true });
    }
  }
  chmodSync(file, 0o600);
  const stored = JSON.parse(readFileSync(file, 'utf8')) as CommandKeyPair;
  return {
    signingKey: commandSigningKeySchema.parse(JSON.stringify(stored.signingKey)),
    verifyKeys: commandVerifyKeysSchema.parse(JSON.stringify(stored.verifyKeys)),
  };
}
