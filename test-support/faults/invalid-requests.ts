import fc from 'fast-check';
import type { JsonSchema, RouteSpec } from './openapi-routes.js';

/**
 * Invalid requests for every route of the API, generated from its own OpenAPI document (so a new
 * route cannot be missed), each carrying exactly one defect that must stop it before it changes
 * anything. The rest of the request is made valid on purpose (a real service, the right role, a
 * correct body and If-Match), so the defect alone is what the API has to catch. The routes come
 * from openapi-routes.ts.
 */

/** What a generated request may use: the services it targets and everyone's headers. */
export interface Fixtures {
  /** A draft owned by alice (PATCH, submit, rotate, recheck, assertion-check target it). */
  draft: { id: string; revision: number };
  /** Under review (approve and reject target it). */
  review: { id: string; revision: number; policyHash: string };
  /** Active (deactivate and the read routes target it). */
  active: { id: string };
  bearer: Record<'alice' | 'ada' | 'mallory' | 'impostor', Record<string, string>>;
}

export interface GeneratedRequest {
  route: RouteSpec;
  defect: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The raw body sent, and its JSON value when it is JSON. */
  body?: string;
  json?: unknown;
}

const isAdmin = (r: RouteSpec) => r.path.startsWith('/v1/admin/');

/** The one request to this route that would be accepted (and, for a mutating route, apply). */
export function validRequest(route: RouteSpec, f: Fixtures): GeneratedRequest {
  const target = /approve|reject/.test(route.path)
    ? f.review.id
    : /deactivate/.test(route.path)
      ? f.active.id
      : route.path.startsWith('/problems')
        ? 'not-found'
        : f.draft.id;
  const url = route.path.replace('{id}', target).replace('{name}', 'not-found');
  const headers: Record<string, string> = route.secured
    ? { ...(isAdmin(route) ? f.bearer.ada : f.bearer.alice) }
    : {};
  if (route.method === 'PATCH') headers['If-Match'] = `"${f.draft.revision}"`;
  const json = validBody(route, f);
  if (json === undefined) return { route, defect: 'none', method: route.method, url, headers };
  headers['Content-Type'] = 'application/json';
  return { route, defect: 'none', method: route.method, url, headers, body: JSON.stringify(json), json };
}

function validBody(route: RouteSpec, f: Fixtures): Record<string, unknown> | undefined {
  if (!route.body) return undefined;
  if (route.method === 'PATCH') return { name: 'Renamed by a valid request' };
  if (route.path.endsWith('/approve'))
    return { revision: f.review.revision, policyHash: f.review.policyHash };
  if (/reject|deactivate/.test(route.path)) return { reason: 'A reason' };
  if (route.path.endsWith('/assertion-check')) return { environment: 'sandbox', clientAssertion: 'x.y.z' };
  return {
    name: 'Acme bulk export',
    contactEmail: 'ops@acme.example',
    authMethod: { type: 'client_secret' },
    scopes: { version: 'v2', rules: [{ resource: 'Patient', operations: ['read'] }] },
  };
}

const jsonTypeOf = (v: unknown) =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number' && Number.isInteger(v)
        ? 'integer'
        : typeof v;

