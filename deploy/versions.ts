import { TEMPORAL_CLI_MODULE } from '../platform/temporal-cli.js';

/**
 * The one place the deployment picture's versions are recorded. docker-compose.yml and the
 * Dockerfile cannot import this file, so deploy/compose.test.ts checks that their image tags equal
 * these values.
 */

/** The Temporal CLI the project pins (platform/temporal-cli.ts), e.g. `1.5.1`. */
export const TEMPORAL_CLI_VERSION = TEMPORAL_CLI_MODULE.replace(/^.*@v/, '');

/**
 * What each pinned CLI release embeds, as printed by `temporal --version`
 * (v1.5.1: `temporal version … (Server 1.29.1, UI 2.42.1)`). Compose runs the same server and UI
 * versions that `npm start` and the tests run, so behaviour seen in development holds in the picture.
 * Add a row when the CLI pin moves; the test fails until then.
 */
export const TEMPORAL_CLI_EMBEDS: Readonly<Record<string, { server: string; ui: string }>> = {
  '1.5.1': { server: '1.29.1', ui: '2.42.1' },
};

function embedded(): { server: string; ui: string } {
  const row = TEMPORAL_CLI_EMBEDS[TEMPORAL_CLI_VERSION];
  if (!row)
    throw new Error(
      `deploy/versions.ts: no server/UI versions recorded for Temporal CLI ${TEMPORAL_CLI_VERSION}`,
    );
  return row;
}

export const TEMPORAL_SERVER_VERSION = embedded().server;
export const TEMPORAL_UI_VERSION = embedded().ui;

/** Node.js major of the runtime image; the project requires Node 24 (package.json engines, preflight). */
export const NODE_MAJOR = 24;
/** PostgreSQL major of the compose database (Temporal 1.29 persistence plugin `postgres12` supports 12+). */
export const POSTGRES_MAJOR = 16;

/** The images docker-compose.yml and the Dockerfile must name, exactly. */
export const IMAGES = {
  postgres: `postgres:${POSTGRES_MAJOR}-bookworm`,
  temporalServer: `temporalio/server:${TEMPORAL_SERVER_VERSION}`,
  // admin-tools tags name the server release first, then the bundled tctl and CLI releases; this is
  // the published tag for server 1.29.1 (its temporal-sql-tool and schema files match the server).
  temporalAdminTools: `temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}-tctl-1.18.4-cli-1.5.0`,
  temporalUi: `temporalio/ui:${TEMPORAL_UI_VERSION}`,
  node: `node:${NODE_MAJOR}-bookworm-slim`,
  // Operators' view (deploy/prometheus, deploy/grafana). Prometheus 2.x reads the same rule format
  // as the promtool of Debian's package that checks deploy/prometheus/alerts.yml in the tests.
  prometheus: 'prom/prometheus:v2.55.1',
  grafana: 'grafana/grafana:11.3.0',
} as const;
