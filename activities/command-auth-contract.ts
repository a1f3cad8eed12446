import type { Actor } from '../workflows/backend-service/inputs.js';

/**
 * The local activity that judges a command token (worker/command-verifier.ts). It runs in the
 * worker, with the verification keys of the worker's configuration: keys never come from workflow
 * input or history. Its answer is recorded in the history as a local-activity marker, so a replay
 * reuses the judgement made when the command arrived.
 */
export interface CommandCheckInput {
  workflowId: string;
  /** The update name, or `start`. */
  name: string;
  /** The argument as received, token included (the digest excludes it). */
  argument: unknown;
}

export type CommandCheckResult =
  | {
      verified: true;
      actor: Actor;
      /** null when verification is switched off (tests only). */
      jti: string | null;
      /** Expiry (seconds since the epoch); 0 when verification is off. */
      exp: number;
    }
  | {
      verified: false;
      /** Why, in words (no key material, no token). */
      reason: string;
      /** Who the command claims to come from (token or argument): unverified. */
      claimedActor: string;
    };

export interface CommandAuthActivities {
  verifyCommand(input: CommandCheckInput): Promise<CommandCheckResult>;
}
