import { ForbiddenAddress } from './guarded-connector.js';

/**
 * How a JWKS fetch fails: a kind, the docs/smart-rules.md rule it breaks and a cause a developer can
 * act on, never a response body and never an internal address.
 */

export type JwksFetchFailureKind =
  | 'url'
  | 'forbidden-address'
  | 'unresolvable'
  | 'connect-timeout'
  | 'timeout'
  | 'tls'
  | 'unreachable'
  | 'redirect'
  | 'http-status'
  | 'content-type'
  | 'too-large'
  | 'not-json';

export interface JwksFetchFailed {
  ok: false;
  url: string;
  kind: JwksFetchFailureKind;
  /** Rule id of docs/smart-rules.md the failure breaks. */
  rule: string;
  /** For the developer: the cause in a sentence; never a response body, never an internal address. */
  message: string;
}

/** Thrown inside a fetch to end it with this failure. */
export class FetchStop extends Error {
  constructor(readonly failure: Omit<JwksFetchFailed, 'ok' | 'url'>) {
    super(failure.message);
  }
}

function errorChain(error: unknown): Array<{ name?: string; code?: string; message?: string }> {
  const chain: Array<{ name?: string; code?: string; message?: string }> = [];
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    chain.push(current as { name?: string; code?: string; message?: string });
    const next = current as { cause?: unknown; errors?: unknown[] };
    current = next.cause ?? (Array.isArray(next.errors) ? next.errors[0] : undefined);
  }
  return chain;
}

const TLS_CODES = /^(CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;

/** Turns a failure into a cause a developer can act on, without echoing internals. */
export function classifyFetchError(
  error: unknown,
  host: string,
  limits: { connectTimeoutMs: number; totalTimeoutMs: number },
  timedOut: boolean,
): Omit<JwksFetchFailed, 'ok' | 'url'> {
  if (error instanceof FetchStop) return error.failure;
  const chain = errorChain(error);
  const forbidden = chain.find((e): e is ForbiddenAddress => e instanceof ForbiddenAddress);
  if (forbidden) {
    return {
      kind: 'forbidden-address',
      rule: 'U3',
      message: `the JWKS host ${forbidden.message}: loopback, private, link-local, unique-local, CGNAT, metadata and other non-public addresses are refused`,
    };
  }
  if (chain.some((e) => e.name === 'NameNotResolved' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')) {
    return { kind: 'unresolvable', rule: 'U4', message: `the host name '${host}' could not be resolved` };
  }
  if (chain.some((e) => e.code === 'JWKS_RESOLVE_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT')) {
    return {
      kind: 'connect-timeout',
      rule: 'U5',
      message: `no connection to '${host}' within ${limits.connectTimeoutMs} ms`,
    };
  }
  if (
    timedOut ||
    chain.some(
      (e) =>
        e.name === 'TimeoutError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT',
    )
  ) {
    return {
      kind: 'timeout',
      rule: 'U5',
      message: `'${host}' did not deliver the JWKS within ${limits.totalTimeoutMs} ms`,
    };
  }
  const tls = chain.find((e) => typeof e.code === 'string' && TLS_CODES.test(e.code));
  if (tls) {
    return {
      kind: 'tls',
      rule: 'U1',
      message: `the TLS connection to '${host}' failed (${tls.code}): the JWKS must be served over TLS 1.2 or later with a certificate from a public CA that names the host`,
    };
  }
  const code = chain.find((e) => typeof e.code === 'string')?.code;
  return {
    kind: 'unreachable',
    rule: 'U4',
    message: `'${host}' could not be reached${code ? ` (${code})` : ''}`,
  };
}
