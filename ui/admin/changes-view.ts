import { html } from 'hono/html';
import type { HistoryItem, ProductionPolicies, Service } from '../api-client.js';
import { when } from '../views/format.js';
import type { Html } from '../views/layout.js';
import { dataTable } from '../views/tables.js';

/** The registration a previous review saw. */
type ReviewedRegistration = NonNullable<ProductionPolicies['previousSubmission']>['registration'];

/** Scopes added and removed since the previous review, one scope at a time. */
export function scopeChanges(previous: ReviewedRegistration, service: Service): Html {
  const before = previous.scopes.strings;
  const now = service.scopes.strings;
  const added = now.filter((s) => !before.includes(s));
  const removed = before.filter((s) => !now.includes(s));
  if (!added.length && !removed.length) return html`Scopes unchanged since the previous review.`;
  return html`<ul class="scopes">
    ${added.map((s) => html`<li class="added"><span class="visually-hidden">added </span><code>+ ${s}</code></li>`)}
    ${removed.map((s) => html`<li class="removed"><span class="visually-hidden">removed </span><code>− ${s}</code></li>`)}
  </ul>`;
}

/** One side of the scope diff: every scope, those missing from the other side marked. */
function markedScopes(list: string[], other: string[], mark: 'added' | 'removed'): Html {
  return html`<ul class="scopes">
    ${list.map((s) =>
      other.includes(s)
        ? html`<li><code>${s}</code></li>`
        : html`<li class="${mark}"><span class="visually-hidden">${mark} </span><code>${s}</code></li>`,
    )}
  </ul>`;
}

/**
 * What changed since the previous review. The field-by-field comparison needs the previous
 * submission from the API (`previousSubmission`); until it has one, the history shows what happened
 * between the two reviews (the decline, its reason, the edits).
 */
export function changesSinceLastReview(
  service: Service,
  history: HistoryItem[],
  submitted: ProductionPolicies | null,
): Html {
  const submits = history.filter((h) => h.action === 'submit');
  if (submits.length < 2) return html``;
  const lastReject = [...history].reverse().find((h) => h.action === 'reject');
  const lastSubmit = submits[submits.length - 1]!;
  const previousSubmit = submits[submits.length - 2]!;
  const edits = history.filter(
    (h) => h.action === 'edit' && h.at > previousSubmit.at && h.at <= lastSubmit.at,
  );
  const previous = submitted?.previousSubmission ?? null;
  return html`<section aria-labelledby="changes-h" class="changes">
    <h2 id="changes-h">Resubmission: changes since the previous review</h2>
    <p>
      Previously submitted at revision ${previousSubmit.revision}
      (${when(previousSubmit.at)})${
        lastReject
          ? html`, rejected by ${lastReject.actor} ${when(lastReject.at)} with the reason
              <q class="reason">${(lastReject.reason ?? '').trim()}</q>`
          : ''
      }.
      Resubmitted at revision ${lastSubmit.revision} after ${edits.length}
      edit${edits.length === 1 ? '' : 's'}.
    </p>
    ${previous ? registrationDiff(previous.registration, service, previous.policyHash, submitted?.policyHash ?? '') : ''}
  </section>`;
}

function registrationDiff(
  previous: ReviewedRegistration,
  service: Service,
  oldHash: string,
  newHash: string,
): Html {
  const authOf = ({ authMethod }: Pick<Service, 'authMethod'>) =>
    authMethod.type === 'jwks_uri' ? `JWKS URI ${authMethod.jwksUri}` : 'Client secret';
  const text = (a: string, b: string): [Html, Html] => [html`<del>${a}</del>`, html`<ins>${b}</ins>`];
  const rows: Array<[string, boolean, Html, Html]> = [
    ['Name', previous.name !== service.name, ...text(previous.name, service.name)],
    [
      'Description',
      previous.description !== service.description,
      ...text(previous.description, service.description),
    ],
    [
      'Contact',
      previous.contactEmail !== service.contactEmail,
      ...text(previous.contactEmail, service.contactEmail),
    ],
    ['Authentication', authOf(previous) !== authOf(service), ...text(authOf(previous), authOf(service))],
    [
      'Scopes',
      previous.scopes.strings.join(' ') !== service.scopes.strings.join(' '),
      markedScopes(previous.scopes.strings, service.scopes.strings, 'removed'),
      markedScopes(service.scopes.strings, previous.scopes.strings, 'added'),
    ],
    [
      'Organization',
      previous.organizationId !== service.organizationId,
      ...text(previous.organizationId ?? '—', service.organizationId ?? '—'),
    ],
    [
      'Policy hash',
      oldHash !== newHash,
      html`<code>${oldHash.slice(0, 16)}…</code>`,
      html`<code>${newHash.slice(0, 16)}…</code>`,
    ],
  ];
  const changed = rows.filter(([, differs]) => differs);
  if (changed.length === 0) return html`<p>No field changed.</p>`;
  return dataTable({
    className: 'diff',
    caption: 'Changed fields',
    columns: ['Field', 'Previous review', 'Now'],
    rows: changed.map(([f, , a, b]) => [html`${f}`, a, b]),
  });
}

/** What approving a change does to production's access policies, each with its reason. */
export function policyDiffView(
  diff: Record<'added' | 'removed' | 'changed', Array<{ id: string; reason: string }>> | null,
): Html {
  if (!diff) return html``;
  const part = (title: string, items: Array<{ id: string; reason: string }>) =>
    items.length
      ? html`<h3>${title}</h3>
          <ul>
            ${items.map((p) => html`<li>${p.reason}</li>`)}
          </ul>`
      : '';
  const none = !diff.added.length && !diff.removed.length && !diff.changed.length;
  return html`<section aria-labelledby="policy-diff-h">
    <h2 id="policy-diff-h">What production's policies become</h2>
    ${none ? html`<p>No access policy changes: the change touches only the registration.</p>` : ''}
    ${part('Added', diff.added)} ${part('Removed', diff.removed)} ${part('Changed', diff.changed)}
  </section>`;
}