/** A JSON value whose type the schema does not allow (never null where a merge-patch would delete). */
function wrongType(schema: JsonSchema, allowNull: boolean): fc.Arbitrary<unknown> {
  const allowed = new Set(
    schema.oneOf ? ['object'] : Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object'],
  );
  if (allowed.has('number')) allowed.add('integer');
  return fc
    .oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.string(),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
      fc.constant(null),
    )
    .filter((v) => {
      const t = jsonTypeOf(v);
      if (v === null && !allowNull) return false;
      return !(allowed.has(t) || (t === 'integer' && allowed.has('number')));
    });
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** An otherwise valid body with one guaranteed defect; `undefined` json = the body is not JSON. */
function badBody(
  route: RouteSpec,
  f: Fixtures,
): fc.Arbitrary<{ body: string; json?: unknown; defect: string }> {
  const valid = validBody(route, f)!;
  const schema = route.body!;
  const keys = Object.keys(schema.properties ?? {});
  // PATCH validates the merged registration: its own schema is open, so mutate its fields by the registration's types.
  const typed = (key: string) => schema.properties?.[key] ?? {};
  const withJson = (defect: string) => (json: unknown) => ({ body: JSON.stringify(json), json, defect });
  const options: Array<fc.Arbitrary<{ body: string; json?: unknown; defect: string }>> = [
    fc
      .string({ maxLength: 60 })
      .map((text) => `{${text}`)
      // `{` + `}` is JSON after all: such a body is not this defect.
      .filter((body) => !parsesAsJson(body))
      .map((body) => ({ body, defect: 'body: not JSON' })),
    fc
      .oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.integer(), fc.string(), fc.constant(null))
      .map(withJson('body: not an object')),
    fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !keys.includes(k) && k !== '__proto__'),
        fc.jsonValue(),
      )
      .map(([k, v]) => ({ ...valid, [k]: v }))
      .map(withJson('body: unknown field')),
  ];
  const typedKeys = route.method === 'PATCH' ? ['name', 'contactEmail', 'authMethod', 'scopes'] : keys;
  if (typedKeys.length > 0) {
    options.push(
      fc
        .constantFrom(...typedKeys)
        .chain((k) =>
          wrongType(route.method === 'PATCH' ? patchFieldType(k) : typed(k), route.method !== 'PATCH').map(
            (v) => ({ ...valid, [k]: v }),
          ),
        )
        .map(withJson('body: wrong type')),
    );
  }
  const required = (schema.required ?? []).filter((k) => k in valid);
  if (required.length > 0 && route.method !== 'PATCH') {
    options.push(
      fc
        .constantFrom(...required)
        .map((k) => Object.fromEntries(Object.entries(valid).filter(([key]) => key !== k)))
        .map(withJson('body: required field missing')),
    );
  }
  return fc.oneof(...options);
}

const patchFieldType = (key: string): JsonSchema =>
  ({
    name: { type: 'string' },
    contactEmail: { type: 'string' },
    authMethod: { type: 'object' },
    scopes: { type: 'object' },
  })[key] ?? {};

const badIdempotencyKey = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 256, maxLength: 300, unit: fc.constantFrom('a', 'b', '1') }),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(' ', '\t', 'é', '\u0001', '\u007f'))
    .map(([s, c]) => `${s}${c}${s}`),
);

/** Values of query parameters this API validates (a free-text filter has no invalid value but its length). */
const badQuery: Record<string, fc.Arbitrary<string>> = {
  limit: fc.oneof(fc.constantFrom('0', '101', '-1', '1.5', 'ten', ''), fc.integer({ min: 101 }).map(String)),
  status: fc
    .string({ maxLength: 12 })
    .filter((s) => !['draft', 'under_review', 'active', 'rejected'].includes(s)),
  cursor: fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }).map((s) => Buffer.from(s).toString('base64url')),
    fc.string({ minLength: 513, maxLength: 600 }),
  ),
  search: fc.string({ minLength: 201, maxLength: 260 }),
  ownerId: fc.string({ minLength: 256, maxLength: 300 }),
  organizationId: fc.string({ minLength: 65, maxLength: 90 }),
};

/** Path segments that are not a service ID this API answers for (malformed, or well formed and unknown). */
const badId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.stringMatching(/^bs-[a-z0-9]{1,32}$/).map((id) => `${id}`),
  fc.constantFrom('BS-UPPER', 'bs-', '..', '%2e%2e', 'bs-a%2Fb'),
);

