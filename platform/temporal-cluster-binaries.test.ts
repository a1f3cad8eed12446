import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_BINARIES,
  ClusterBinariesNotFound,
  findClusterBinaries,
  resolveClusterBinaries,
} from './temporal-cluster-binaries.js';

/** `npm run cluster:build`'s lookup: reuse what exists, fail at once when nothing can build the rest. */
describe('the cluster binaries', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'bs-cluster-bin-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const noGo = { PATH: '/nonexistent', GO_BINARY: path.join(scratch, 'no-go'), HOME: scratch };

  it('reuses binaries already built in TEMPORAL_CLUSTER_BIN_DIR, each in its own folder, without Go', async () => {
    const dir = path.join(scratch, 'built');
    for (const spec of CLUSTER_BINARIES) {
      mkdirSync(path.join(dir, spec.name), { recursive: true });
      const file = path.join(dir, spec.name, spec.file);
      writeFileSync(file, '#!/bin/sh\n');
      chmodSync(file, 0o755);
    }
    const progress: string[] = [];
    const found = await resolveClusterBinaries({ ...noGo, TEMPORAL_CLUSTER_BIN_DIR: dir }, (l) =>
      progress.push(l),
    );
    expect(found).toEqual({
      server: path.join(dir, 'server', 'server'),
      'sql-tool': path.join(dir, 'sql-tool', 'sql'),
      'ui-server': path.join(dir, 'ui-server', 'server'),
    });
    expect(progress.every((l) => l.includes('already built'))).toBe(true);
  });

  it('fails at once, naming what to install, with neither binaries nor Go', async () => {
    const env = { ...noGo, TEMPORAL_CLUSTER_BIN_DIR: path.join(scratch, 'empty') };
    expect(findClusterBinaries(env).missing.map((s) => s.name)).toEqual(['server', 'sql-tool', 'ui-server']);
    const started = Date.now();
    const error = await resolveClusterBinaries(env, () => undefined).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(ClusterBinariesNotFound);
    const message = (error as Error).message;
    expect(message).toContain('Install Go');
    for (const spec of CLUSTER_BINARIES) {
      expect(message).toContain(spec.variable);
      expect(message).toContain(spec.module);
    }
  });

  it('refuses a variable naming a file that is not executable', () => {
    expect(() =>
      findClusterBinaries({ ...noGo, TEMPORAL_SERVER_PATH: path.join(scratch, 'nothing') }),
    ).toThrow(/TEMPORAL_SERVER_PATH=.* is not an executable file/);
  });
});
