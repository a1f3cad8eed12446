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

/**
 * How bad a failed rule is, worst first: published private or secret key material (D5) means the key
 * is compromised and outranks everything; then a symmetric key (D6), text that could break storage
 * (D15), then whether the set is a usable JWK Set at all, then key-level defects, then duplicates (D4).
 * "No usable key" (D2) is a consequence, named only when nothing else explains it.
 */
const RULE_SEVERITY_ORDER = [
  'D5',
  'D6',
  'D15',
  'D1',
  'U1',
  'U2',
  'U3',
  'U4',
  'U5',
  'U7',
  'D3',
  'D7',
  'D8',
  'D10',
  'D12',
  'D9',
  'D11',
  'D4',
  'U6',
  'D2',
];
const rank = (rule: string) => {
  const index = RULE_SEVERITY_ORDER.indexOf(rule);
  return index < 0 ? RULE_SEVERITY_ORDER.length - 2 : index;
};

/** Findings worst first: errors before warnings, then by rule severity; stable otherwise. */
export function bySeverity<T extends { rule: string; severity: 'error' | 'warning' }>(items: T[]): T[] {
  return [...items].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) || rank(a.rule) - rank(b.rule),
  );
}

function summarise(valid: boolean, findings: DocumentFinding[], validation: JwksValidation | null): string {
  const keys = validation?.keys ?? [];
  if (valid) {
    const usable = keys.filter((k) => k.status === 'usable');
    return `The JWKS is valid: ${usable.length} usable key${usable.length === 1 ? '' : 's'} (${usable.map((k) => `'${k.kid}' ${k.usableAlgorithms.join('/')}`).join(', ')}).`;
  }
  const errors = bySeverity([
    ...findings.filter((f) => f.severity === 'error'),
    ...keys.flatMap((k) => k.checks).filter((c) => !c.passed && c.severity === 'error'),
  ]);
  return `The JWKS is not acceptable: ${errors[0]?.message ?? 'it is not acceptable'}.`;
}

/** Each key's checks: failures worst first, then passes, so the page lists the worst problem first. */
function orderKeyChecks(validation: JwksValidation | null): JwksValidation['keys'] {
  return (validation?.keys ?? []).map((key) => ({
    ...key,
    checks: [...bySeverity(key.checks.filter((c) => !c.passed)), ...key.checks.filter((c) => c.passed)],
  }));
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
    findings: bySeverity(findings),
    keys: orderKeyChecks(validation),
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
