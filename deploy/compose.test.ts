import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { apiSchema, databaseSchema, startSchema, temporalSchema, workerSchema } from '../platform/config.js';
import { SEARCH_ATTRIBUTE_CLI_TYPES } from '../workflows/search-attributes.js';
import { workerV8FlagsFromEnv } from '../worker/memory-plan.js';
import {
  composeSpecValidator,
  dependencyProblems,
  environmentOf,
  environmentProblems,
  envFileKeys,
  imageProblems,
  parseCompose,
  portOfAddress,
  portProblems,
  searchAttributeProblems,
  secretProblems,
  variableProblems,
  workerHeapProblems,
  type ComposeDocument,
  type ExpectedPort,
} from './compose-checks.js';
import {
  IMAGES,
  NODE_MAJOR,
  TEMPORAL_CLI_VERSION,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
} from './versions.js';

/**
 * The deployment picture validated without a Docker engine (issue 9). Every check runs on the real
 * docker-compose.yml / Dockerfile and must find nothing, and on a mutated copy where it must name the
 * mutation: a check that cannot fail proves nothing.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const composeText = read('docker-compose.yml');
const dockerfileText = read('Dockerfile');
const compose = parseCompose(composeText);
const mutate = (change: (doc: ComposeDocument) => void): ComposeDocument => {
  const copy = structuredClone(compose);
  change(copy);
  return copy;
};
const keys = (...schemas: { shape: object }[]) => new Set(schemas.flatMap((s) => Object.keys(s.shape)));

describe('docker-compose.yml against the compose specification', () => {
  const validate = composeSpecValidator();

  it('is valid', () => {
    expect(validate(compose)).toEqual([]);
  });

  it('rejects an unknown key and a wrong depends_on condition (negative control)', () => {
    const bad = mutate((doc) => {
      doc.services.api!.imagee = 'typo';
      (doc.services.worker!.depends_on as Record<string, { condition: string }>).migrate!.condition =
        'service_done';
    });
    const problems = validate(bad);
    expect(problems.join('\n')).toMatch(/\/services\/api .*imagee/);
    expect(problems.join('\n')).toMatch(/\/services\/worker\/depends_on\/migrate\/condition/);
  });
});

describe('environment variables against the config schemas', () => {
  // The fragments (credentials/config.ts, aidbox/config.ts, auth) are merged into these schemas in
  // platform/config.ts; a variable the process does not read is a typo or a leftover.
  const rules = {
    api: { schema: 'apiSchema', keys: keys(apiSchema) },
    worker: { schema: 'workerSchema', keys: keys(workerSchema) },
    migrate: { schema: 'databaseSchema', keys: keys(databaseSchema) },
  };

  it('passes the api, worker and migrate services only variables their processes read', () => {
    expect(environmentProblems(compose, rules)).toEqual([]);
  });

  it('rejects a misspelt variable (negative control)', () => {
    const bad = mutate((doc) => {
      const env = doc.services.api!.environment as Record<string, string>;
      env.DATABSE_URL = env.DATABASE_URL!;
      delete env.DATABASE_URL;
      (doc.services.migrate!.environment as Record<string, string>).TEMPORAL_ADDRESS = 'temporal:7233';
    });
    expect(environmentProblems(bad, rules)).toEqual([
      'services.api.environment.DATABSE_URL is not a variable of apiSchema',
      'services.migrate.environment.TEMPORAL_ADDRESS is not a variable of databaseSchema',
    ]);
  });

  it('starts the worker with the heap limits of its memory budget (worker/memory-plan.ts)', () => {
    expect(workerHeapProblems(compose, workerV8FlagsFromEnv)).toEqual([]);
  });

  it('rejects a worker command without them and one for another budget (negative control)', () => {
    const bare = mutate((doc) => {
      doc.services.worker!.command = ['node', '--import', 'tsx', 'worker/main.ts'];
    });
    expect(workerHeapProblems(bare, workerV8FlagsFromEnv)).toEqual([
      'services.worker.command passes [], the memory budget wants [--max-old-space-size=160 --max-semi-space-size=8]',
    ]);
    const bigger = mutate((doc) => {
      (doc.services.worker!.environment as Record<string, string>).WORKER_MEMORY_BUDGET_MB = '2048';
    });
    expect(workerHeapProblems(bigger, workerV8FlagsFromEnv)).toHaveLength(1);
  });

  it('runs the app in production mode against the compose services', () => {
    for (const name of ['api', 'worker']) {
      const env = environmentOf(compose.services[name]);
      expect(env.APP_MODE, name).toBe('production');
      expect(env.TEMPORAL_ADDRESS, name).toBe('temporal:7233');
      expect(env.DATABASE_URL, name).toMatch(/@postgres:5432\/backend_services$/);
    }
    expect(environmentOf(compose.services.migrate).DATABASE_URL).toBe(
      environmentOf(compose.services.api).DATABASE_URL,
    );
  });

  it('gives the command signing key to the API only and the verify keys to the worker only; the Web UI is read-only', () => {
    const api = environmentOf(compose.services.api);
    const worker = environmentOf(compose.services.worker);
    expect(api.COMMAND_SIGNING_KEY).toMatch(/^\$\{COMMAND_SIGNING_KEY:\?/);
    expect(api.COMMAND_VERIFY_KEYS).toBeUndefined();
    expect(worker.COMMAND_VERIFY_KEYS).toMatch(/^\$\{COMMAND_VERIFY_KEYS:\?/);
    expect(worker.COMMAND_SIGNING_KEY).toBeUndefined();
    expect(environmentOf(compose.services['temporal-ui']).TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
  });
});

describe('ports against the defaults', () => {
  const defaults = {
    api: apiSchema.shape.PORT.parse(undefined),
    temporal: portOfAddress(temporalSchema.shape.TEMPORAL_ADDRESS.parse(undefined)),
    uiHost: startSchema.shape.TEMPORAL_UI_PORT.parse(undefined),
  };
  // temporalio/ui listens on 8080 in its container (its TEMPORAL_UI_PORT default); the host sees it
  // on 8233, the port of `npm start`'s UI and of TEMPORAL_UI_URL's default.
  const UI_CONTAINER_PORT = 8080;
  const expected: ExpectedPort[] = [
    { service: 'api', target: defaults.api, published: defaults.api, public: true },
    { service: 'temporal', target: defaults.temporal, published: defaults.temporal },
    { service: 'temporal-ui', target: UI_CONTAINER_PORT, published: defaults.uiHost },
    // Operators' view: Prometheus and Grafana (on 3001: the API has 3000), loopback only.
    { service: 'prometheus', target: 9090, published: 9090 },
    { service: 'grafana', target: 3000, published: 3001 },
  ];

  it('uses the defaults: API 3000, Temporal 7233, UI 8080 published as 8233', () => {
    expect(defaults).toEqual({ api: 3000, temporal: 7233, uiHost: 8233 });
    expect(new URL(temporalSchema.shape.TEMPORAL_UI_URL.parse(undefined)).port).toBe(String(defaults.uiHost));
    expect(portProblems(compose, expected)).toEqual([]);
    // The processes are told the same ports.
    expect(Number(environmentOf(compose.services.api).PORT ?? defaults.api)).toBe(defaults.api);
    for (const name of ['api', 'worker', 'temporal-ui', 'temporal-setup']) {
      expect(portOfAddress(environmentOf(compose.services[name]).TEMPORAL_ADDRESS ?? ''), name).toBe(
        defaults.temporal,
      );
    }
  });

  it('rejects a moved port, a UI published beyond loopback and an extra published port (negative control)', () => {
    const bad = mutate((doc) => {
      doc.services.api!.ports = ['3001:3001'];
      doc.services['temporal-ui']!.ports = ['8233:8080'];
      doc.services.postgres!.ports = ['5432:5432'];
    });
    expect(portProblems(bad, expected)).toEqual([
      'services.api.ports must map host 3000 to container 3000; found [{"target":3001,"published":3001}]',
      'services.temporal-ui publishes 8233 beyond loopback (bind it to 127.0.0.1)',
      'services.postgres publishes ports the deployment picture does not list',
    ]);
  });
});

describe('image tags against the pinned versions', () => {
  const pinned = {
    postgres: IMAGES.postgres,
    'temporal-schema': IMAGES.temporalAdminTools,
    'temporal-history': IMAGES.temporalServer,
    'temporal-matching': IMAGES.temporalServer,
    temporal: IMAGES.temporalServer,
    'temporal-worker': IMAGES.temporalServer,
    'temporal-setup': IMAGES.temporalAdminTools,
    'temporal-ui': IMAGES.temporalUi,
    prometheus: IMAGES.prometheus,
    grafana: IMAGES.grafana,
  };
  const dockerfile = { text: dockerfileText, image: IMAGES.node };

  it('names the images of deploy/versions.ts and builds the app from the Node 24 Dockerfile', () => {
    expect(imageProblems(compose, pinned, dockerfile)).toEqual([]);
    expect(IMAGES.temporalAdminTools.startsWith(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}-`)).toBe(
      true,
    );
  });

  it('rejects another server, UI or PostgreSQL tag, an unpinned service and another Node (negative control)', () => {
    const bad = mutate((doc) => {
      doc.services.temporal!.image = 'temporalio/server:1.29.0';
      doc.services['temporal-ui']!.image = 'temporalio/ui:latest';
      doc.services.postgres!.image = 'postgres:15-bookworm';
      doc.services.cache = { image: 'redis:latest' };
    });
    const problems = imageProblems(bad, pinned, {
      text: dockerfileText.replace(/node:24/, 'node:22'),
      image: IMAGES.node,
    });
    expect(problems).toEqual([
      `services.postgres.image is postgres:15-bookworm, expected ${IMAGES.postgres}`,
      `services.temporal.image is temporalio/server:1.29.0, expected ${IMAGES.temporalServer}`,
      `services.temporal-ui.image is temporalio/ui:latest, expected ${IMAGES.temporalUi}`,
      "services.cache neither uses a pinned image nor builds from the repository's Dockerfile",
      `Dockerfile FROM node:22-bookworm-slim, expected ${IMAGES.node}`,
    ]);
  });

  it('pins the Node major the project requires', () => {
    const pkg = JSON.parse(read('package.json')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(`>=${NODE_MAJOR}`);
    expect(pkg.devDependencies.node?.split('.')[0]).toBe(String(NODE_MAJOR));
  });

  it('records the server and UI versions the pinned Temporal CLI embeds (temporal --version)', async () => {
    const { stdout } = await promisify(execFile)(inject('temporalCliPath'), ['--version']);
    const match = /\(Server ([\d.]+), UI ([\d.]+)\)/.exec(stdout);
    expect(match, stdout).not.toBeNull();
    expect({ server: match![1], ui: match![2] }, `Temporal CLI ${TEMPORAL_CLI_VERSION}`).toEqual({
      server: TEMPORAL_SERVER_VERSION,
      ui: TEMPORAL_UI_VERSION,
    });
  });
});

describe('search attributes registered by the admin job', () => {
  it('are exactly those of workflows/search-attributes.ts, with their types', () => {
    expect(searchAttributeProblems(compose, 'temporal-setup', SEARCH_ATTRIBUTE_CLI_TYPES)).toEqual([]);
  });

  it('rejects a missing, a mistyped and an extra attribute (negative control)', () => {
    const bad = mutate((doc) => {
      // environment over env_file (deploy/temporal/setup.env), as compose applies them
      const env = doc.services['temporal-setup']!.environment as Record<string, string>;
      env.SEARCH_ATTRIBUTES = environmentOf(doc.services['temporal-setup'])
        .SEARCH_ATTRIBUTES!.replace('BackendServiceOwner=Keyword', '')
        .replace(
          'BackendServiceSubmittedAt=Datetime',
          'BackendServiceSubmittedAt=Keyword BackendServiceOrgId=Keyword',
        );
    });
    expect(searchAttributeProblems(bad, 'temporal-setup', SEARCH_ATTRIBUTE_CLI_TYPES)).toEqual([
      'search attribute BackendServiceOwner is not registered by temporal-setup',
      'search attribute BackendServiceSubmittedAt is registered as Keyword, expected Datetime',
      'search attribute BackendServiceOrgId is registered by temporal-setup but not defined in workflows/search-attributes.ts',
    ]);
  });
});

describe('start order and healthchecks', () => {
  const done = 'service_completed_successfully' as const;
  const healthy = 'service_healthy' as const;
  const started = 'service_started' as const;
  const order = {
    'temporal-schema': { postgres: healthy },
    'temporal-history': { 'temporal-schema': done },
    'temporal-matching': { 'temporal-schema': done },
    temporal: { 'temporal-history': started, 'temporal-matching': started },
    'temporal-worker': { temporal: healthy },
    'temporal-setup': { temporal: healthy },
    'temporal-ui': { temporal: healthy },
    migrate: { postgres: healthy },
    worker: { migrate: done, 'temporal-setup': done },
    api: { migrate: done, 'temporal-setup': done },
  };
  const withHealthcheck = ['postgres', 'temporal', 'api'];

  it('starts each service once what it needs is ready', () => {
    expect(dependencyProblems(compose, order, withHealthcheck)).toEqual([]);
  });

  it('rejects a missing edge and waiting on a service without healthcheck (negative control)', () => {
    const bad = mutate((doc) => {
      delete (doc.services.api!.depends_on as Record<string, unknown>).migrate;
      delete doc.services.postgres!.healthcheck;
    });
    expect(dependencyProblems(bad, order, withHealthcheck)).toEqual([
      'services.api.depends_on.migrate is missing, expected service_completed_successfully',
      'services.temporal-schema waits for postgres to be healthy but postgres has no healthcheck',
      'services.migrate waits for postgres to be healthy but postgres has no healthcheck',
      'services.postgres has no healthcheck',
    ]);
  });
});

describe('secrets and compose variables', () => {
  it('hard-codes no secret', () => {
    expect(secretProblems(compose)).toEqual([]);
  });

  it('rejects a literal password, a secret with a default and a password in a URL (negative control)', () => {
    const bad = mutate((doc) => {
      (doc.services.postgres!.environment as Record<string, string>).POSTGRES_PASSWORD = 'postgres';
      (doc.services.worker!.environment as Record<string, string>).PRODUCTION_AIDBOX_CLIENT_SECRET =
        '${PRODUCTION_AIDBOX_CLIENT_SECRET:-secret}';
      (doc.services.migrate!.environment as Record<string, string>).DATABASE_URL =
        'postgres://postgres:hunter2@postgres:5432/x';
    });
    expect(secretProblems(bad)).toEqual([
      'services.postgres.environment.POSTGRES_PASSWORD must come from the environment (${POSTGRES_PASSWORD:?…}), not a literal',
      'services.migrate.environment.DATABASE_URL carries a literal password in its URL',
      'services.worker.environment.PRODUCTION_AIDBOX_CLIENT_SECRET must come from the environment (${PRODUCTION_AIDBOX_CLIENT_SECRET:?…}), not a literal',
    ]);
  });

  const documented = envFileKeys(read('deploy/compose.env.example'));

  it('documents every variable docker-compose.yml reads in deploy/compose.env.example', () => {
    expect(variableProblems(composeText, documented)).toEqual([]);
  });

  it('rejects an undocumented variable (negative control)', () => {
    expect(
      variableProblems(`${composeText}\nx-extra: \${UNDOCUMENTED_VAR:-x} $\${ESCAPED}\n`, documented),
    ).toEqual(['compose variable UNDOCUMENTED_VAR is not documented in deploy/compose.env.example']);
  });
});

describe("deploy/temporal-admin.sh namespace (on this run's Temporal dev server)", () => {
  // The admin job's second half runs the same `temporal` CLI commands the admin-tools image runs, so
  // it is exercised here against the test dev server in a namespace of its own.
  const bin = mkdtempSync(path.join(tmpdir(), 'bs-admin-'));
  symlinkSync(inject('temporalCliPath'), path.join(bin, 'temporal'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const namespace = `compose-check-${process.pid}-${Date.now().toString(36)}`;
  const cli = (...args: string[]) =>
    promisify(execFile)(path.join(bin, 'temporal'), [...args, '--address', inject('temporalAddress')]);
  const run = (searchAttributes: string) =>
    promisify(execFile)('sh', [path.join(root, 'deploy/temporal-admin.sh'), 'namespace'], {
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        HOME: bin, // the CLI needs a config directory; an empty one, so no user profile applies
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_NAMESPACE_RETENTION: '24h',
        TEMPORAL_ADMIN_ATTEMPTS: '10',
        SEARCH_ATTRIBUTES: searchAttributes,
      },
    });
  const composeAttributes = environmentOf(compose.services['temporal-setup']).SEARCH_ATTRIBUTES!;

  it('creates the namespace and the search attributes, and is idempotent', async () => {
    await run(composeAttributes);
    const second = await run(composeAttributes);
    expect(second.stdout).toContain(`namespace ${namespace} exists`);
    expect(second.stdout).not.toContain('registered search attribute');

    const { stdout } = await cli(
      'operator',
      'search-attribute',
      'list',
      '--namespace',
      namespace,
      '--output',
      'json',
    );
    const { customAttributes } = JSON.parse(stdout) as { customAttributes: Record<string, string> };
    const expected = Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTE_CLI_TYPES).map(([name, type]) => [
        name,
        `INDEXED_VALUE_TYPE_${type.toUpperCase()}`,
      ]),
    );
    expect(customAttributes).toEqual(expected);
  });

  it('fails when an attribute exists with another type (negative control)', async () => {
    await expect(run('BackendServiceStatus=Int')).rejects.toMatchObject({
      stderr: expect.stringContaining('BackendServiceStatus exists as Keyword, not Int'),
    });
  });
});
