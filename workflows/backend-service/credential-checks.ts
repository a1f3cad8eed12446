import { ApplicationFailure } from '@temporalio/workflow';
import type { JwksReport } from '../../credentials/jwks-report.js';
import { FailureType } from './failure-types.js';
import type { UpdateResult } from './inputs.js';
import type { RunContext } from './run-context.js';
import type { Sandbox } from './sandbox.js';

/**
 * The service's own JWKS check (a pending change has its own, live-change-jobs.ts): at registration
 * and edit, fresh before submit and approve, and when the developer asks for a re-check.
 */
export function createCredentialChecks(ctx: RunContext, sandbox: Sandbox) {
  const { state, acts } = ctx;

  async function checkCredentials(): Promise<JwksReport | null> {
    const method = state.registration.authMethod;
    if (method.type !== 'jwks_uri') return null;
    const report = await acts.checkJwks.executeWithOptions(
      ctx.internalOptions('Fetch and validate the JWKS'),
      [
        {
          serviceId: state.serviceId,
          jwksUri: method.jwksUri,
          previousThumbprints: state.credentials.acceptedThumbprints,
        },
      ],
    );
    state.credentials = {
      ...state.credentials,
      state: report.valid ? 'valid' : 'invalid',
      checkedAt: report.checkedAt,
      jwksReport: report,
      acceptedThumbprints: report.valid ? (report.thumbprints ?? {}) : state.credentials.acceptedThumbprints,
    };
    await ctx.project(null);
    return report;
  }

  /** A fresh JWKS check before submit and approve; failing, the update fails with the report (409). */
  async function requireValidCredentials(): Promise<void> {
    const report = await checkCredentials();
    if (report && !report.valid) {
      throw ApplicationFailure.create({
        type: FailureType.CredentialsInvalid,
        message: 'the JWKS at the registered URI does not pass validation; see the JWKS report',
        details: [{ currentStatus: state.status, report }],
        nonRetryable: true,
      });
    }
  }

  /** The developer fixed their key server: check again, and serve the sandbox once valid. */
  async function recheckCredentials(): Promise<UpdateResult> {
    await checkCredentials();
    await sandbox.syncSandbox();
    return ctx.result();
  }

  return { checkCredentials, requireValidCredentials, recheckCredentials };
}

export type CredentialChecks = ReturnType<typeof createCredentialChecks>;
