/**
 * bench:read-path — list (first page, deep keyset page, filtered by status) and detail with
 * 100,000 services, through the HTTP API (Hono on 127.0.0.1, a bearer token, validation,
 * presentation) against bare SQL for the same page on a pg pool of the same size, 32 concurrent
 * callers each. Targets: API p99 within 2× of bare SQL and below 50 ms; EXPLAIN shows index use.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../api/app.js';
import { apiSchema, parseConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { benchArgs } from './support/args.js';
import { withBenchEnvironment, type BenchEnvironment } from './support/environment.js';
import { printTable, printTargets, writeResults, type Target } from './support/report.js';
import { closedLoop, median, p99, round, since } from './support/stats.js';
import { seedServices } from './support/seed.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, benchIdentity } from './support/identity.js';

const { quick, count } = benchArgs();
const ROWS = count ?? 100_000;
const REQUESTS = quick ? 500 : 3_000;
const CONCURRENCY = 32;
const POOL = 10;
const LIMIT = 50;

interface Case {
  name: string;
  http: () => string;
  sql: () => [string, unknown[]];
}

const pick = <T>(values: T[]) => values[Math.floor(Math.random() * values.length)]!;

async function cases(env: BenchEnvironment): Promise<Case[]> {
  // Deep cursors: rows 50,000–99,000 deep, newest first (what a client holds after many pages).
  const { rows: deep } = await sql<{ created_at: string; id: string }>`
    select created_at, id from backend_services order by created_at desc, id desc
    offset ${Math.floor(ROWS / 2)} limit ${Math.floor(ROWS / 2) - LIMIT}`.execute(env.db);
  const cursors = deep.filter((_, i) => i % 1_000 === 0).map((r) => ({ c: r.created_at, i: r.id }));
  const { rows: ids } = await sql<{
    id: string;
  }>`select id from backend_services tablesample system (1) limit 500`.execute(env.db);
  const columns =
    'id, owner_id, organization_id, status, auth_method, name, revision, submitted_at, created_at, updated_at, projection_version, state';
  const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return [
    {
      name: 'list: first page',
      http: () => `/v1/admin/backend-services?limit=${LIMIT}`,
      sql: () => [
        `select ${columns} from backend_services order by created_at desc, id desc limit $1`,
        [LIMIT + 1],
      ],
    },
    {
      name: 'list: deep keyset page',
      http: () => `/v1/admin/backend-services?limit=${LIMIT}&cursor=${encode(pick(cursors))}`,
      sql: () => {
        const c = pick(cursors);
        return [
          `select ${columns} from backend_services where (created_at, id) < ($1::timestamptz, $2) order by created_at desc, id desc limit $3`,
          [c.c, c.i, LIMIT + 1],
        ];
      },
    },
    {
      name: 'list: status = under_review',
      http: () => `/v1/admin/backend-services?limit=${LIMIT}&status=under_review`,
      sql: () => [
        `select ${columns} from backend_services where status = $1 order by created_at desc, id desc limit $2`,
        ['under_review', LIMIT + 1],
      ],
    },
    {
      name: 'detail',
      http: () => `/v1/backend-services/${pick(ids).id}`,
      sql: () => [`select state, projection_version from backend_services where id = $1`, [pick(ids).id]],
    },
  ];
}

async function explain(pool: pg.Pool, c: Case): Promise<{ usesIndex: boolean; plan: string }> {
  const [text, params] = c.sql();
  const { rows } = await pool.query(`explain ${text}`, params);
  const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  return { usesIndex: /Index (Only )?Scan/.test(plan) && !/Seq Scan/.test(plan), plan };
}

async function measure(total: number, call: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  await closedLoop(total, CONCURRENCY, async () => {
    const t = performance.now();
    await call();
    latencies.push(since(t));
  });
  return latencies;
}

await withBenchEnvironment('read', { temporal: false, standins: false, poolSize: POOL }, async (env) => {
  const seededIn = await seedServices(env.db, ROWS);
  console.log(`seeded ${ROWS} services in ${round(seededIn / 1000, 1)} s`);

  const { issuer, verifier } = await benchIdentity();
  const config = parseConfig(apiSchema, {
    APP_MODE: 'development',
    MAX_SERVICES_PER_OWNER: '100000',
    CREATE_RATE_PER_MINUTE: '100000',
    AUTH_DEV_ISSUER: 'false',
    AUTH_ISSUER: BENCH_ISSUER,
    AUTH_AUDIENCE: BENCH_AUDIENCE,
    DATABASE_URL: env.databaseUrl,
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    SANDBOX_AIDBOX_URL: 'http://127.0.0.1:1',
    PRODUCTION_AIDBOX_URL: 'http://127.0.0.1:1',
    PRODUCTION_ORGBAC: 'false',
    LOG_LEVEL: 'silent',
  });
  // Reads never reach Temporal: a lazy connection that is never used.
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const app = createApp({ config, db: env.db, temporal, log: createLogger('bench', 'silent'), verifier });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const authorization = `Bearer ${await issuer.sign('ada', ['admin'], { expiresInSeconds: 3600 })}`;
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: POOL });

  try {
    const rows = [];
    const targets: Target[] = [];
    const results = [];
    for (const c of await cases(env)) {
      const viaHttp = async () => {
        const response = await fetch(base + c.http(), { headers: { authorization } });
        if (response.status !== 200)
          throw new Error(`${c.name}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      };
      const viaSql = async () => {
        const [text, params] = c.sql();
        await pool.query(text, params);
      };
      // Warm-up: pools open, JIT warm, pages in the buffer cache.
      await measure(200, viaSql);
      await measure(200, viaHttp);
      const bare = await measure(REQUESTS, viaSql);
      const api = await measure(REQUESTS, viaHttp);
      const { usesIndex, plan } = await explain(pool, c);
      const ratio = p99(api) / p99(bare);
      rows.push({
        case: c.name,
        'SQL median ms': round(median(bare)),
        'SQL p99 ms': round(p99(bare)),
        'API median ms': round(median(api)),
        'API p99 ms': round(p99(api)),
        'p99 ratio': round(ratio),
        'index used': usesIndex ? (/using (\w+)/.exec(plan)?.[1] ?? 'yes') : 'NO',
      });
      targets.push(
        {
          name: `${c.name}: API p99 ≤ 2 × bare SQL p99`,
          met: ratio <= 2,
          detail: `${round(p99(api))} vs ${round(p99(bare))} ms = ×${round(ratio)}`,
        },
        {
          name: `${c.name}: API p99 < 50 ms`,
          met: p99(api) < 50,
          detail: `${round(p99(api))} ms at ${CONCURRENCY} concurrent callers`,
        },
        {
          name: `${c.name}: EXPLAIN uses an index`,
          met: usesIndex,
          detail: plan.split('\n').slice(0, 2).join(' / ').trim(),
        },
      );
      results.push({ case: c.name, bare, api, plan, ratio });
    }
    printTable(
      `Read path, ${ROWS} services, ${CONCURRENCY} concurrent callers, ${REQUESTS} requests per case (pool ${POOL} both sides)`,
      rows,
    );
    printTargets(targets);
    writeResults('read-path', {
      rows: ROWS,
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      results: results.map(({ bare, api, ...r }) => ({
        ...r,
        bare: { median: median(bare), p99: p99(bare) },
        api: { median: median(api), p99: p99(api) },
      })),
      targets,
    });
  } finally {
    await pool.end();
    await new Promise((r) => server.close(r));
    await temporal.connection.close().catch(() => undefined);
  }
});
