/**
 * bench:read-path — the read routes with 100,000 services (`--count`), each against a baseline
 * measured in the same run:
 * - list, first page and a deep keyset page (the admin list, 50 items): the API's p99 against the
 *   same SQL (the list's compiled query, api/services/read-model.ts listQuery) run bare on a pg
 *   pool of the API's size, 32 callers each. Target: API p99 ≤ 1.5 × bare SQL p99.
 * - detail: the API's requests/s and p99 against a constant route on its own Hono app with the
 *   same bearer-token check (api/auth/middleware.ts) returning a body of the detail's size,
 *   32 keep-alive connections each. Targets: ≥ 0.5 × its requests/s, p99 ≤ 2 × its p99.
 * The detail cache is on (DETAIL_CACHE_ENTRIES from the environment, 0 turns it off) with the
 * change feed, as main.ts runs it.
 * HTTP load comes from autocannon in a child process (test-support/bench/load.mjs); no OpenTelemetry
 * exporter, no metrics middleware, logs silent.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { Hono } from 'hono';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../api/app.js';
import { requireBearer } from '../api/auth/middleware.js';
import { listQuery } from '../api/services/read-model.js';
import { apiSchema, parseConfig } from '../platform/config.js';
import { createLogger } from '../platform/logger.js';
import { benchArgs } from '../test-support/bench/args.js';
import { withBenchEnvironment, type BenchEnvironment } from '../test-support/bench/environment.js';
import { httpLoad, type LoadResult } from '../test-support/bench/http-load.js';
import { printTable, printTargets, writeResults, type Target } from '../test-support/bench/report.js';
import { closedLoop, median, p99, round, since } from '../test-support/bench/stats.js';
import { seedServices } from '../test-support/bench/seed.js';
import { liveServiceChanges } from '../test-support/service-changes.js';
import { BENCH_AUDIENCE, BENCH_ISSUER, benchIdentity } from '../test-support/bench/identity.js';

const { quick, count } = benchArgs();
const ROWS = count ?? 100_000;
/** Seconds of load per HTTP run; the bare SQL runs as many queries as the API answered. */
const SECONDS = quick ? 4 : 12;
const CONCURRENCY = 32;
const POOL = 10;
const LIMIT = 50;

const pick = <T>(values: T[]) => values[Math.floor(Math.random() * values.length)]!;
const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface ListCase {
  name: string;
  paths: string[];
  /** The SQL the API runs for one of `paths` (a random one). */
  sql: () => { sql: string; parameters: readonly unknown[] };
}

async function listCases(env: BenchEnvironment): Promise<ListCase[]> {
  // Deep cursors: rows 50,000–99,000 deep, newest first (what a client holds after many pages).
  const { rows: deep } = await sql<{ created_at: string; id: string }>`
    select created_at, id from backend_services order by created_at desc, id desc
    offset ${Math.floor(ROWS / 2)} limit ${Math.floor(ROWS / 2) - LIMIT}`.execute(env.db);
  const cursors = deep.filter((_, i) => i % 500 === 0).map((r) => encode({ c: r.created_at, i: r.id }));
  return [
    {
      name: 'list: first page',
      paths: [`/v1/admin/backend-services?limit=${LIMIT}`],
      sql: () => listQuery(env.db, { limit: LIMIT }).compile(),
    },
    {
      name: 'list: deep keyset page',
      paths: cursors.map((c) => `/v1/admin/backend-services?limit=${LIMIT}&cursor=${c}`),
      sql: () => listQuery(env.db, { limit: LIMIT, cursor: pick(cursors) }).compile(),
    },
    {
      name: 'list: status = under_review',
      paths: [`/v1/admin/backend-services?limit=${LIMIT}&status=under_review`],
      sql: () => listQuery(env.db, { limit: LIMIT, status: 'under_review' }).compile(),
    },
  ];
}

async function explain(pool: pg.Pool, c: ListCase): Promise<{ usesIndex: boolean; plan: string }> {
  const q = c.sql();
  const { rows } = await pool.query(`explain ${q.sql}`, [...q.parameters]);
  const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  return { usesIndex: /Index (Only )?Scan/.test(plan) && !/Seq Scan/.test(plan), plan };
}

