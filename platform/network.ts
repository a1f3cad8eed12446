import { lookup } from 'node:dns/promises';

/**
 * Name resolution is injected wherever the product or the Aidbox stand-in makes an outbound request
 * to an address someone else chose (JWKS URIs). Tests must never open a connection to a
 * non-loopback address (docs/architecture.md, "Tests never open a connection…"), so they inject
 * `localhostOnlyResolver`; production uses `systemResolver`.
 */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export class NameNotResolved extends Error {
  override name = 'NameNotResolved';
  constructor(readonly hostname: string) {
    super(`could not resolve host name '${hostname}'`);
  }
}

/** Knows only `localhost` (→ 127.0.0.1) and refuses every other name. */
export const localhostOnlyResolver: Resolver = async (hostname) => {
  if (hostname.toLowerCase() === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  throw new NameNotResolved(hostname);
};

/** The operating system's resolver (all A and AAAA answers). */
export const systemResolver: Resolver = async (hostname) => {
  try {
    const answers = await lookup(hostname, { all: true, verbatim: true });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } catch {
    throw new NameNotResolved(hostname);
  }
};

/** A resolver from a fixed table, for tests that need a name to resolve somewhere particular. */
export function staticResolver(table: Record<string, string | string[]>): Resolver {
  return async (hostname) => {
    const entry = table[hostname.toLowerCase()];
    if (!entry) throw new NameNotResolved(hostname);
    return (Array.isArray(entry) ? entry : [entry]).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  };
}
