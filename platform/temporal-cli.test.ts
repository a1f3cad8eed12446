import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findTemporalCli,
  resolveTemporalCli,
  TEMPORAL_CLI_MODULE,
  TemporalCliNotFound,
} from './temporal-cli.js';

function fakeBinary(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

describe('Temporal CLI resolution', () => {
  const scratch = () => mkdtempSync(path.join(tmpdir(), 'cli-'));

  it('prefers TEMPORAL_CLI_PATH', () => {
    const dir = scratch();
    const explicit = fakeBinary(path.join(dir, 'explicit'), 'temporal');
    fakeBinary(path.join(dir, 'onpath'), 'temporal');
    expect(findTemporalCli({ TEMPORAL_CLI_PATH: explicit, PATH: path.join(dir, 'onpath') })).toBe(explicit);
  });

  it('refuses a TEMPORAL_CLI_PATH that is not an executable', () => {
    expect(() => findTemporalCli({ TEMPORAL_CLI_PATH: '/nonexistent/temporal', PATH: '' })).toThrow(
      /TEMPORAL_CLI_PATH=\/nonexistent\/temporal/,
    );
  });

  it('then looks on PATH, then in the Go bin folder', () => {
    const dir = scratch();
    const onPath = fakeBinary(path.join(dir, 'bin'), 'temporal');
    expect(findTemporalCli({ PATH: path.join(dir, 'bin'), GO_BINARY: '/nonexistent/go' })).toBe(onPath);
    const goInstalled = fakeBinary(path.join(dir, 'gopath', 'bin'), 'temporal');
    expect(
      findTemporalCli({ PATH: '', GOPATH: path.join(dir, 'gopath'), GO_BINARY: '/nonexistent/go' }),
    ).toBe(goInstalled);
  });

  it('fails at once, saying what to install, when there is neither a binary nor Go', async () => {
    const dir = scratch();
    const started = Date.now();
    const attempt = resolveTemporalCli(
      { PATH: '', GOPATH: path.join(dir, 'empty'), GO_BINARY: '/nonexistent/go' },
      () => undefined,
    );
    await expect(attempt).rejects.toBeInstanceOf(TemporalCliNotFound);
    await expect(attempt).rejects.toThrow(TEMPORAL_CLI_MODULE);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('uses the SDK download only when explicitly allowed', async () => {
    const dir = scratch();
    const env = { PATH: '', GOPATH: path.join(dir, 'empty'), GO_BINARY: '/nonexistent/go' };
    await expect(resolveTemporalCli({ ...env, TEMPORAL_ALLOW_SDK_DOWNLOAD: 'true' })).resolves.toEqual({
      type: 'sdk-download',
    });
  });
});
