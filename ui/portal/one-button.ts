import { randomUUID } from 'node:crypto';
import { html } from 'hono/html';
import type { PageContext } from '../handler.js';
import { csrfField } from '../views/layout.js';

/** A command as one button: a form posting to `action` with the CSRF token and a fresh idempotency key. */
export const oneButton = (ctx: PageContext, action: string, label: string, cls = '') =>
  html`<form method="post" action="${action}">
    ${csrfField(ctx.csrf)}
    <input type="hidden" name="idempotencyKey" value="${randomUUID()}" />
    <button type="submit" class="${cls}">${label}</button>
  </form>`;
