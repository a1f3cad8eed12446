import { html } from 'hono/html';
import type { HistoryItem } from '../api-client.js';
import { STATUS_LABELS, when } from './format.js';
import type { Html } from './layout.js';

const ACTION_LABELS: Record<string, string> = {
  create: 'Registered',
  edit: 'Edited',
  submit: 'Submitted for review',
  approve: 'Approved (production being set up)',
  'approval-completed': 'Live in production',
  'approval-failed': 'Production setup failed',
  reject: 'Rejected at review',
  deactivate: 'Deactivated',
  'rotate-secret': 'Secret rotated',
  withdraw: 'Submission withdrawn',
  revoke: 'Revoked by the owner',
  delete: 'Deleted',
  'stage-secret': 'Secret rotation planned',
  'activate-staged-secret': 'Planned secret made live',
  'drop-staged-secret': 'Planned secret dropped',
  // A command whose token did not verify: nothing changed, and "who" is only what it claimed.
  'refused-command': 'Refused command (not from the API)',
};

/** One row of a table: its cells in column order (each gets its column's name for narrow screens). */
export type Row = Html[] | { cells: Html[]; className?: string };

/**
 * A captioned table with column headers: the shape of every list the pages show. It scrolls inside
 * its own box when wider than the page; below 720 px each row is stacked, every cell labelled by
 * its column (the stylesheet's `table.stack`).
 */
export function dataTable(table: {
  className?: string;
  caption: string | Html;
  columns: string[];
  rows: Row[];
  stack?: boolean;
}): Html {
  const classes = [table.className ?? '', table.stack === false ? '' : 'stack'].filter(Boolean).join(' ');
  // A box that may scroll sideways is a named stop for the keyboard (it is scrolled with the arrows).
  const region =
    typeof table.caption === 'string'
      ? html`role="region" aria-label="${table.caption}" tabindex="0"`
      : html``;
  return html`<div class="table-wrap" ${region}>
    <table class="${classes}">
      <caption>
        ${table.caption}
      </caption>
      <thead>
        <tr>
          ${table.columns.map((column) => html`<th scope="col">${column}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${table.rows.map((row) => {
          const { cells, className } = Array.isArray(row) ? { cells: row, className: '' } : row;
          return html`<tr class="${className ?? ''}">
            ${cells.map((cell, i) => html`<td data-label="${table.columns[i] ?? ''}">${cell}</td>`)}
          </tr>`;
        })}
      </tbody>
    </table>
  </div>`;
}

export function historyTable(items: HistoryItem[]): Html {
  if (items.length === 0) return html`<p>No history yet.</p>`;
  return dataTable({
    className: 'history',
    caption: 'History',
    columns: ['When', 'What', 'Who', 'Status', 'Revision', 'Reason'],
    rows: items.map((h) => [
      when(h.at),
      html`${ACTION_LABELS[h.action] ?? h.action}`,
      h.action === 'refused-command' ? html`${h.actor} <em>(claimed, unverified)</em>` : html`${h.actor}`,
      html`${h.from && h.from !== h.to ? html`${STATUS_LABELS[h.from]} → ` : ''}${STATUS_LABELS[h.to]}`,
      html`${h.revision}`,
      html`${h.reason ?? ''}`,
    ]),
  });
}