/** Defects a route can carry. Each is refused before the handler can change anything. */
export function invalidRequest(
  route: RouteSpec,
  f: Fixtures,
  /** Every method some route of this API answers on the same path: those are that route, not a defect. */
  methodsOnPath: ReadonlySet<string> = new Set([route.method]),
): fc.Arbitrary<GeneratedRequest> {
  const base = validRequest(route, f);
  const with_ = (defect: string, change: (r: GeneratedRequest) => GeneratedRequest) =>
    change({ ...base, headers: { ...base.headers }, defect });
  const otherMethods = ['PUT', 'DELETE', 'PATCH', 'POST'].filter((m) => !methodsOnPath.has(m));
  const defects: Array<fc.Arbitrary<GeneratedRequest>> = [
    fc.constantFrom(...otherMethods).map((method) => with_(`method ${method}`, (r) => ({ ...r, method }))),
  ];
  if (route.secured) {
    defects.push(
      fc.constant(null).map(() => with_('no token', (r) => ({ ...r, headers: withoutAuth(r.headers) }))),
      fc
        .oneof(
          fc.string({ maxLength: 80 }).map((t) => ({ Authorization: `Bearer ${t}` })),
          fc.constant(f.bearer.impostor),
          fc.string({ maxLength: 30 }).map((t) => ({ Authorization: t })),
        )
        .map((auth) =>
          with_('bad token', (r) => ({ ...r, headers: { ...withoutAuth(r.headers), ...auth } })),
        ),
    );
    if (isAdmin(route))
      defects.push(
        fc.constant(null).map(() =>
          with_('developer on an admin route', (r) => ({
            ...r,
            headers: { ...withoutAuth(r.headers), ...f.bearer.alice },
          })),
        ),
      );
    else if (route.pathParams.includes('id'))
      defects.push(
        fc.constant(null).map(() =>
          with_('not the owner', (r) => ({
            ...r,
            headers: { ...withoutAuth(r.headers), ...f.bearer.mallory },
          })),
        ),
      );
  }
  for (const name of route.pathParams)
    defects.push(
      badId.map((id) => with_(`path ${name}`, (r) => ({ ...r, url: route.path.replace(`{${name}}`, id) }))),
    );
  for (const name of route.query.filter((q) => q in badQuery))
    defects.push(
      badQuery[name]!.map((value) =>
        with_(`query ${name}`, (r) => ({ ...r, url: `${r.url}?${new URLSearchParams({ [name]: value })}` })),
      ),
    );
  if (route.headers.includes('idempotency-key'))
    defects.push(
      badIdempotencyKey.map((key) =>
        with_('header Idempotency-Key', (r) => ({ ...r, headers: { ...r.headers, 'Idempotency-Key': key } })),
      ),
    );
  if (route.headers.includes('if-match'))
    defects.push(
      fc
        .oneof(fc.constant(undefined), fc.constantFrom('"999"', '"0"', 'garbage', 'W/"x"', '*'))
        .map((ifMatch) =>
          with_('header If-Match', (r) => {
            const headers = { ...r.headers };
            if (ifMatch === undefined) delete headers['If-Match'];
            else headers['If-Match'] = ifMatch;
            return { ...r, headers };
          }),
        ),
    );
  if (route.body)
    defects.push(
      badBody(route, f).map(({ body, json, defect }) => with_(defect, (r) => ({ ...r, body, json }))),
    );
  return fc.oneof(...defects);
}

const withoutAuth = (headers: Record<string, string>) => {
  const { Authorization: _a, ...rest } = headers;
  return rest;
};

/** Every route, each with its defects, weighted equally per route. */
export const invalidRequests = (routes: RouteSpec[], f: Fixtures) =>
  fc.oneof(
    ...routes.map((r) =>
      invalidRequest(r, f, new Set(routes.filter((o) => o.path === r.path).map((o) => o.method))),
    ),
  );

/** RFC 6901 pointer lookup: whether `pointer` names a value inside `doc`. */
function resolvePointer(doc: unknown, pointer: string): { found: boolean; value?: unknown } {
  if (pointer === '') return { found: true, value: doc };
  let value = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return { found: false };
    value = (value as Record<string, unknown>)[key];
  }
  return { found: true, value };
}

/** Every property name the route's body schema declares, at any depth. */
function declaredProperties(schema: JsonSchema | null, into = new Set<string>()): Set<string> {
  if (!schema) return into;
  for (const [k, v] of Object.entries(schema.properties ?? {})) {
    into.add(k);
    declaredProperties(v, into);
  }
  for (const s of schema.oneOf ?? []) declaredProperties(s, into);
  declaredProperties(schema.items ?? null, into);
  return into;
}

/**
 * Whether a 400's field names something real in this request: a parameter or header of the route,
 * or a JSON pointer into the body that exists, or names a declared member missing from an object
 * that exists (a required field left out). `''` is the whole body, real when a body was sent.
 */
export function isRealField(field: string, request: GeneratedRequest): boolean {
  const names = [...request.route.pathParams, ...request.route.query, ...request.route.headers].map((n) =>
    n.toLowerCase(),
  );
  if (names.includes(field.toLowerCase())) return true;
  if (request.body === undefined || (field !== '' && !field.startsWith('/'))) return false;
  if (request.json === undefined) return field === '';
  if (resolvePointer(request.json, field).found) return true;
  const cut = field.lastIndexOf('/');
  const parent = resolvePointer(request.json, field.slice(0, cut));
  const last = field
    .slice(cut + 1)
    .replaceAll('~1', '/')
    .replaceAll('~0', '~');
  return (
    parent.found &&
    typeof parent.value === 'object' &&
    parent.value !== null &&
    declaredProperties(request.route.body).has(last)
  );
}
