import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Organization, Problem, Service } from '../api-client.js';
import { problemPage, type PageContext } from '../handler.js';
import { withoutRuleIds } from '../views/plain-language.js';
import { checkForm, fieldErrorsFrom } from '../views/registration-checks.js';
import { registrationForm } from '../views/registration-form.js';
import {
  emptyForm,
  formFromBody,
  formFromService,
  toRegistrationInput,
  withoutRow,
  withPreset,
  type FormState,
} from '../views/registration-state.js';
import type { FieldErrors } from '../views/field-errors.js';
import { rejectionView } from '../views/service-state.js';
import { servicePath } from './paths.js';
import type { PortalDeps } from './routes.js';
import { secretPage } from './secret-page.js';

/**
 * Register and edit: the form, redrawn by its own buttons (preview, rows, presets) without saving,
 * checked on the page first and then by the API, whose refusals land next to their fields.
 */
export function registerRegistrationPages(ui: Hono, deps: PortalDeps): void {
  const { handle } = deps;
  ui.get(
    '/portal/services/new',
    handle({ signedIn: true }, async (ctx) =>
      renderForm(ctx, deps, emptyForm(randomUUID()), 'create', new Map(), false),
    ),
  );

  ui.post(
    '/portal/services/new',
    handle({ signedIn: true }, async (ctx) => {
      const form = formFromBody(ctx.form);
      if (!form.idempotencyKey) form.idempotencyKey = randomUUID();
      const redrawn = formIntent(ctx.form.intent, form);
      if (redrawn) return renderForm(ctx, deps, redrawn, 'create', new Map(), true);
      const local = checkForm(form, deps.orgbac);
      if (local.size) return renderForm(ctx, deps, form, 'create', local, true, { status: 400 });

      const { input, rowOfRule } = toRegistrationInput(form, deps.orgbac);
      const answer = await ctx.api.register(input, form.idempotencyKey);
      if (!answer.ok) return formRefusal(ctx, deps, form, 'create', answer.problem, rowOfRule);
      const service = answer.body;
      if (service.authMethod.type === 'client_secret') {
        if (typeof service.clientSecret === 'string')
          return secretPage(ctx, service, service.clientSecret, 'created');
        return ctx.redirect(servicePath(service.id), 'secret-shown');
      }
      return ctx.redirect(servicePath(service.id), 'created');
    }),
  );

  ui.get(
    '/portal/services/:id/edit',
    handle({ signedIn: true }, async (ctx) => {
      const answer = await ctx.api.get(ctx.c.req.param('id')!);
      if (!answer.ok) return problemPage(ctx, answer.problem, 'portal');
      const service = answer.body;
      return renderForm(ctx, deps, formFromService(service, randomUUID()), 'edit', new Map(), true, {
        service,
      });
    }),
  );

  ui.post(
    '/portal/services/:id/edit',
    handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.param('id')!;
      const current = await ctx.api.get(id);
      if (!current.ok) return problemPage(ctx, current.problem, 'portal');
      const service = current.body;
      const form = formFromBody(ctx.form);
      form.authType = service.authMethod.type; // the method cannot change
      if (!form.idempotencyKey) form.idempotencyKey = randomUUID();
      const redrawn = formIntent(ctx.form.intent, form);
      if (redrawn) return renderForm(ctx, deps, redrawn, 'edit', new Map(), true, { service });
      const local = checkForm(form, deps.orgbac);
      if (local.size) return renderForm(ctx, deps, form, 'edit', local, true, { service, status: 400 });
      const { input, rowOfRule } = toRegistrationInput(form, deps.orgbac);
      const answer = await ctx.api.edit(id, input, form.revision ?? service.revision, form.idempotencyKey);
      if (!answer.ok) return formRefusal(ctx, deps, form, 'edit', answer.problem, rowOfRule, service);
      return ctx.redirect(servicePath(id), 'saved');
    }),
  );
}

/** The form buttons that only redraw it (no save): the new form, or null for a save. */
function formIntent(intent: string | undefined, form: FormState): FormState | null {
  if (!intent || intent === 'save') return null;
  if (intent === 'add-row') return { ...form, extraRows: 1 };
  if (intent === 'preview') return form;
  if (intent.startsWith('preset-')) return withPreset(form, intent.slice('preset-'.length));
  const remove = /^remove-row-(\d+)$/.exec(intent);
  if (remove) return withoutRow(form, Number(remove[1]));
  return form;
}

async function organizations(
  ctx: PageContext,
  deps: PortalDeps,
): Promise<{ list: Organization[]; error: string | null }> {
  if (!deps.orgbac) return { list: [], error: null };
  const answer = await ctx.api.organizations();
  return answer.ok
    ? { list: answer.body.items, error: null }
    : { list: [], error: `The Organizations could not be loaded (${answer.problem.detail}).` };
}

async function renderForm(
  ctx: PageContext,
  deps: PortalDeps,
  form: FormState,
  mode: 'create' | 'edit',
  errors: FieldErrors,
  preview: boolean,
  extra: { error?: string | null; status?: number; service?: Service } = {},
) {
  const orgs = await organizations(ctx, deps);
  const title = mode === 'create' ? 'Register a Backend Service' : `Edit ${extra.service?.name ?? 'service'}`;
  const action = mode === 'create' ? '/portal/services/new' : `${servicePath(extra.service!.id)}/edit`;
  return ctx.render(
    title,
    'portal',
    html`<p><a href="${mode === 'create' ? '/portal' : servicePath(extra.service!.id)}">← Back</a></p>
      <h1>${title}</h1>
      ${extra.service?.status === 'rejected' ? rejectionView(extra.service) : ''}
      ${registrationForm(form, {
        mode,
        action,
        csrf: ctx.csrf,
        orgbac: deps.orgbac,
        organizations: orgs.list,
        organizationsError: orgs.error,
        errors,
        preview,
      })}`,
    { error: extra.error ?? null, status: extra.status ?? (errors.size ? 400 : 200) },
  );
}

/** A refused save: field errors next to their fields, anything else on top of the form. */
async function formRefusal(
  ctx: PageContext,
  deps: PortalDeps,
  form: FormState,
  mode: 'create' | 'edit',
  problem: Problem,
  rowOfRule: number[],
  service?: Service,
) {
  if (problem.status === 401 || problem.status === 404 || problem.status === 403)
    return problemPage(ctx, problem, 'portal');
  const errors = problem.errors?.length
    ? fieldErrorsFrom(problem.errors, rowOfRule)
    : new Map<string, string[]>();
  // Whatever the page itself sees wrong too, so every error shows at once.
  for (const [key, list] of checkForm(form, deps.orgbac))
    errors.set(key, [...new Set([...(errors.get(key) ?? []), ...list])]);
  // The API may remember a refusal under its key (4xx answers are replayed), and the corrected form
  // is another body: the next attempt is a new request with a new key. A refused request changed nothing.
  const next = { ...form, idempotencyKey: randomUUID() };
  const message =
    problem.status === 412
      ? 'The service changed since you opened this form (someone saved it, or its JWKS was checked again). Reload the page and make your edit again.'
      : errors.size
        ? null
        : withoutRuleIds(problem.detail);
  return renderForm(ctx, deps, next, mode, errors, true, {
    error: message,
    status: problem.status,
    ...(service ? { service } : {}),
  });
}
