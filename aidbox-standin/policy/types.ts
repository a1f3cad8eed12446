/**
 * Types of the stand-in's AccessPolicy engine (docs/aidbox-contract.md §2.1).
 */

/** A reference as it appears in `AccessPolicy.link`: both spellings occur in the docs (section 2.2). */
export interface PolicyLink {
  reference?: string;
  resourceType?: string;
  id?: string;
}

/** An engine rule: the body of an AccessPolicy, or one sub-rule of a `complex` policy (section 2.1). */
export interface PolicyRule {
  engine?: string;
  matcho?: unknown;
  and?: PolicyRule[];
  or?: PolicyRule[];
  sql?: unknown;
  schema?: unknown;
  rpc?: unknown;
  [key: string]: unknown;
}

export interface AccessPolicyResource extends PolicyRule {
  resourceType?: 'AccessPolicy';
  id?: string;
  description?: string;
  type?: string;
  link?: PolicyLink[];
}

/**
 * The request object policies match against (docs/aidbox-contract.md §2.1). Keys are Aidbox's own
 * spellings (`request-method`, `query-string`, `params.resource/type`, …). It is an open record so
 * that matcho `.path` expressions can reach any part of it.
 */
export interface PolicyRequest {
  'request-method': string;
  scheme: string;
  uri: string;
  'query-string'?: string;
  params: Record<string, string | string[]>;
  operation: { id: string };
  resource?: unknown;
  body?: unknown;
  jwt?: Record<string, unknown>;
  client?: Record<string, unknown>;
  user?: Record<string, unknown>;
  session?: Record<string, unknown>;
  headers?: Record<string, string>;
  'remote-addr'?: string;
  [key: string]: unknown;
}
