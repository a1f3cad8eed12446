import { escapeForbiddenCharacters } from '../platform/text-rules.js';
import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JWK } from 'jose';
import type {
  CommandAuthActivities,
  CommandCheckInput,
  CommandCheckResult,
} from '../activities/command-auth-contract.js';
import {
  COMMAND_TOKEN_ALG,
  COMMAND_TOKEN_FIELD,
  COMMAND_TOKEN_TYP,
  MAX_COMMAND_TOKEN_LIFETIME_SECONDS,
  argumentDigest,
  type CommandClaims,
} from '../platform/command-tokens.js';

/** Allowed clock difference between the API that signs and the worker that verifies (NTP-synced hosts). */
const DEFAULT_CLOCK_SKEW_SECONDS = 5;

/**
 * How the worker judges command tokens: the public keys of COMMAND_VERIFY_KEYS (several, so the
 * API's key can rotate), or `off`, which only tests can choose (it is no configuration variable):
 * the negative control that shows what verification prevents.
 */
export type CommandVerification =
  | { keys: { keys: JWK[] }; now?: () => Date; clockSkewSeconds?: number }
  | { off: true; reason: 'test negative control' };

export function createCommandAuthActivities(verification: CommandVerification): CommandAuthActivities {
  if ('off' in verification) {
    return {
      async verifyCommand({ argument }) {
        return { verified: true, actor: claimedActorOf(argument), jti: null, exp: 0 };
      },
    };
  }
  const keySet = createLocalJWKSet(verification.keys);
  const now = verification.now ?? (() => new Date());
  const skew = verification.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  return {
    async verifyCommand(input) {
      return verifyCommandToken(input, keySet, now(), skew);
    },
  };
}

async function verifyCommandToken(
  { workflowId, name, argument }: CommandCheckInput,
  keySet: ReturnType<typeof createLocalJWKSet>,
  now: Date,
  skew: number,
): Promise<CommandCheckResult> {
  const token = tokenOf(argument);
  const refuse = (reason: string): CommandCheckResult => ({
    verified: false,
    reason,
    // Whatever the caller claims comes from outside: kept escaped, it can always be projected.
    claimedActor: escapeForbiddenCharacters(claimedSub(token, argument)),
  });
  if (!token) return refuse('no command token');
  let claims: Partial<CommandClaims>;
  try {
    const verified = await jwtVerify(token, keySet, {
      algorithms: [COMMAND_TOKEN_ALG],
      typ: COMMAND_TOKEN_TYP,
      requiredClaims: ['iat', 'exp', 'jti'],
      currentDate: now,
      clockTolerance: skew,
    });
    claims = verified.payload as Partial<CommandClaims>;
  } catch (error) {
    if (error instanceof errors.JWTExpired) return refuse('the command token has expired');
    if (error instanceof errors.JWKSNoMatchingKey)
      return refuse('the command token is signed with an unknown key');
    if (error instanceof errors.JWSSignatureVerificationFailed)
      return refuse('the command token signature is invalid');
    return refuse(
      `the command token is invalid (${error instanceof errors.JOSEError ? error.code : 'malformed'})`,
    );
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const { wf, cmd, act, dig, iat, exp, jti } = claims;
  if (typeof iat !== 'number' || typeof exp !== 'number' || typeof jti !== 'string' || jti === '')
    return refuse('the command token lacks iat, exp or jti');
  if (exp - iat > MAX_COMMAND_TOKEN_LIFETIME_SECONDS) return refuse('the command token lives too long');
  if (iat > nowSeconds + skew) return refuse('the command token is issued in the future');
  if (wf !== workflowId) return refuse('the command token names another workflow');
  if (cmd !== name) return refuse(`the command token is for "${String(cmd)}", not "${name}"`);
  if (dig !== argumentDigest(argument))
    return refuse('the arguments are not the ones the command token signs');
  if (
    !act ||
    typeof act.sub !== 'string' ||
    !Array.isArray(act.roles) ||
    !act.roles.every((r) => typeof r === 'string')
  )
    return refuse('the command token names no actor');
  return { verified: true, actor: { sub: act.sub, roles: [...act.roles] }, jti, exp };
}

function tokenOf(argument: unknown): string | null {
  if (argument === null || typeof argument !== 'object') return null;
  const token = (argument as Record<string, unknown>)[COMMAND_TOKEN_FIELD];
  return typeof token === 'string' && token.length > 0 ? token : null;
}

/** The actor the argument claims (updates carry `actor`, a start `ownerId`). */
function claimedActorOf(argument: unknown): { sub: string; roles: string[] } {
  const record = (argument ?? {}) as { actor?: { sub?: unknown; roles?: unknown }; ownerId?: unknown };
  const sub =
    typeof record.actor?.sub === 'string'
      ? record.actor.sub
      : typeof record.ownerId === 'string'
        ? record.ownerId
        : 'unknown';
  const roles = Array.isArray(record.actor?.roles)
    ? record.actor.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return { sub, roles };
}

/** Whom a refused command claims to come from: the token's `act.sub` if it decodes, else the argument's actor. */
function claimedSub(token: string | null, argument: unknown): string {
  if (token) {
    try {
      const act = (decodeJwt(token) as Partial<CommandClaims>).act;
      if (act && typeof act.sub === 'string' && act.sub !== '') return act.sub.slice(0, 200);
    } catch {
      // Not even a JWT: fall back to the argument.
    }
  }
  return claimedActorOf(argument).sub.slice(0, 200);
}
