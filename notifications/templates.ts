import type {
  NotificationEvent,
  NotificationInput,
} from '../workflows/backend-service/notification-types.js';

/**
 * What each notification says, as plain text, HTML and a webhook body. Every value that comes from
 * a person (service name, reasons) is escaped in the HTML and kept to one line in the subject. A
 * message names the service and links to its page; it never carries a secret, a token or a key set:
 * the inputs hold none (notification-types.ts, NotificationInput), and the templates add none.
 */

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
/** One line: a subject never breaks into another header, whatever the name holds. */
const oneLine = (value: string) => value.replace(/[\r\n\t\u2028\u2029]+/g, ' ').trim();

/** The page a person acts on: the portal for owners, the review UI for reviewers. */
export function serviceLink(input: NotificationInput, publicUrl: string): string {
  const base = publicUrl.replace(/\/+$/, '');
  const id = encodeURIComponent(input.serviceId);
  return input.audience === 'reviewers' ? `${base}/admin/services/${id}` : `${base}/portal/services/${id}`;
}

interface Wording {
  subject: (name: string, input: NotificationInput) => string;
  /** Sentences; `reason` and `activateAt` are added by the renderer where the event has them. */
  lines: (input: NotificationInput) => string[];
}

const WORDING: Record<NotificationEvent, Wording> = {
  submitted: {
    subject: (name) => `Review requested: ${name}`,
    lines: () => ['was submitted for review and waits for an administrator.'],
  },
  'review-reminder': {
    subject: (name, i) =>
      `Reminder${i.reminder && i.reminder > 1 ? ` (${i.reminder})` : ''}: ${name} waits for review`,
    lines: () => ['is still waiting for review.'],
  },
  approved: {
    subject: (name) => `Approved: ${name} is active`,
    lines: () => ['was approved and is active in production.'],
  },
  rejected: {
    subject: (name) => `Declined at review: ${name}`,
    lines: () => ['was declined at review. You may edit it and submit it again.'],
  },
  'approval-failed': {
    subject: (name) => `Approval failed: ${name}`,
    lines: () => ['could not be set up in production; approve it again or reject it.'],
  },
  deactivated: {
    subject: (name) => `Deactivated: ${name}`,
    lines: () => ['was deactivated by an administrator. Production refuses it from now on.'],
  },
  revoked: {
    subject: (name) => `Revoked: ${name}`,
    lines: () => ['was revoked by its owner. Production refuses it from now on.'],
  },
  'credentials-failing': {
    subject: (name) => `Credentials failing: ${name}`,
    lines: () => [
      'has a key set that no longer passes validation. The service stays active; see its page for the report.',
    ],
  },
  'credentials-recovered': {
    subject: (name) => `Credentials recovered: ${name}`,
    lines: () => ['has a key set that passes validation again.'],
  },
  'staged-secret-soon': {
    subject: (name) => `A new secret goes live soon: ${name}`,
    lines: () => ['has a staged secret that goes live soon; the current secret stops working then.'],
  },
  'staged-secret-live': {
    subject: (name) => `New secret live: ${name}`,
    lines: () => ['has a new secret live; the previous one no longer works.'],
  },
};

const REASON_LABEL: Partial<Record<NotificationEvent, string>> = {
  rejected: 'Reason',
  deactivated: 'Reason',
  revoked: 'Reason',
  'approval-failed': 'Last error',
};

export function renderMail(input: NotificationInput, publicUrl: string): RenderedMail {
  const wording = WORDING[input.event];
  const name = oneLine(input.serviceName);
  const link = serviceLink(input, publicUrl);
  const sentence = `${name} (${input.serviceId}) ${wording.lines(input).join(' ')}`;
  const details: Array<[string, string]> = [];
  if (input.reason && REASON_LABEL[input.event]) details.push([REASON_LABEL[input.event]!, input.reason]);
  if (input.activateAt) details.push(['Goes live at', input.activateAt]);
  const text = [
    sentence,
    ...details.map(([label, value]) => `${label}: ${value}`),
    '',
    `Open it: ${link}`,
    '',
    '-- Backend Services registry',
  ].join('\n');
  const html = [
    '<!doctype html><html><body>',
    `<p>${escapeHtml(sentence)}</p>`,
    ...details.map(([label, value]) => `<p><strong>${escapeHtml(label)}:</strong> ${escapeHtml(value)}</p>`),
    `<p><a href="${escapeHtml(link)}">Open ${escapeHtml(name)}</a></p>`,
    '<p>Backend Services registry</p>',
    '</body></html>',
  ].join('\n');
  return { subject: oneLine(wording.subject(name, input)), text, html };
}

/** The webhook's JSON body: the event, the service and its page; the same for every retry of one key. */
export function webhookBody(input: NotificationInput, publicUrl: string): string {
  return JSON.stringify({
    type: `backend_service.${input.event}`,
    timestamp: input.at,
    data: {
      serviceId: input.serviceId,
      serviceName: input.serviceName,
      status: input.status,
      reason: input.reason,
      ...(input.reminder ? { reminder: input.reminder } : {}),
      ...(input.activateAt ? { activateAt: input.activateAt } : {}),
      url: serviceLink(input, publicUrl),
    },
  });
}
