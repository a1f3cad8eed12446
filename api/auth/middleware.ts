import type { MiddlewareHandler } from 'hono';
import { ApiProblem, unavailable } from '../problems.js';
import type { Principal } from './principal.js';
import { InvalidToken, IssuerUnavailable, type TokenVerifier } from './verifier.js';

export interface AuthVariables {
  principal: Principal;
}

/** Requires `Authorization: Bearer <JWT>`; sets `c.var.principal`. Never logs or echoes the token. */
export function requireBearer(verify: TokenVerifier): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!match)
      throw unauthenticated(
        header ? 'The Authorization header is not a Bearer token.' : 'A Bearer token is required.',
      );
    try {
      c.set('principal', await verify(match[1]!));
    } catch (error) {
      if (error instanceof IssuerUnavailable) throw unavailable(error.message, 10);
      if (error instanceof InvalidToken)
        throw unauthenticated(`The bearer token was refused: ${error.message}.`, 'invalid_token');
      throw error;
    }
    await next();
  };
}

function unauthenticated(detail: string, error?: string): ApiProblem {
  const challenge = error ? `Bearer error="${error}"` : 'Bearer';
  return new ApiProblem('unauthenticated', detail, {}, { 'WWW-Authenticate': challenge });
}
