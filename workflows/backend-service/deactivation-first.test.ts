import { Context } from '@temporalio/activity';
import { WorkflowUpdateStage, type WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AidboxClient } from '../../aidbox/client.js';
import { startKeyServer, type TestKeyServer } from '../../test-support/key-server.js';
import {
  fhirGet,
  registration,
  startService,
  tokenWithAssertion,
  tokenWithSecret,
  updateFailure,
  waitForProjection,
} from '../../test-support/services.js';
import { startTestSystem, type TestSystem } from '../../test-support/system.js';
import { startTestWorker, type RunningWorker } from '../../test-support/temporal.js';
import {
  approveUpdate,
  deactivateUpdate,
  recheckCredentialsUpdate,
  rotateSecretUpdate,
  stateQuery,
  submitUpdate,
} from './messages.js';
import type { backendService } from './workflow.js';

/**
 * The one action that must never fail is cutting a client off. These tests try to stop it as the
 * client's owner could: a poisoned JWK Set, and a job that never ends. Whenever production answers,
 * its token endpoint must refuse the client within 10 seconds of the administrator's deactivate.
 */
const CUT_OFF_WITHIN_MS = 10_000;

const alice = { sub: 'alice', roles: ['developer'] };
const bob = { sub: 'bob', roles: ['admin'] };

/** Production's Aidbox client whose secret patch blocks (heartbeating) for the clients wedged here. */
class WedgedAidbox extends AidboxClient {
  private readonly wedged = new Map<string, () => void>();
  readonly entered = new Map<string, Promise<void>>();
  wedge(clientId: string) {
    let entered!: () => void;
    this.entered.set(clientId, new Promise<void>((resolve) => (entered = resolve)));
    this.wedged.set(clientId, entered);
  }
  release(clientId: string) {
    this.wedged.delete(clientId);
  }
  override async rotateSecret(id: string, secret: string): Promise<void> {
    const entered = this.wedged.get(id);
    if (entered) {
      entered();
      const context = Context.current();
      // Context.sleep rejects once the workflow cancels the activity (delivered on a heartbeat).
      while (this.wedged.has(id)) {
        context.heartbeat();
        await context.sleep(100);
      }
    }
    return super.rotateSecret(id, secret);
  }
}

