import type { FieldError } from '../platform/zod-field-errors.js';

export type { FieldError };

/**
 * RFC 9457 problem types of this API (docs/api.md, Errors: each `type` URI is listed in the OpenAPI document).
 * The type URIs are relative references resolved against the API's base URL, so they stay the same
 * in every deployment; `/problems/{name}` answers with the description below.
 */
export const PROBLEM_TYPES = {
  'validation-error': { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'A valid bearer token is required' },
  forbidden: { status: 403, title: 'Not allowed for your role' },
  'self-approval': { status: 403, title: 'Nobody may approve a service they own' },
  'command-not-authorized': {
    status: 403,
    title: 'The service refused the command: its token did not verify (missing, forged, expired or replayed)',
  },
  'not-found': { status: 404, title: 'Not found' },
  'invalid-transition': { status: 409, title: 'The service is not in a state that allows this' },
  'stale-review': { status: 409, title: 'What you reviewed is not what is under review' },
  'credentials-invalid': { status: 409, title: 'The registered JWKS does not pass validation' },
  'idempotency-in-flight': {
    status: 409,
    title: 'A request with this Idempotency-Key is still being processed',
  },
  'precondition-failed': { status: 412, title: 'The service changed since you read it' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'idempotency-key-reused': { status: 422, title: 'This Idempotency-Key was used with another request body' },
  'precondition-required': { status: 428, title: 'If-Match is required' },
  'quota-exceeded': { status: 429, title: 'You hold as many services as you may' },
  'rate-limited': { status: 429, title: 'Too many services created in a short time' },
  'provisioning-failed': { status: 502, title: 'Aidbox did not accept the change' },
  'service-unavailable': { status: 503, title: 'A dependency is unavailable; retry later' },
  'internal-error': { status: 500, title: 'Internal Server Error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemName = keyof typeof PROBLEM_TYPES;

export const isProblemName = (name: string): name is ProblemName => Object.hasOwn(PROBLEM_TYPES, name);

export const problemTypeUri = (name: ProblemName) => `/problems/${name}`;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  currentStatus?: string;
  [extension: string]: unknown;
}

/** Thrown anywhere in a request; the one error mapper (errors.ts) turns it into problem+json. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  readonly status: number;
  constructor(
    readonly problem: ProblemName,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = PROBLEM_TYPES[problem].status;
  }

  body(): ProblemBody {
    const { title } = PROBLEM_TYPES[this.problem];
    return {
      type: problemTypeUri(this.problem),
      title,
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
  }
}

export const notFound = (what = 'No such backend service.') => new ApiProblem('not-found', what);
export const forbidden = (detail: string) => new ApiProblem('forbidden', detail);
export const validationError = (
  errors: FieldError[],
  detail = 'The request has invalid fields; see errors.',
) => new ApiProblem('validation-error', detail, { errors });
export const unavailable = (detail: string, retryAfterSeconds = 5) =>
  new ApiProblem('service-unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) });

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemResponse(problem: ApiProblem): Response {
  return new Response(JSON.stringify(problem.body()), {
    status: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...problem.headers },
  });
}
