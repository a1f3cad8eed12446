import type { Service } from '../api-client.js';
import { OWNER_NOTICES } from './owner-actions.js';

/**
 * One-time confirmations after an action (ctx.redirect leaves one for the next page). Each says
 * something that stays true only in some states, so a page shows it only while the service is in
 * one of them: a notice never contradicts the badge next to it.
 */
export const NOTICE_HOLDS: Record<string, (service: Service) => boolean> = {
  created: (s) => s.status === 'draft',
  submitted: (s) => s.status === 'under_review' && !s.approval,
  withdrawn: (s) => s.status === 'draft',
  revoked: (s) => s.rejection?.kind === 'revoked-by-owner',
  'staged-activated': (s) => !s.credentials.stagedSecret,
  'staged-dropped': (s) => !s.credentials.stagedSecret,
};

export const NOTICES: Record<string, string> = {
  created:
    'The service is registered as a Draft. It works against the sandbox as soon as its credentials are valid.',
  saved: 'Your changes are saved.',
  submitted: 'Submitted for review. An administrator will look at it; this page shows their decision.',
  rechecked: 'The JWKS was fetched and checked again.',
  'secret-shown':
    'This secret was already shown once and is not shown again. Rotate it if you did not keep it.',
  deleted: 'The service was deleted: its sandbox client and stored secret are gone.',
  ...OWNER_NOTICES,
};
