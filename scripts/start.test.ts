import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { dropDatabase } from '../db/migrate.js';
import { freePort } from '../platform/ports.js';
import { testDatabaseUrl } from '../test-support/database-url.js';
import { descendantsOf, isAlive } from '../test-support/processes.js';

const ROOT = path.resolve(import.meta.dirname, '..');

describe('npm start', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bs-start-'));
  const databaseUrl = testDatabaseUrl(`bs_start_${process.pid}_${Date.now().toString(36)}`);
  let groupId: number | undefined;
  afterAll(async () => {
    // A failed or timed-out test must not leave `npm start` (Temporal, stand-ins, worker, API) running:
    // kill its whole process group.
    if (groupId !== undefined) {
      try {
        process.kill(-groupId, 'SIGKILL');
      } catch {
        // The group is gone already (the test stopped it).
      }
    }
    await dropDatabase(databaseUrl).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Longer than the inner waits (120 s to be ready, 10 s to stop) so a slow start fails with its
  // own message and output, not with vitest's timeout.
  it(
    'brings the stack up, prints the URLs, and on Ctrl-C leaves no process behind',
    { timeout: 180_000 },
    async () => {
      const [apiPort, temporalPort, uiPort, sandboxPort, productionPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const child = spawn('npm', ['start'], {
        cwd: ROOT,
        // Own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PORT: String(apiPort),
          TEMPORAL_PORT: String(temporalPort),
          TEMPORAL_UI_PORT: String(uiPort),
          SANDBOX_AIDBOX_PORT: String(sandboxPort),
          PRODUCTION_AIDBOX_PORT: String(productionPort),
          DATA_DIR: dataDir,
          DATABASE_URL: databaseUrl,
          TEMPORAL_CLI_PATH: inject('temporalCliPath'),
          LOG_LEVEL: 'warn',
        },
      });
      groupId = child.pid;
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));

      const started = Date.now();
      while (!output.includes('Press Ctrl-C to stop everything')) {
        if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
        if (Date.now() - started > 120_000) throw new Error(`npm start was not ready in 120 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(output).toContain(`http://localhost:${apiPort}`);
      expect(output).toContain(`http://localhost:${uiPort}`);
      expect((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
      expect(output).toContain(`http://localhost:${sandboxPort}`);
      expect((await fetch(`http://127.0.0.1:${sandboxPort}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${productionPort}/fhir/metadata`)).status).toBe(200);

      const tree = descendantsOf(child.pid!);
      expect(tree.length).toBeGreaterThanOrEqual(6); // at least: start, Temporal, two stand-ins, worker, API
      process.kill(-child.pid!, 'SIGINT');

      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && [child.pid!, ...tree].some(isAlive)) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const survivors = [child.pid!, ...tree].filter(isAlive);
      if (survivors.length) for (const pid of survivors) process.kill(pid, 'SIGKILL');
      expect(survivors).toEqual([]);
      expect(output).toContain('stopped.');
    },
  );
});
