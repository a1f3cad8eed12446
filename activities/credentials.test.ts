import { randomBytes, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../db/database.js';
import { localhostOnlyResolver } from '../platform/network.js';
import { createKeyring } from '../credentials/keyring.js';
import { secretFingerprint } from '../credentials/secret-crypto.js';
import { createSecretStore } from '../credentials/secret-store.js';
import { createFakeNetwork } from '../test-support/fake-network.js';
import { rsaKeyPair } from '../test-support/key-pairs.js';
import { json, startKeyServer, type TestKeyServer } from '../test-support/key-server.js';
import { createCredentialActivities, type AidboxConnection, type AidboxSecretPort } from './credentials.js';

const db = createDb(inject('databaseUrl'), { poolSize: 2 });
const secretStore = createSecretStore(db, createKeyring(new Map([['a', randomBytes(32)]]), 'a'));
const network = createFakeNetwork();
const serviceId = () => `bs-${randomUUID().replace(/-/g, '').slice(0, 20)}`;

let server: TestKeyServer;
const first = rsaKeyPair(2048);
const second = rsaKeyPair(2048);

beforeAll(async () => {
  server = await startKeyServer({
    routes: {
      '/jwks': json({ keys: [{ ...first.publicJwk, kid: 'k1' }] }),
      '/jwks-changed': json({ keys: [{ ...second.publicJwk, kid: 'k1' }] }),
    },
  });
});
afterAll(async () => {
  await server.close();
  await db.destroy();
});

function recordingAidbox() {
  const calls: Array<{ environment: AidboxConnection; clientId: string; fingerprint: string }> = [];
  const port: AidboxSecretPort = {
    async patchClientSecret(environment, clientId, secret) {
      calls.push({ environment, clientId, fingerprint: secretFingerprint(secret) });
    },
  };
  return { port, calls };
}

function activities(aidbox?: AidboxSecretPort) {
  return createCredentialActivities({
    secretStore,
    jwksFetcher: {
      mode: 'development',
      resolver: localhostOnlyResolver,
      wrapConnector: network.wrapConnector,
    },
    ...(aidbox ? { aidbox } : {}),
  });
}

describe('credential activities', () => {
  it('generateClientSecret returns only the version and the fingerprint', async () => {
    const id = serviceId();
    const result = await activities().generateClientSecret({ serviceId: id });
    expect(result).toEqual({ secretVersion: 1, fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(await activities().generateClientSecret({ serviceId: id, secretVersion: 1 })).toEqual(result);
  });

  it('provisionClientSecret merge-patches the secret into each listed Aidbox without marking it shown', async () => {
    const id = serviceId();
    const { secretVersion, fingerprint } = await activities().generateClientSecret({ serviceId: id });
    const aidbox = recordingAidbox();
    await activities(aidbox.port).provisionClientSecret({
      serviceId: id,
      secretVersion,
      environments: ['sandbox', 'production'],
    });
    expect(aidbox.calls).toEqual([
      { environment: 'sandbox', clientId: id, fingerprint },
      { environment: 'production', clientId: id, fingerprint },
    ]);
    expect(await secretStore.isShown(id, secretVersion)).toBe(false);
  });

  it('provisioning a deleted secret is a non-retryable SecretUnavailable failure', async () => {
    const id = serviceId();
    const { secretVersion } = await activities().generateClientSecret({ serviceId: id });
    await secretStore.deleteAll(id);
    const failure = await activities(recordingAidbox().port)
      .provisionClientSecret({ serviceId: id, secretVersion, environments: ['sandbox'] })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'SecretUnavailable', nonRetryable: true });
  });

  it('without an Aidbox port provisioning fails permanently', async () => {
    const id = serviceId();
    const { secretVersion } = await activities().generateClientSecret({ serviceId: id });
    await expect(
      activities().provisionClientSecret({ serviceId: id, secretVersion, environments: ['sandbox'] }),
    ).rejects.toMatchObject({ type: 'AidboxNotConfigured' });
  });

  it('an Aidbox error that echoes the secret reaches history scrubbed', async () => {
    const id = serviceId();
    const { secretVersion } = await activities().generateClientSecret({ serviceId: id });
    const plaintext = await secretStore.readForProvisioning(id, secretVersion);
    const echoing: AidboxSecretPort = {
      async patchClientSecret(_environment, _clientId, secret) {
        throw new Error(`422 from Aidbox: {"secret":"${secret}"}`);
      },
    };
    const error = (await activities(echoing)
      .provisionClientSecret({ serviceId: id, secretVersion, environments: ['sandbox'] })
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('[redacted]');
    expect(`${error.message}${error.stack}`).not.toContain(plaintext);
  });

  it('checkJwks returns a plain-JSON report with thumbprints, and flags a kid whose material changed', async () => {
    const id = serviceId();
    const report = await activities().checkJwks({
      serviceId: id,
      jwksUri: `http://localhost:${server.port}/jwks`,
    });
    expect(report.valid, report.summary).toBe(true);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(Object.keys(report.thumbprints)).toEqual(['k1']);

    const changed = await activities().checkJwks({
      serviceId: id,
      jwksUri: `http://localhost:${server.port}/jwks-changed`,
      previousThumbprints: report.thumbprints,
    });
    expect(changed.valid).toBe(false);
    expect(changed.keys[0]?.checks.find((c) => c.rule === 'D12' && !c.passed)).toBeDefined();
    expect(network.forbiddenAttempts().filter((a) => a.outcome !== 'loopback')).toEqual([]);
  });

  it('checkJwks never throws for what the URI owner controls', async () => {
    const report = await activities().checkJwks({
      serviceId: serviceId(),
      jwksUri: 'http://jwks.example.test/jwks',
    });
    expect(report.valid).toBe(false);
    expect(report.findings[0]).toMatchObject({ rule: 'U1', severity: 'error' });
  });
});