/** `total` calls from 32 callers in a closed loop: their latencies (ms). */
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
  const { rows: sizes } = await sql<{ state: string; summary: string }>`
    select avg(pg_column_size(state))::int as state, avg(pg_column_size(summary))::int as summary
    from backend_services where status in ('active', 'under_review')`.execute(env.db);
  console.log(
    `seeded ${ROWS} services in ${round(seededIn / 1000, 1)} s; reviewed services: state ${sizes[0]!.state} B, summary ${sizes[0]!.summary} B stored (compressed)`,
  );

  const { issuer, verifier } = await benchIdentity();
  const config = parseConfig(apiSchema, {
    ...(process.env.DETAIL_CACHE_ENTRIES ? { DETAIL_CACHE_ENTRIES: process.env.DETAIL_CACHE_ENTRIES } : {}),
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
    COMMAND_SIGNING_KEY: JSON.stringify(env.commandKeys.signingKey),
  });
  // Reads never reach Temporal: a lazy connection that is never used.
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  // As main.ts runs it: the detail cache kept current by the read model's change feed.
  const serviceChanges = await liveServiceChanges(env.databaseUrl);
  const app = createApp({
    config,
    db: env.db,
    temporal,
    log: createLogger('bench', 'silent'),
    verifier,
    serviceChanges,
  });
  const listen = async (fetch: (request: Request) => Response | Promise<Response>) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  };
  const api = await listen(app.fetch);
  const authorization = `Bearer ${await issuer.sign('ada', ['admin'], { expiresInSeconds: 3600 })}`;
  const headers = { authorization };

  const { rows: sampled } = await sql<{
    id: string;
  }>`select id from backend_services tablesample system (1) limit 500`.execute(env.db);
  const detailPaths = sampled.map((r) => `/v1/backend-services/${r.id}`);
  // The baseline for the detail: the same token check, then a constant body as large as a detail.
  const body = await (await fetch(api.url + detailPaths[0]!, { headers })).text();
  const constantApp = new Hono();
  constantApp.use('/v1/*', requireBearer(verifier));
  constantApp.get('/v1/constant', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
  const constant = await listen(constantApp.fetch);
  const pool = new pg.Pool({ connectionString: env.databaseUrl, max: POOL });

  const load = (url: string, paths: string[], seconds = SECONDS) =>
    httpLoad({ url, paths, headers, connections: CONCURRENCY, seconds });

  try {
    const rows = [];
    const targets: Target[] = [];
    const results: unknown[] = [];

    // Detail against the constant route: alternate, best of two each (a shared machine drifts).
    await load(constant.url, ['/v1/constant'], 2);
    await load(api.url, detailPaths, 2);
    const runs: Record<'constant' | 'detail', LoadResult[]> = { constant: [], detail: [] };
    for (let i = 0; i < 2; i += 1) {
      runs.constant.push(await load(constant.url, ['/v1/constant']));
      runs.detail.push(await load(api.url, detailPaths));
    }
    const best = (r: LoadResult[]) => r.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const [base, detail] = [best(runs.constant), best(runs.detail)];
    const rps = detail.perSecond / base.perSecond;
    const tail = detail.latency.p99 / base.latency.p99;
    const detailRows = [
      { case: 'constant route (same token check)', r: base, ratio: 1, tailRatio: 1 },
      { case: 'detail', r: detail, ratio: rps, tailRatio: tail },
    ].map(({ case: name, r, ratio, tailRatio }) => ({
      case: name,
      'requests/s': round(r.perSecond, 0),
      'median ms': round(r.latency.median),
      'p99 ms': round(r.latency.p99),
      'requests/s ratio': round(ratio),
      'p99 ratio': round(tailRatio),
    }));
    targets.push(
      {
        name: 'detail: requests/s ≥ 0.5 × the constant route',
        met: rps >= 0.5,
        detail: `${round(detail.perSecond, 0)} vs ${round(base.perSecond, 0)} req/s = ×${round(rps)}`,
      },
      {
        name: 'detail: p99 ≤ 2 × the constant route',
        met: tail <= 2,
        detail: `${round(detail.latency.p99)} vs ${round(base.latency.p99)} ms = ×${round(tail)}`,
      },
    );
    results.push({ case: 'detail', runs });

    for (const c of await listCases(env)) {
      const bareSql = async () => {
        const q = c.sql();
        await pool.query(q.sql, [...q.parameters]);
      };
      // Warm-up: pools open, JIT warm, pages in the buffer cache.
      await measure(300, bareSql);
      await load(api.url, c.paths, 2);
      const viaApi = await load(api.url, c.paths);
      const bare = await measure(viaApi.requests, bareSql);
      const { usesIndex, plan } = await explain(pool, c);
      const ratio = viaApi.latency.p99 / p99(bare);
      rows.push({
        case: c.name,
        'SQL median ms': round(median(bare)),
        'SQL p99 ms': round(p99(bare)),
        'API median ms': round(viaApi.latency.median),
        'API p99 ms': round(viaApi.latency.p99),
        'API requests/s': round(viaApi.perSecond, 0),
        'p99 ratio': round(ratio),
        'index used': usesIndex ? (/using (\w+)/.exec(plan)?.[1] ?? 'yes') : 'NO',
      });
      if (c.name !== 'list: status = under_review')
        targets.push({
          name: `${c.name}: API p99 ≤ 1.5 × the same SQL bare`,
          met: ratio <= 1.5,
          detail: `${round(viaApi.latency.p99)} vs ${round(p99(bare))} ms = ×${round(ratio)}`,
        });
      targets.push({
        name: `${c.name}: EXPLAIN uses an index`,
        met: usesIndex,
        detail: plan.split('\n').slice(0, 2).join(' / ').trim(),
      });
      results.push({
        case: c.name,
        bare: { median: median(bare), p99: p99(bare) },
        api: viaApi,
        plan,
        ratio,
      });
    }
    printTable(
      `Detail, ${ROWS} services, ${CONCURRENCY} keep-alive connections (autocannon, own process), ${SECONDS} s per run, best of 2`,
      detailRows,
    );
    printTable(
      `Lists, ${ROWS} services, ${CONCURRENCY} callers, API: ${SECONDS} s of autocannon, SQL: as many queries (pool ${POOL} both sides)`,
      rows,
    );
    printTargets(targets);
    writeResults('read-path', {
      rows: ROWS,
      seconds: SECONDS,
      concurrency: CONCURRENCY,
      columnSizes: sizes[0],
      results,
      targets,
    });
  } finally {
    await serviceChanges.close();
    await pool.end();
    await new Promise((r) => api.server.close(r));
    await new Promise((r) => constant.server.close(r));
    await temporal.connection.close().catch(() => undefined);
  }
});
