import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_FILES,
  SERVER_SERVICES,
  serverEnvFile,
  serverEnvironment,
  setupEnvFile,
  uiEnvFile,
  uiServerEnvironment,
  type ServerRole,
} from '../platform/temporal-cluster-config.js';
import {
  envFilesOf,
  environmentOf,
  parseCompose,
  type ComposeDocument,
  type ComposeService,
} from './compose-checks.js';

/**
 * One source for the topology: docker-compose.yml and `npm run cluster` (platform/temporal-cluster-config.ts)
 * take the Temporal server's, the Web UI server's and the namespace's settings from the same files
 * under deploy/temporal/. This fails when they disagree: another file, a fixed setting overridden
 * by one of them, a variable the templates need that one of them does not provide, or another split
 * of the server's services into processes.
 */
const root = path.resolve(import.meta.dirname, '..');
const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parseCompose(composeText);
const rel = (file: string) => path.relative(root, file);

/** Compose's server process of each cluster role. */
const COMPOSE_SERVER: Record<ServerRole, string> = {
  frontend: 'temporal',
  history: 'temporal-history',
  matching: 'temporal-matching',
  worker: 'temporal-worker',
};

/** Variables a Go template reads with `env "X"`, and those it gives a default (`default "…" (env "X")`). */
function templateVariables(file: string): { all: Set<string>; required: Set<string> } {
  const text = readFileSync(file, 'utf8');
  const all = new Set([...text.matchAll(/env "([A-Z0-9_]+)"/g)].map((m) => m[1]!));
  const defaulted = new Set([...text.matchAll(/default [^()]*\(env "([A-Z0-9_]+)"\)/g)].map((m) => m[1]!));
  return { all, required: new Set([...all].filter((v) => !defaulted.has(v))) };
}

function mounts(service: ComposeService | undefined): string[] {
  return ((service?.volumes as string[] | undefined) ?? []).map((v) => String(v).split(':')[0]!);
}

const certs = {
  ca: '/tls/ca.pem',
  frontend: { cert: '/tls/frontend.pem', key: '/tls/frontend.key' },
  internode: { cert: '/tls/internode.pem', key: '/tls/internode.key' },
  clients: {
    worker: { cert: '/w.pem', key: '/w.key' },
    api: { cert: '/a.pem', key: '/a.key' },
    ui: { cert: '/u.pem', key: '/u.key' },
    admin: { cert: '/x.pem', key: '/x.key' },
  },
};
const clusterServerEnv = serverEnvironment({
  postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' },
  databases: { temporal: 't', visibility: 'v' },
  certs,
  ports: { FRONTEND_GRPC_PORT: '7333' },
  jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json',
  logLevel: 'warn',
});
const clusterUiEnv = uiServerEnvironment({
  address: '127.0.0.1:7333',
  port: 8080,
  publicUrl: 'http://localhost:8333',
  namespace: 'default',
  certs,
});

