import type { JwksReport } from '../credentials/jwks-report.js';
import type {
  Credentials,
  CredentialHealth,
  PendingChange,
  ProjectedState,
  SubmissionSnapshot,
} from '../workflows/backend-service/service-state.js';

/**
 * What the read model's `summary` column holds: the parts of a service's state a list item is built
 * from (api/services/present.ts presents it, exactly as it presents the whole state), and nothing
 * else: no submissions with their derived production policies, no JWKS reports of the live key set,
 * no thumbprints, no clean-up bookkeeping. PostgreSQL computes it from `state` (a generated column,
 * db/migrations/2026-12-01T0900_service-summary.ts), so it can never disagree with the row it is in;
 * docs/decisions/read-path.md says why.
 *
 * A structural subset of ProjectedState: a full state is a summary too, so the detail (one
 * primary-key read of `state`) and the lists share one presenter.
 */
export type ServiceSummary = Pick<
  ProjectedState,
  | 'serviceId'
  | 'ownerId'
  | 'registration'
  | 'status'
  | 'revision'
  | 'rejection'
  | 'approval'
  | 'sandbox'
  | 'productionProvisioned'
  | 'createdAt'
  | 'updatedAt'
  | 'deletedAt'
  | 'projectionError'
> & {
  credentials: Pick<Credentials, 'state' | 'checkedAt' | 'secret' | 'stagedSecret'> & {
    health?: (Omit<CredentialHealth, 'report'> & { report: Pick<JwksReport, 'summary'> | null }) | null;
  };
  pendingChange?:
    | (Pick<PendingChange, 'revision' | 'state' | 'registration' | 'rejection'> & {
        credentials: Pick<PendingChange['credentials'], 'state' | 'jwksReport'>;
        submission: Pick<SubmissionSnapshot, 'submittedAt'> | null;
      })
    | null;
};
