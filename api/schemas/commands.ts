import { z } from '@hono/zod-openapi';
import { multiLineText } from '../text-fields.js';

/** The bodies of the commands beside create and edit: approve, decide with a reason, rotate, check an assertion. */

export const ApproveBody = z
  .strictObject({
    revision: z.number().int().min(1),
    policyHash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'the policy hash shown with the production policies' }),
  })
  .openapi('ApproveRequest');

export const ReasonBody = z
  .strictObject({ reason: multiLineText('reason').trim().min(1).max(2000) })
  .openapi('DecisionRequest');

export const RotateSecretBody = z
  .strictObject({
    activateAt: z.iso
      .datetime({ offset: true, error: 'an RFC 3339 time with a time zone, e.g. 2026-12-01T09:00:00Z' })
      .optional()
      .openapi({
        description:
          'Stage the new secret to go live at this time (the live secret keeps working until then); without it the new secret is live at once',
        example: '2026-12-01T09:00:00Z',
      }),
  })
  .openapi('RotateSecretRequest');

export const AssertionCheckBody = z
  .strictObject({
    environment: z.enum(['sandbox', 'production']),
    clientAssertion: z.string().min(1).max(16_384),
  })
  .openapi('AssertionCheckRequest');
