import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../db/database.js';
import { createKeyring } from './keyring.js';
import { secretFingerprint, SecretDecryptionFailed, UnknownSecretKey } from './secret-crypto.js';
import {
  createSecretStore,
  SecretAlreadyShown,
  SecretCiphertextDeleted,
  SecretNotFound,
} from './secret-store.js';

/** The encrypted store against the run's migrated test database. */

const db = createDb(inject('databaseUrl'), { poolSize: 4 });
afterAll(() => db.destroy());

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const store = createSecretStore(db, createKeyring(new Map([['a', keyA]]), 'a'));
const newServiceId = () => `bs-${randomUUID().replace(/-/g, '').slice(0, 20)}`;

async function row(serviceId: string, version: number) {
  return db
    .selectFrom('client_secret')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('secret_version', '=', version)
    .executeTakeFirstOrThrow();
}

describe('SecretStore', () => {
  it('creates numbered versions and returns only version and fingerprint', async () => {
    const serviceId = newServiceId();
    const first = await store.create(serviceId);
    const second = await store.create(serviceId);
    expect(Object.keys(first).sort()).toEqual(['fingerprint', 'secretVersion']);
    expect(first.secretVersion).toBe(1);
    expect(second.secretVersion).toBe(2);
    expect(first.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(secretFingerprint(await store.readForProvisioning(serviceId, 1))).toBe(first.fingerprint);
  });

  it('is idempotent when the caller names the version (an activity retry creates nothing new)', async () => {
    const serviceId = newServiceId();
    const first = await store.create(serviceId, { secretVersion: 1 });
    const plaintext = await store.readForProvisioning(serviceId, 1);
    const retry = await store.create(serviceId, { secretVersion: 1 });
    expect(retry).toEqual(first);
    expect(await store.readForProvisioning(serviceId, 1)).toBe(plaintext);
  });

  it('allocates distinct versions under concurrent creates', async () => {
    const serviceId = newServiceId();
    const created = await Promise.all(Array.from({ length: 4 }, () => store.create(serviceId)));
    expect(created.map((c) => c.secretVersion).sort()).toEqual([1, 2, 3, 4]);
  });

  it('keeps no plaintext in the database outside the ciphertext', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    const plaintext = await store.readForProvisioning(serviceId, 1);
    const stored = await row(serviceId, 1);
    const everything = Object.values(stored)
      .map((v) =>
        Buffer.isBuffer(v)
          ? `${v.toString('utf8')}${v.toString('base64')}${v.toString('base64url')}${v.toString('hex')}`
          : String(v),
      )
      .join('|');
    expect(everything).not.toContain(plaintext);
    expect(everything).not.toContain(Buffer.from(plaintext, 'base64url').toString('hex'));
    expect(stored.key_id).toBe('a');
  });

  it('reveals once, then refuses with a clear error', async () => {
    const serviceId = newServiceId();
    const { fingerprint } = await store.create(serviceId);
    expect(await store.isShown(serviceId, 1)).toBe(false);
    await store.readForProvisioning(serviceId, 1); // provisioning does not count as showing
    expect(await store.isShown(serviceId, 1)).toBe(false);
    const plaintext = await store.reveal(serviceId, 1);
    expect(secretFingerprint(plaintext)).toBe(fingerprint);
    expect(await store.isShown(serviceId, 1)).toBe(true);
    await expect(store.reveal(serviceId, 1)).rejects.toThrow(SecretAlreadyShown);
    await expect(store.reveal(serviceId, 1)).rejects.toThrow(
      /has already been shown; it is never shown twice/,
    );
  });

  it('two concurrent reveals: exactly one gets the secret', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    const outcomes = await Promise.allSettled([
      store.reveal(serviceId, 1),
      store.reveal(serviceId, 1),
      store.reveal(serviceId, 1),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(SecretAlreadyShown);
  });

  it('a tampered ciphertext fails and the version stays unshown', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    await db
      .updateTable('client_secret')
      // Flip the first byte's bits (setting it to a constant is no change when it already is that byte: 1 run in 256).
      .set({ ciphertext: sql<Buffer>`set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 255)` })
      .where('service_id', '=', serviceId)
      .execute();
    await expect(store.reveal(serviceId, 1)).rejects.toThrow(SecretDecryptionFailed);
    await expect(store.readForProvisioning(serviceId, 1)).rejects.toThrow(SecretDecryptionFailed);
    expect(await store.isShown(serviceId, 1)).toBe(false);
  });

  it('a ciphertext copied onto another version fails (bound by the additional data)', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    await store.create(serviceId);
    const v1 = await row(serviceId, 1);
    await db
      .updateTable('client_secret')
      .set({ iv: v1.iv, ciphertext: v1.ciphertext, auth_tag: v1.auth_tag })
      .where('service_id', '=', serviceId)
      .where('secret_version', '=', 2)
      .execute();
    await expect(store.readForProvisioning(serviceId, 2)).rejects.toThrow(SecretDecryptionFailed);
  });

  it('a wrong key ID fails', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    await db
      .updateTable('client_secret')
      .set({ key_id: 'retired' })
      .where('service_id', '=', serviceId)
      .execute();
    await expect(store.reveal(serviceId, 1)).rejects.toThrow(UnknownSecretKey);
    expect(await store.isShown(serviceId, 1)).toBe(false);
  });

  it('a store whose keyring lacks the key ID cannot read, and one with other material under that ID cannot either', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    await expect(
      createSecretStore(db, createKeyring(new Map([['b', keyB]]), 'b')).readForProvisioning(serviceId, 1),
    ).rejects.toThrow(UnknownSecretKey);
    await expect(
      createSecretStore(db, createKeyring(new Map([['a', keyB]]), 'a')).readForProvisioning(serviceId, 1),
    ).rejects.toThrow(SecretDecryptionFailed);
  });

  it('rotation: new secrets use the new key ID, old ones stay readable', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    const rotated = createSecretStore(
      db,
      createKeyring(
        new Map([
          ['a', keyA],
          ['b', keyB],
        ]),
        'b',
      ),
    );
    await rotated.create(serviceId);
    expect((await row(serviceId, 2)).key_id).toBe('b');
    await expect(rotated.readForProvisioning(serviceId, 1)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect(rotated.reveal(serviceId, 2)).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('deletes the ciphertext only once shown', async () => {
    const serviceId = newServiceId();
    await store.create(serviceId);
    expect(await store.deleteIfDone(serviceId, 1)).toBe(false); // not shown yet
    expect((await row(serviceId, 1)).ciphertext).not.toBeNull();
    await store.reveal(serviceId, 1);
    expect(await store.deleteIfDone(serviceId, 1)).toBe(true);
    const deleted = await row(serviceId, 1);
    expect([deleted.key_id, deleted.iv, deleted.ciphertext, deleted.auth_tag]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(deleted.ciphertext_deleted_at).not.toBeNull();
    expect(await store.isShown(serviceId, 1)).toBe(true);
    expect(await store.deleteIfDone(serviceId, 1)).toBe(true);
    await expect(store.readForProvisioning(serviceId, 1)).rejects.toThrow(SecretCiphertextDeleted);
  });

  it('deleteAll clears every version of the service at deactivation, and nothing else', async () => {
    const serviceId = newServiceId();
    const bystander = newServiceId();
    await store.create(serviceId);
    await store.create(serviceId);
    await store.create(bystander);
    await store.deleteAll(serviceId);
    await expect(store.reveal(serviceId, 2)).rejects.toThrow(SecretCiphertextDeleted);
    await expect(store.readForProvisioning(serviceId, 1)).rejects.toThrow(SecretCiphertextDeleted);
    await expect(store.readForProvisioning(bystander, 1)).resolves.toBeTruthy();
  });

  it('says when a version does not exist', async () => {
    await expect(store.reveal(newServiceId(), 1)).rejects.toThrow(SecretNotFound);
    await expect(store.isShown(newServiceId(), 3)).rejects.toThrow(/has no secret version 3/);
  });
});
