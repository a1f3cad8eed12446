import type { JwksFetcher, JwksFetchResult } from './jwks-fetch.js';
import type { DocumentFinding, JwksReport } from './jwks-report.js';
import { validateJwks, type JwksValidation, type JwksValidationOptions } from './jwks-validate.js';

/**
 * Fetch + validate → one report. The fetch outcome becomes document-level findings (U-rules), the
 * document is judged key by key (D-rules).
 */

function cacheControlFinding(cacheControl: string | null): DocumentFinding | null {
  // U6 (SP1 req 303): the client SHOULD send Cache-Control; a warning, never a refusal.
  if (cacheControl === null || cacheControl.trim() === '') {
    return {
      rule: 'U6',
      severity: 'warning',
      message:
        'the JWKS response has no Cache-Control header; SMART asks for one so token endpoints know how long to cache the keys (e.g. "Cache-Control: max-age=300")',
    };
  }
  return null;
}

function summarise(valid: boolean, findings: DocumentFinding[], validation: JwksValidation | null): string {
  const keys = validation?.keys ?? [];
  if (valid) {
    const usable = keys.filter((k) => k.status === 'usable');
    return `The JWKS is valid: ${usable.length} usable key${usable.length === 1 ? '' : 's'} (${usable.map((k) => `'${k.kid}' ${k.usableAlgorithms.join('/')}`).join(', ')}).`;
  }
  // The cause before its consequence: a rejected key first, "no usable key" (D2) only when nothing else explains it.
  const firstError =
    findings.find((f) => f.severity === 'error' && f.rule !== 'D2')?.message ??
    keys.flatMap((k) => k.checks).find((c) => !c.passed && c.severity === 'error')?.message ??
    findings.find((f) => f.severity === 'error')?.message ??
    'it is not acceptable';
  return `The JWKS is not acceptable: ${firstError}.`;
}

export function buildJwksReport(input: {
  jwksUri: string | null;
  checkedAt: string;
  fetched: JwksFetchResult | null;
  validation: JwksValidation | null;
}): JwksReport {
  const findings: DocumentFinding[] = [];
  const { fetched, validation } = input;
  if (fetched && !fetched.ok)
    findings.push({ rule: fetched.rule, severity: 'error', message: fetched.message });
  if (fetched?.ok) {
    const cache = cacheControlFinding(fetched.cacheControl);
    if (cache) findings.push(cache);
  }
  if (validation) findings.push(...validation.findings);
  const valid = validation !== null && validation.valid && !findings.some((f) => f.severity === 'error');
  return {
    valid,
    summary: summarise(valid, findings, validation),
    jwksUri: input.jwksUri,
    checkedAt: input.checkedAt,
    fetch: fetched?.ok
      ? {
          finalUrl: fetched.finalUrl,
          status: fetched.status,
          contentType: fetched.contentType,
          cacheControl: fetched.cacheControl,
          bytes: fetched.bytes,
          redirected: fetched.redirected,
        }
      : null,
    findings,
    keys: validation?.keys ?? [],
    thumbprints: validation?.thumbprints ?? {},
  };
}

/** Fetches the JWKS URI and judges what came back. Never throws for anything the URI's owner controls. */
export async function checkJwksUri(
  fetcher: JwksFetcher,
  jwksUri: string,
  options: JwksValidationOptions & { now?: Date } = {},
): Promise<JwksReport> {
  const fetched = await fetcher(jwksUri);
  const validation = fetched.ok ? await validateJwks(fetched.document, options) : null;
  return buildJwksReport({
    jwksUri,
    checkedAt: (options.now ?? new Date()).toISOString(),
    fetched,
    validation,
  });
}

/** D14: an inline JWKS (admin-only option) is judged by the same rules, without the fetch findings. */
export async function checkInlineJwks(
  document: unknown,
  options: JwksValidationOptions & { now?: Date } = {},
): Promise<JwksReport> {
  const validation = await validateJwks(document, options);
  return buildJwksReport({
    jwksUri: null,
    checkedAt: (options.now ?? new Date()).toISOString(),
    fetched: null,
    validation,
  });
}
