/**
 * Error bodies as Aidbox sends them (docs/aidbox-contract.md §6, "Error body"): always a FHIR
 * OperationOutcome, auth-layer 401/403 included. The token endpoint is the exception: OAuth
 * `{error, error_description}` bodies (section 4).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly diagnostics: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(diagnostics);
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  id: string;
  text: { status: 'generated'; div: string };
  issue: Array<{
    severity: 'fatal' | 'error' | 'warning' | 'information';
    code: string;
    diagnostics: string;
  }>;
}

const TITLES: Record<string, string> = {
  forbidden: 'Forbidden',
  'not-found': 'Resource not found',
  deleted: 'Resource was deleted',
  conflict: 'Conflict',
  invalid: 'Invalid request',
  login: 'Unauthorized',
  'not-supported': 'Not supported',
  exception: 'Internal error',
  throttled: 'Too many requests',
  transient: 'Service unavailable',
};

export function operationOutcome(
  code: string,
  diagnostics: string,
  severity: 'fatal' | 'error' = 'error',
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id: code,
    text: { status: 'generated', div: TITLES[code] ?? code },
    issue: [{ severity, code, diagnostics }],
  };
}

export const notFound = (what: string) => new HttpError(404, 'not-found', `${what} not found`);
export const forbidden = (why = 'Access denied by AccessPolicy') => new HttpError(403, 'forbidden', why);
export const invalid = (why: string, status = 422) => new HttpError(status, 'invalid', why);
export const conflict = (why: string, status = 409) => new HttpError(status, 'conflict', why);
export const unauthorized = (why: string, bearer = false) =>
  new HttpError(
    401,
    'login',
    why,
    bearer
      ? { 'WWW-Authenticate': 'Bearer error="invalid_token"' }
      : { 'WWW-Authenticate': 'Basic realm="aidbox"' },
  );
