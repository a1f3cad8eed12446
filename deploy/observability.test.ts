import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUSINESS_METRICS } from '../activities/metrics.js';
import { createApiMetrics } from '../api/metrics.js';
import type { Db } from '../db/database.js';
import { createLogger } from '../platform/logger.js';
import { SDK_METRICS_USED } from '../worker/telemetry.js';

/**
 * The alert rules and the dashboard as files (deploy/prometheus, deploy/grafana): valid for
 * Prometheus (promtool, from Debian's `prometheus` package, which .ci/run installs), and naming
 * only metrics the processes export.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = (name: string) => path.join(root, name);
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'by',
  'without',
  'rate',
  'increase',
  'irate',
  'absent',
  'histogram_quantile',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'bool',
  'offset',
  'le',
]);

/** Metric names a PromQL expression reads (label matchers, ranges, groupings and strings removed). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  return [...stripped.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !PROMQL_WORDS.has(name) && !/^\d/.test(name));
}

/** Every series family the processes export, with the histogram suffixes. */
function exportedMetrics(): Set<string> {
  const api = createApiMetrics({ db: {} as Db, log: createLogger('test', 'silent'), defaultMetrics: false });
  const histograms = [
    'http_request_duration_seconds',
    BUSINESS_METRICS.reviewWait,
    ...SDK_METRICS_USED.filter((n) => n.endsWith('_latency')),
  ];
  return new Set([
    ...api.registry.getMetricsAsArray().map((m) => m.name),
    ...Object.values(BUSINESS_METRICS),
    ...SDK_METRICS_USED,
    ...histograms.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ]);
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  annotations?: Record<string, string>;
}
const alerts = parse(readFileSync(file('deploy/prometheus/alerts.yml'), 'utf8')) as {
  groups: Array<{ name: string; rules: Rule[] }>;
};
const dashboard = JSON.parse(readFileSync(file('deploy/grafana/backend-services.json'), 'utf8')) as {
  uid: string;
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};

describe('deploy/prometheus', () => {
  it.runIf(PROMTOOL)('passes promtool check rules and check config', async () => {
    const run = (...args: string[]) => promisify(execFile)(PROMTOOL!, args);
    expect((await run('check', 'rules', file('deploy/prometheus/alerts.yml'))).stdout).toContain('SUCCESS');
    expect((await run('check', 'config', file('deploy/prometheus/prometheus.yml'))).stdout).toContain(
      'SUCCESS',
    );
  });

  it.runIf(PROMTOOL)('promtool refuses a broken rule (negative control)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'bs-rules-')), 'bad.yml');
    writeFileSync(
      bad,
      'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n',
    );
    await expect(promisify(execFile)(PROMTOOL!, ['check', 'rules', bad])).rejects.toThrow();
  });

  it('has the six alerts, each with a duration and a description', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual([
      'BackendServiceProvisioningFailing',
      'BackendServiceReviewQueueStale',
      'BackendServiceJwksChecksFailing',
      'BackendServiceApi5xxRatio',
      'BackendServiceWorkerTaskSlotsExhausted',
      'BackendServiceNoWorkerPolling',
    ]);
    for (const rule of rules) {
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
    }
    expect(rules.find((r) => r.alert === 'BackendServiceProvisioningFailing')?.for).toBe('15m');
    expect(rules.find((r) => r.alert === 'BackendServiceReviewQueueStale')?.expr).toContain('3 * 86400');
  });
});

describe('metric names in the alerts and the dashboard', () => {
  const exported = exportedMetrics();

  it('are all exported by the API or the worker', () => {
    const used = [
      ...alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: r.alert, expr: r.expr }))),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
    ];
    expect(used.length).toBeGreaterThan(20);
    const unknown = used.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('finds a misspelt metric (negative control)', () => {
    expect(metricNames('sum by (le) (rate(http_request_duration_secs_bucket{route="/x"}[5m]))')).toEqual([
      'http_request_duration_secs_bucket',
    ]);
    expect(exported.has('http_request_duration_secs_bucket')).toBe(false);
  });

  it('the gauges read from the read model are taken with max(), never sum(), across API instances', () => {
    const exprs = [
      ...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ];
    for (const expr of exprs.filter((e) => /backend_services\b|review_queue_oldest/.test(e)))
      expect(expr).toMatch(/^max\b/);
  });
});
