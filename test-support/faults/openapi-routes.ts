/**
 * The API's routes as the fault suite reads them from its own OpenAPI document: method, path
 * template, parameters by place, whether a bearer token is required, and the JSON body schema with
 * its `$ref`s resolved.
 */
export interface RouteSpec {
  method: string;
  /** OpenAPI path template, e.g. /v1/backend-services/{id}. */
  path: string;
  pathParams: string[];
  query: string[];
  headers: string[];
  secured: boolean;
  /** The request body schema with $refs resolved, or null. */
  body: JsonSchema | null;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  $ref?: string;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}
interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: unknown[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

export function routesOf(doc: OpenApiDocument): RouteSpec[] {
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (schema.$ref) return resolve(doc.components!.schemas![schema.$ref.split('/').at(-1)!]!);
    const out: JsonSchema = { ...schema };
    if (schema.properties)
      out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, resolve(v)]));
    if (schema.oneOf) out.oneOf = schema.oneOf.map(resolve);
    if (schema.items) out.items = resolve(schema.items);
    return out;
  };
  const routes: RouteSpec[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (!METHODS.includes(method)) continue;
      const params = (where: string) =>
        (op.parameters ?? []).filter((p) => p.in === where).map((p) => p.name);
      const content = op.requestBody?.content['application/json'];
      routes.push({
        method: method.toUpperCase(),
        path,
        pathParams: params('path'),
        query: params('query'),
        headers: params('header'),
        secured: (op.security ?? []).length > 0,
        body: content ? resolve(content.schema) : null,
      });
    }
  }
  return routes;
}
