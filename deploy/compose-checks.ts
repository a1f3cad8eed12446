import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse } from 'yaml';

/**
 * Checks of docker-compose.yml and the Dockerfile that need no Docker engine. Each returns the list
 * of problems it found (empty = fine), so the test can run the same function on the real files and
 * on mutated copies that must be rejected.
 */

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string | (string | { path: string })[];
  ports?: (string | number | { target?: number | string; published?: number | string; host_ip?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  [key: string]: unknown;
}

export interface ComposeDocument {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/** Parses compose YAML the way compose does: YAML 1.1 merge keys (`<<: *anchor`) are resolved. */
export function parseCompose(text: string): ComposeDocument {
  const doc = parse(text, { merge: true }) as ComposeDocument;
  if (!doc || typeof doc !== 'object' || typeof doc.services !== 'object') {
    throw new Error('not a compose document: no services');
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------
// 1. The compose specification's JSON schema

/**
 * The compose-spec JSON schema as shipped in the `dclint` package (its `schemas/compose.schema.json`
 * is the compose-spec project's `compose-spec.json`, copied verbatim by the package's release
 * script). Read from node_modules, pinned by package-lock.json, never fetched at run time.
 */
export function loadComposeSpecSchema(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve('dclint/package.json'));
  return JSON.parse(readFileSync(path.join(packageDir, 'schemas', 'compose.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

export type SchemaCheck = (doc: unknown) => string[];

export function composeSpecValidator(schema = loadComposeSpecSchema()): SchemaCheck {
  // The schema names its draft-07 meta-schema by an https URL Ajv does not register under that name;
  // the keywords are draft-07's, which Ajv's default meta-schema covers.
  const { $schema: _ignored, ...rest } = schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(rest);
  return (doc) => {
    if (validate(doc)) return [];
    return (validate.errors ?? []).map((e: ErrorObject) => {
      const where = e.instancePath || '(root)';
      const extra = 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : '';
      return `compose-spec: ${where} ${e.message ?? 'is invalid'}${extra}`;
    });
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Environment variables against the processes' zod config schemas

const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/** KEY=value lines of an env_file (comments and blank lines skipped). */
export function envFileEntries(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The service's `env_file` entries (paths relative to the repository), in order. */
export function envFilesOf(service: ComposeService | undefined): string[] {
  const files = service?.env_file;
  if (!files) return [];
  const list = Array.isArray(files) ? files : [files];
  return list.map((entry) => (typeof entry === 'string' ? entry : entry.path));
}

/** What the service's process sees: its env_file entries, then `environment` over them. */
export function environmentOf(service: ComposeService | undefined): Record<string, string> {
  const fromFiles = Object.assign(
    {},
    ...envFilesOf(service).map((file) => envFileEntries(readFileSync(path.resolve(REPO_ROOT, file), 'utf8'))),
  ) as Record<string, string>;
  return { ...fromFiles, ...ownEnvironmentOf(service) };
}

function ownEnvironmentOf(service: ComposeService | undefined): Record<string, string> {
  const env = service?.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Every variable passed to `service` must be a key of its process's config schema. */
export function environmentProblems(
  doc: ComposeDocument,
  rules: Record<string, { schema: string; keys: ReadonlySet<string> }>,
): string[] {
  const problems: string[] = [];
  for (const [name, { schema, keys }] of Object.entries(rules)) {
    const service = doc.services[name];
    if (!service) {
      problems.push(`service ${name} is missing`);
      continue;
    }
    for (const key of Object.keys(environmentOf(service))) {
      if (!keys.has(key)) problems.push(`services.${name}.environment.${key} is not a variable of ${schema}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 3. Ports against the defaults

export interface PortMapping {
  hostIp?: string;
  published?: number;
  target: number;
}

export function portsOf(service: ComposeService | undefined): PortMapping[] {
  return (service?.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return {
        target: Number(port.target),
        ...(port.published !== undefined ? { published: Number(port.published) } : {}),
        ...(port.host_ip ? { hostIp: port.host_ip } : {}),
      };
    }
    // Short syntax: [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]
    const parts = String(port)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const target = Number(parts.pop());
    const published = parts.length ? Number(parts.pop()) : undefined;
    const hostIp = parts.length ? parts.join(':') : undefined;
    return { target, ...(published !== undefined ? { published } : {}), ...(hostIp ? { hostIp } : {}) };
  });
}

export interface ExpectedPort {
  service: string;
  target: number;
  published: number;
  /** Only these services may publish on all interfaces; the rest must bind to loopback. */
  public?: boolean;
}

export function portProblems(doc: ComposeDocument, expected: readonly ExpectedPort[]): string[] {
  const problems: string[] = [];
  for (const want of expected) {
    const ports = portsOf(doc.services[want.service]);
    const match = ports.find((p) => p.target === want.target && p.published === want.published);
    if (!match) {
      problems.push(
        `services.${want.service}.ports must map host ${want.published} to container ${want.target}; found ${JSON.stringify(ports)}`,
      );
    } else if (!want.public && match.hostIp !== '127.0.0.1') {
      problems.push(
        `services.${want.service} publishes ${want.published} beyond loopback (bind it to 127.0.0.1)`,
      );
    }
  }
  for (const [name, service] of Object.entries(doc.services)) {
    if (service.ports?.length && !expected.some((e) => e.service === name)) {
      problems.push(`services.${name} publishes ports the deployment picture does not list`);
    }
  }
  return problems;
}

/** `host:port` → port. */
export function portOfAddress(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

// ---------------------------------------------------------------------------------------------
// 4. Image tags against the pinned versions

export function imageProblems(
  doc: ComposeDocument,
  expected: Record<string, string>,
  dockerfile: { text: string; image: string },
): string[] {
  const problems: string[] = [];
  for (const [name, image] of Object.entries(expected)) {
    const actual = doc.services[name]?.image;
    if (actual !== image) problems.push(`services.${name}.image is ${String(actual)}, expected ${image}`);
  }
  for (const [name, service] of Object.entries(doc.services)) {
    if (name in expected) continue;
    const build = service.build;
    const dockerfileName =
      typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : build ? 'Dockerfile' : undefined;
    if (dockerfileName !== 'Dockerfile') {
      problems.push(
        `services.${name} neither uses a pinned image nor builds from the repository's Dockerfile`,
      );
    }
  }
  const from = [...dockerfile.text.matchAll(/^\s*FROM\s+(\S+)/gim)].map((m) => m[1]);
  if (from.length !== 1 || from[0] !== dockerfile.image) {
    problems.push(`Dockerfile FROM ${from.join(', ') || '(none)'}, expected ${dockerfile.image}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 5. Search attributes registered by the admin job

/** Parses `Name=Type Name=Type …` (the SEARCH_ATTRIBUTES variable of temporal-setup). */
export function parseSearchAttributes(value: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of value.split(/\s+/).filter(Boolean)) {
    const [name, type, ...rest] = entry.split('=');
    result[name ?? ''] = rest.length ? `${type}=${rest.join('=')}` : (type ?? '');
  }
  return result;
}

export function searchAttributeProblems(
  doc: ComposeDocument,
  service: string,
  expected: Readonly<Record<string, string>>,
): string[] {
  const value = environmentOf(doc.services[service]).SEARCH_ATTRIBUTES;
  if (value === undefined) return [`services.${service}.environment.SEARCH_ATTRIBUTES is missing`];
  const actual = parseSearchAttributes(value);
  const problems: string[] = [];
  for (const [name, type] of Object.entries(expected)) {
    if (!(name in actual)) problems.push(`search attribute ${name} is not registered by ${service}`);
    else if (actual[name] !== type)
      problems.push(`search attribute ${name} is registered as ${actual[name]}, expected ${type}`);
  }
  for (const name of Object.keys(actual)) {
    if (!(name in expected))
      problems.push(
        `search attribute ${name} is registered by ${service} but not defined in workflows/search-attributes.ts`,
      );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 6. Start order and healthchecks

export type Condition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export function dependencyProblems(
  doc: ComposeDocument,
  expected: Record<string, Record<string, Condition>>,
  mustHaveHealthcheck: readonly string[],
): string[] {
  const problems: string[] = [];
  const conditionOf = (service: ComposeService | undefined, on: string): string | undefined => {
    const deps = service?.depends_on;
    if (!deps) return undefined;
    if (Array.isArray(deps)) return deps.includes(on) ? 'service_started' : undefined;
    return deps[on] ? (deps[on].condition ?? 'service_started') : undefined;
  };
  for (const [name, edges] of Object.entries(expected)) {
    for (const [on, condition] of Object.entries(edges)) {
      const actual = conditionOf(doc.services[name], on);
      if (actual !== condition) {
        problems.push(`services.${name}.depends_on.${on} is ${actual ?? 'missing'}, expected ${condition}`);
      }
    }
  }
  const hasHealthcheck = (service: ComposeService | undefined) =>
    Boolean(service?.healthcheck?.test) && !service?.healthcheck?.disable;
  for (const [name, service] of Object.entries(doc.services)) {
    const deps = service.depends_on;
    if (!deps || Array.isArray(deps)) continue;
    for (const [on, { condition }] of Object.entries(deps)) {
      if (!doc.services[on]) problems.push(`services.${name} depends on unknown service ${on}`);
      else if (condition === 'service_healthy' && !hasHealthcheck(doc.services[on])) {
        problems.push(`services.${name} waits for ${on} to be healthy but ${on} has no healthcheck`);
      }
    }
  }
  for (const name of mustHaveHealthcheck) {
    if (!hasHealthcheck(doc.services[name])) problems.push(`services.${name} has no healthcheck`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// 7. No hard-coded secrets, and every compose variable documented

const SECRET_NAME = /PASSWORD|PWD|SECRET|TOKEN|API_KEY|_KEYS?$/;
/** `${VAR}`, `${VAR:?message}`, `${VAR?message}` or `${VAR:-}` (empty default): nothing hard-coded. */
const FROM_ENVIRONMENT = /^\$\{[A-Z_][A-Z0-9_]*(?:(?::?\?[^}]*)|:-)?\}$/;
const FILE_PATH = /^\/[\w./-]+$/;
const URL_PASSWORD = /:\/\/[^:/@\s]+:([^@\s]*)@/;

export function secretProblems(doc: ComposeDocument): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services)) {
    for (const [key, value] of Object.entries(environmentOf(service))) {
      // A file path names where a key is (a mounted secret), it is not the key itself.
      if (SECRET_NAME.test(key) && !FROM_ENVIRONMENT.test(value) && !FILE_PATH.test(value)) {
        problems.push(
          `services.${name}.environment.${key} must come from the environment (\${${key}:?…}), not a literal`,
        );
      }
      const password = URL_PASSWORD.exec(value)?.[1];
      if (password !== undefined && !FROM_ENVIRONMENT.test(password)) {
        problems.push(`services.${name}.environment.${key} carries a literal password in its URL`);
      }
    }
  }
  return problems;
}

/** Names of the variables compose interpolates (`$${…}` is an escaped literal and is skipped). */
export function interpolatedVariables(composeText: string): Set<string> {
  const names = new Set<string>();
  for (const m of composeText.matchAll(/(\$*)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if ((m[1] ?? '').length % 2 === 0) names.add(m[2] ?? '');
  }
  return names;
}

export function envFileKeys(text: string): Set<string> {
  return new Set(
    text
      .split('\n')
      .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1])
      .filter((k): k is string => Boolean(k)),
  );
}

export function variableProblems(composeText: string, documented: ReadonlySet<string>): string[] {
  const used = interpolatedVariables(composeText);
  return [
    ...[...used]
      .filter((v) => !documented.has(v))
      .map((v) => `compose variable ${v} is not documented in deploy/compose.env.example`),
    ...[...documented]
      .filter((v) => !used.has(v))
      .map((v) => `deploy/compose.env.example lists ${v}, which docker-compose.yml does not use`),
  ];
}

// ---------------------------------------------------------------------------------------------
// 8. The worker's heap limits

/**
 * The worker service's command must pass Node the V8 flags of its memory budget (worker/memory-plan.ts:
 * without them V8 sizes its heaps from the host's memory and the worker grows far past its budget).
 * `flagsFor` gives the flags for the service's environment.
 */
export function workerHeapProblems(
  doc: ComposeDocument,
  flagsFor: (env: Record<string, string>) => string[],
): string[] {
  const service = doc.services.worker;
  if (!service) return ['service worker is missing'];
  const command = Array.isArray(service.command) ? service.command : (service.command ?? '').split(/\s+/);
  const env = environmentOf(service);
  const given = command.filter((part) => part.startsWith('--max-'));
  const wanted = flagsFor(env);
  return wanted.join(' ') === given.join(' ')
    ? []
    : [`services.worker.command passes [${given.join(' ')}], the memory budget wants [${wanted.join(' ')}]`];
}
