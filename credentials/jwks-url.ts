import { isIP } from 'node:net';

/**
 * Rules on the JWKS URL itself, before any name is resolved (docs/smart-rules.md U1, U2;
 * docs/architecture.md, JWKS fetching step 1 and Development mode).
 */
export type AppMode = 'development' | 'production';

export type JwksUrlVerdict =
  { ok: true; url: URL; canonical: string } | { ok: false; rule: string; message: string };

export const MAX_JWKS_URL_LENGTH = 2048;

/** Development mode exempts this host name (http or https) and nothing else. */
export function isDevelopmentLocalhost(url: URL, mode: AppMode): boolean {
  return mode === 'development' && url.hostname === 'localhost';
}

export function checkJwksUrl(raw: string, mode: AppMode): JwksUrlVerdict {
  if (raw.length > MAX_JWKS_URL_LENGTH) {
    return {
      ok: false,
      rule: 'U5',
      message: `the JWKS URL is longer than ${MAX_JWKS_URL_LENGTH} characters`,
    };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, rule: 'U1', message: `'${raw}' is not an absolute URL` };
  }
  const localhost = isDevelopmentLocalhost(url, mode);
  if (url.protocol !== 'https:' && !(localhost && url.protocol === 'http:')) {
    return {
      ok: false,
      rule: 'U1',
      message:
        `the JWKS URL must use https (SMART: "TLS-protected"), not ${url.protocol.replace(/:$/, '')}` +
        (mode === 'development' ? '; only http://localhost is exempt in development mode' : ''),
    };
  }
  if (url.username || url.password) {
    return {
      ok: false,
      rule: 'U2',
      message:
        'the JWKS URL must not contain a user name or password: the key set must be readable without credentials',
    };
  }
  if (raw.includes('#')) {
    return { ok: false, rule: 'U2', message: 'the JWKS URL must not contain a fragment (#…)' };
  }
  if (localhost) return { ok: true, url, canonical: url.href };
  if (url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) {
    return { ok: false, rule: 'U3', message: 'localhost is accepted only in development mode' };
  }
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    return {
      ok: false,
      rule: 'U1',
      message: 'the JWKS URL must name a host, not an IP address: a public certificate is issued for a name',
    };
  }
  if (url.port !== '') {
    // docs/architecture.md, JWKS fetching step 1: only the default https port, so the fetcher cannot be used to probe ports.
    return {
      ok: false,
      rule: 'U3',
      message: `the JWKS URL must use the default https port 443, not ${url.port}`,
    };
  }
  // WHATWG URL serialisation is the canonical form stored at registration: the jku check is a string match (U2, A3).
  return { ok: true, url, canonical: url.href };
}