describe('deactivation cuts a client off whatever the service is doing', () => {
  let system: TestSystem;
  let keys: TestKeyServer;
  let wedged: WedgedAidbox;
  let wedgedWorker: RunningWorker;

  beforeAll(async () => {
    system = await startTestSystem();
    keys = await startKeyServer();
    wedged = new WedgedAidbox(system.environments.production, { timeoutMs: 3_000 });
    wedgedWorker = await startTestWorker({
      ...system.deps,
      aidbox: { sandbox: system.aidbox.sandbox, production: wedged },
    });
  });
  afterAll(async () => {
    await wedgedWorker?.stop();
    await keys?.close();
    await system?.stop();
  });

  const url = (env: 'sandbox' | 'production') => system.standins[env].url;

  async function activate(handle: WorkflowHandle<typeof backendService>, serviceId: string) {
    await waitForProjection(system.db, serviceId, (s) => s.sandbox.state === 'ready');
    await handle.executeUpdate(submitUpdate, { args: [{ actor: alice }] });
    const { submission } = await handle.query(stateQuery);
    await handle.executeUpdate(approveUpdate, {
      args: [
        { actor: bob, revision: submission!.revision, policyHash: submission!.productionPolicies.policyHash },
      ],
    });
    await waitForProjection(system.db, serviceId, (s) => s.status === 'active');
  }

  /**
   * A token issued before the cut-off reads nothing from then on: the Client goes inactive, its
   * policies go (403), then its sessions are revoked (401) — never a 200 again, and 401 within 5 s.
   */
  async function expectEarlierTokenCutOff(accessToken: string) {
    const read = async () =>
      (await fhirGet(url('production'), '/Organization/org-payer-a/fhir/Patient', accessToken)).status;
    expect(await read()).not.toBe(200);
    await expect.poll(read, { timeout: 5_000, interval: 100 }).toBe(401);
  }

  /** Polls production's token endpoint until it refuses; the milliseconds since `since`, or undefined at the limit. */
  async function refusedWithin(token: () => Promise<Response>, since: number, limitMs: number) {
    while (Date.now() - since < limitMs) {
      if ((await token()).status !== 200) return Date.now() - since;
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  }

  it('the attack: a JWK Set with a NUL in a kid, a re-check, then deactivate: production refuses within 10 s', async () => {
    const { serviceId, handle } = await startService(
      system,
      registration({ type: 'jwks_uri', jwksUri: keys.jwksUri }),
    );
    await activate(handle, serviceId);
    const tokenUrl = `${url('production')}/auth/token`;
    const productionToken = async () =>
      tokenWithAssertion(url('production'), await keys.assertion(serviceId, tokenUrl), 'system/Patient.rs');
    const earlier = (await (await productionToken()).json()) as { access_token: string };

    // The owner's key server adds a key whose kid holds NUL, and the owner asks for a re-check.
    const good = JSON.parse(JSON.stringify((await (await fetch(keys.jwksUri)).json()) as object)) as {
      keys: Array<Record<string, unknown>>;
    };
    keys.publish({ keys: [...good.keys, { ...good.keys[0]!, kid: 'nul\u0000kid' }] });
    const rechecked = await handle.executeUpdate(recheckCredentialsUpdate, { args: [{ actor: alice }] });
    expect(rechecked.status).toBe('active');
    // The poisoned key is refused and shown escaped; the read model holds the report.
    const projected = await waitForProjection(
      system.db,
      serviceId,
      (s) => s.credentials.jwksReport?.keys.length === 2,
    );
    const poisoned = projected.credentials.jwksReport!.keys[1]!;
    expect(poisoned).toMatchObject({ kid: 'nul\\u0000kid', status: 'rejected' });
    expect(poisoned.checks.find((c) => c.rule === 'D15' && !c.passed)?.message).toContain('U+0000');

    const since = Date.now();
    await handle.executeUpdate(deactivateUpdate, {
      args: [{ actor: bob, reason: 'key server compromised' }],
    });
    const elapsed = await refusedWithin(productionToken, since, CUT_OFF_WITHIN_MS);
    expect(elapsed, 'production still issues tokens 10 s after the deactivate').toBeDefined();
    expect((await productionToken()).status).toBe(400);
    await expectEarlierTokenCutOff(earlier.access_token);
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'rejected', rejection: { kind: 'deactivated' } });
    const row = await waitForProjection(system.db, serviceId, (s) => s.cleanup?.done === true);
    expect(row.status).toBe('rejected');
    keys.restore();
  });

  async function wedgedRotation(deactivationJumpsQueue: boolean) {
    const { serviceId, handle } = await startService(system, registration({ type: 'client_secret' }), {
      taskQueue: wedgedWorker.taskQueue,
      input: { deactivationJumpsQueue },
    });
    await activate(handle, serviceId);
    const secret = await system.secretStore.reveal(serviceId, 1);
    const productionToken = () => tokenWithSecret(url('production'), serviceId, secret, 'system/Patient.rs');
    const earlier = (await (await productionToken()).json()) as { access_token: string };

    // The owner rotates; production's secret patch never returns.
    wedged.wedge(serviceId);
    const rotation = handle.executeUpdate(rotateSecretUpdate, { args: [{ actor: alice }] });
    rotation.catch(() => undefined);
    await wedged.entered.get(serviceId);

    const since = Date.now();
    await handle.startUpdate(deactivateUpdate, {
      args: [{ actor: bob, reason: 'owner reported a leaked secret' }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    const elapsed = await refusedWithin(productionToken, since, CUT_OFF_WITHIN_MS);
    return { serviceId, handle, elapsed, rotation, earlier };
  }

  it('a job wedged on purpose is cancelled: production refuses the client within 10 s, the rotation answers why', async () => {
    const { serviceId, handle, elapsed, rotation, earlier } = await wedgedRotation(true);
    expect(elapsed, 'production still issues tokens 10 s after the deactivate').toBeDefined();
    console.log(`[deactivation-first] production refused the client ${elapsed} ms after the deactivate`);
    await expectEarlierTokenCutOff(earlier.access_token);
    const failure = await updateFailure(rotation);
    expect(failure.type).toBe('CancelledByDeactivation');
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'rejected', cleanup: { done: true, lastError: null } });
    expect(await system.aidbox.sandbox.readClient(serviceId)).toBeUndefined();
    wedged.release(serviceId);
  });

  it('negative control: with the queue-jump switched off, the same wedged job keeps production serving past 10 s', async () => {
    const { serviceId, handle, elapsed } = await wedgedRotation(false);
    expect(elapsed).toBeUndefined();
    // Let the wedged job go: the deactivation then runs, late, and the workflow ends.
    wedged.release(serviceId);
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'rejected', rejection: { kind: 'deactivated' } });
  }, 90_000);
});