export function topologyProblems(doc: ComposeDocument): string[] {
  const problems: string[] = [];
  const serverFixed = serverEnvFile();
  const serverTemplate = templateVariables(CLUSTER_FILES.serverConfig);

  for (const [role, name] of Object.entries(COMPOSE_SERVER) as Array<[ServerRole, string]>) {
    const service = doc.services[name];
    if (!service) {
      problems.push(`compose has no ${name} (the ${role} process of npm run cluster)`);
      continue;
    }
    const command = (service.command as string[] | undefined) ?? [];
    if (command.join(',') !== SERVER_SERVICES[role].join(','))
      problems.push(
        `services.${name} runs ${command.join(', ') || 'nothing'}; npm run cluster's ${role} process runs ${SERVER_SERVICES[role].join(', ')}`,
      );
    for (const file of [CLUSTER_FILES.serverConfig, CLUSTER_FILES.dynamicConfig]) {
      if (!mounts(service).includes(`./${rel(file)}`))
        problems.push(`services.${name} does not mount ${rel(file)}`);
    }
    if (!envFilesOf(service).includes(rel(CLUSTER_FILES.serverEnv)))
      problems.push(`services.${name} does not read ${rel(CLUSTER_FILES.serverEnv)}`);
    const own = { ...(service.environment as Record<string, string> | undefined) };
    for (const key of Object.keys(serverFixed)) {
      if (key in own) problems.push(`services.${name} overrides ${key} of server.env (set it there)`);
    }
    const env = environmentOf(service);
    for (const variable of serverTemplate.required) {
      if (!(variable in env)) problems.push(`services.${name} does not set ${variable} (config template)`);
    }
  }
  for (const key of Object.keys(serverFixed)) {
    if (key in clusterServerEnv) problems.push(`npm run cluster overrides ${key} of server.env`);
  }
  for (const variable of serverTemplate.required) {
    if (!(variable in clusterServerEnv) && !(variable in serverFixed))
      problems.push(`npm run cluster does not set ${variable} (config template)`);
  }

  const ui = doc.services['temporal-ui'];
  const uiFixed = uiEnvFile();
  const uiTemplate = templateVariables(CLUSTER_FILES.uiConfig);
  if (!mounts(ui).includes(`./${rel(CLUSTER_FILES.uiConfig)}`))
    problems.push(`services.temporal-ui does not mount ${rel(CLUSTER_FILES.uiConfig)}`);
  if (!envFilesOf(ui).includes(rel(CLUSTER_FILES.uiEnv)))
    problems.push(`services.temporal-ui does not read ${rel(CLUSTER_FILES.uiEnv)}`);
  for (const key of Object.keys(uiFixed)) {
    if (key in ((ui?.environment as Record<string, string> | undefined) ?? {}))
      problems.push(`services.temporal-ui overrides ${key} of ui.env`);
    if (key in clusterUiEnv) problems.push(`npm run cluster overrides ${key} of ui.env`);
  }
  for (const variable of uiTemplate.required) {
    if (!(variable in environmentOf(ui))) problems.push(`services.temporal-ui does not set ${variable}`);
    if (!(variable in clusterUiEnv) && !(variable in uiFixed))
      problems.push(`npm run cluster does not set ${variable} for the UI server`);
  }

  const setup = doc.services['temporal-setup'];
  if (!envFilesOf(setup).includes(rel(CLUSTER_FILES.setupEnv)))
    problems.push(`services.temporal-setup does not read ${rel(CLUSTER_FILES.setupEnv)}`);
  for (const key of Object.keys(setupEnvFile())) {
    if (key in ((setup?.environment as Record<string, string> | undefined) ?? {}))
      problems.push(`services.temporal-setup overrides ${key} of setup.env`);
  }
  for (const name of ['temporal-schema', 'temporal-setup']) {
    if (!mounts(doc.services[name]).includes(`./${rel(CLUSTER_FILES.adminScript)}`))
      problems.push(`services.${name} does not run ${rel(CLUSTER_FILES.adminScript)}`);
  }
  return problems;
}

const mutate = (change: (doc: ComposeDocument) => void): ComposeDocument => {
  const copy = structuredClone(compose);
  change(copy);
  return copy;
};

describe('one source for the Temporal topology (docker-compose.yml and npm run cluster)', () => {
  it('take the server, UI and namespace settings from the same files under deploy/temporal/', () => {
    expect(topologyProblems(compose)).toEqual([]);
  });

  it('keeps the templates Go templates (a formatter that rewrites `{{` as `{ {` breaks them silently)', () => {
    for (const file of [CLUSTER_FILES.serverConfig, CLUSTER_FILES.uiConfig]) {
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n')[0], rel(file)).toBe('# enable-template');
      expect(text, rel(file)).not.toMatch(/\{ \{|\} \}/);
    }
  });

  it('runs history with at least 4 shards, mTLS required, the default claim mapper and authorizer', () => {
    const fixed = serverEnvFile();
    expect(Number(fixed.NUM_HISTORY_SHARDS)).toBeGreaterThanOrEqual(4);
    expect(fixed).toMatchObject({
      TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
      TEMPORAL_AUTH_AUTHORIZER: 'default',
      TEMPORAL_AUTH_CLAIM_MAPPER: 'default',
    });
    expect(uiEnvFile().TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
    expect(readFileSync(CLUSTER_FILES.dynamicConfig, 'utf8')).toMatch(
      /frontend\.enableServerVersionCheck:\s*\n\s*- value: false/,
    );
  });

  it('fails when compose overrides a fixed setting, mounts another file or splits the services otherwise (negative control)', () => {
    const bad = mutate((doc) => {
      (doc.services['temporal-history']!.environment as Record<string, string>).NUM_HISTORY_SHARDS = '1';
      doc.services['temporal-matching']!.volumes = [
        './elsewhere.yaml:/etc/temporal/config/production.yaml:ro',
      ];
      doc.services.temporal!.command = ['frontend'];
      delete doc.services['temporal-ui']!.env_file;
      delete (doc.services['temporal-setup']!.environment as Record<string, string>).TEMPORAL_API_KEY;
    });
    expect(topologyProblems(bad)).toEqual([
      "services.temporal runs frontend; npm run cluster's frontend process runs frontend, internal-frontend",
      'services.temporal-history overrides NUM_HISTORY_SHARDS of server.env (set it there)',
      'services.temporal-matching does not mount deploy/temporal/config/production.yaml',
      'services.temporal-matching does not mount deploy/temporal/dynamicconfig.yaml',
      'services.temporal-ui does not read deploy/temporal/ui.env',
      'services.temporal-ui does not set TEMPORAL_DISABLE_WRITE_ACTIONS',
    ]);
  });
});
