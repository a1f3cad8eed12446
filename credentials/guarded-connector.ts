import { isIP } from 'node:net';
import type { buildConnector } from 'undici';
import type { Resolver } from '../platform/network.js';
import { DEVELOPMENT_LOCALHOST_ADDRESS, type AddressPolicy } from './address-policy.js';
import type { AppMode } from './jwks-url.js';

/**
 * The SSRF guard of every request to an address someone else chose (docs/architecture.md, JWKS
 * fetching; docs/smart-rules.md U3): it sits in the connector, so the address checked is the
 * address connected to, on every connection; a name that re-resolves elsewhere between two
 * connections (DNS rebinding) is checked again.
 */

export type Connector = buildConnector.connector;

/** Raised inside the connector when the address is refused; no socket has been opened. */
export class ForbiddenAddress extends Error {
  override name = 'ForbiddenAddress';
  readonly code = 'JWKS_FORBIDDEN_ADDRESS';
  constructor(
    readonly hostname: string,
    readonly reason: string,
  ) {
    super(`'${hostname}' resolves to ${reason}, which the registry never connects to`);
  }
}

class ResolveTimeout extends Error {
  override name = 'ResolveTimeout';
  readonly code = 'JWKS_RESOLVE_TIMEOUT';
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The connector the fetcher's Agent uses: resolve (or take the literal), judge every answer, then
 * let the real connector dial exactly the judged address with the original name for SNI and
 * certificate checks. The JWKS fetcher (credentials/jwks-fetch.ts) and webhook deliveries
 * (notifications/webhook.ts) use it.
 */
export function guardedConnector(
  options: { mode: AppMode; resolver: Resolver; addressPolicy: AddressPolicy },
  real: Connector,
  resolveTimeoutMs: number,
): Connector {
  return (target, callback) => {
    const hostname = target.hostname.replace(/^\[|\]$/g, '');
    const pick = async (): Promise<string> => {
      // Development mode: the name localhost means 127.0.0.1 and nothing else (not ::1, not the resolver's answer).
      if (options.mode === 'development' && hostname === 'localhost') return DEVELOPMENT_LOCALHOST_ADDRESS;
      const answers =
        isIP(hostname) !== 0
          ? [hostname]
          : (
              await withTimeout(
                options.resolver(hostname),
                resolveTimeoutMs,
                () => new ResolveTimeout(`resolving '${hostname}' timed out`),
              )
            ).map((a) => a.address);
      if (answers.length === 0) throw new ForbiddenAddress(hostname, 'no address');
      // Every answer must pass, not only the first: the system may try the others on failure.
      for (const address of answers) {
        const verdict = options.addressPolicy(address);
        if (!verdict.allowed) throw new ForbiddenAddress(hostname, verdict.reason);
      }
      return answers[0]!;
    };
    pick().then(
      (address) =>
        real(
          { ...target, hostname: address, servername: isIP(hostname) === 0 ? hostname : undefined },
          callback,
        ),
      (error: Error) => callback(error, null),
    );
  };
}
