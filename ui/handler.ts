import type { Context } from 'hono';
import { html } from 'hono/html';
import { ApiClient, type Fetcher, type Problem } from './api-client.js';
import { sameToken, type Session, type SessionStore } from './session.js';
import { page, type Html, type Viewer } from './views/layout.js';

/**
 * One wrapper around every page handler, instead of app-wide middleware (the UI is mounted on the
 * API's app, and its rules must not touch /v1): the session, CSRF on every POST, the sign-in gate,
 * and the API client carrying the signed-in user's token.
 */
export interface PageContext {
  c: Context;
  session: Session;
  viewer: Viewer | null;
  csrf: string;
  /** Present when `signedIn` was required. */
  api: ApiClient;
  /** Form fields of a POST (after the CSRF check). */
  form: Record<string, string>;
  /** Ends the session on the server and drops the cookie (sign-out, or a token the API no longer accepts). */
  endSession(): Promise<void>;
  render(
    title: string,
    area: 'portal' | 'admin' | 'login',
    body: Html,
    extra?: {
      notice?: string | null;
      error?: string | null;
      status?: number;
      waiting?: { url: string; state: string } | null;
    },
  ): Promise<Response>;
  /** A 303 to `to`, with a one-time notice (a key of the target page's table) for that page. */
  redirect(to: string, notice?: string): Response;
  /** The one-time notice left for this page by the action that led here (GET pages only). */
  takeNotice(): string | null;
}

export interface HandlerDeps {
  sessions: SessionStore;
  fetcher: Fetcher;
  /** The origin the pages are served at when known (PUBLIC_URL); else the request's own. */
  publicOrigin: string | null;
}

export type PageHandler = (ctx: PageContext) => Promise<Response>;

export function makeHandler(deps: HandlerDeps) {
  return (options: { signedIn: boolean }, handler: PageHandler) =>
    async (c: Context): Promise<Response> => {
      const { session, fresh } = await deps.sessions.ensure(c);
      let form: Record<string, string> = {};
      if (c.req.method === 'POST') {
        const checked = await checkCsrf(c, session, deps.publicOrigin);
        if ('refused' in checked) return checked.refused;
        form = checked.form;
      }
      const viewer = session.user ? { sub: session.user.sub, roles: session.user.roles } : null;
      if (options.signedIn && !session.user) return toLogin(c);
      const render: PageContext['render'] = async (title, area, body, extra = {}) => {
        c.header('Cache-Control', 'no-store');
        // The page's forms carry this session's CSRF token: the browser must hold the session too.
        if (fresh) deps.sessions.write(c, session);
        return c.html(
          await page(
            {
              title,
              viewer,
              csrf: session.csrf,
              area,
              notice: extra.notice ?? null,
              error: extra.error ?? null,
              waiting: extra.waiting ?? null,
            },
            body,
          ),
          (extra.status ?? 200) as 200,
        );
      };
      const api = new ApiClient(deps.fetcher, session.user?.token ?? '');
      const endSession = () => deps.sessions.end(c, session);
      const redirect = (to: string, notice?: string) => {
        if (notice) deps.sessions.writeNotice(c, { key: notice, path: new URL(to, c.req.url).pathname });
        return c.redirect(to, 303);
      };
      // A polling script's fetch must not use up a notice meant for the person's next page view.
      const takeNotice = () =>
        c.req.method === 'GET' && c.req.header('X-Refresh') !== 'poll'
          ? deps.sessions.takeNotice(c, new URL(c.req.url).pathname)
          : null;
      return handler({
        c,
        session,
        viewer,
        csrf: session.csrf,
        api,
        form,
        render,
        endSession,
        redirect,
        takeNotice,
      });
    };
}

/** Where a signed-out visitor goes: the sign-in page, then back here (GET pages only). */
export function toLogin(c: Context, notice?: string): Response {
  const next = c.req.method === 'GET' ? new URL(c.req.url).pathname + new URL(c.req.url).search : '';
  const query = new URLSearchParams();
  if (next) query.set('next', next);
  if (notice) query.set('notice', notice);
  return c.redirect(`/login${query.size ? `?${query}` : ''}`, 303);
}

/**
 * CSRF: a POST must come from our own pages. Two independent checks: a cross-origin `Origin`
 * (or `Sec-Fetch-Site: cross-site`) is refused, and the form's `_csrf` must equal the synchronizer
 * token in the sealed session cookie (a third party can neither read nor forge it).
 */
async function checkCsrf(
  c: Context,
  session: Session,
  publicOrigin: string | null,
): Promise<{ refused: Response } | { form: Record<string, string> }> {
  const own = publicOrigin ?? new URL(c.req.url).origin;
  const origin = c.req.header('Origin');
  const crossSite = c.req.header('Sec-Fetch-Site') === 'cross-site';
  let body: Record<string, string> = {};
  const type = c.req.header('Content-Type') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
    const parsed = await c.req.parseBody();
    body = Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  }
  const originOk =
    (origin === undefined || origin === own || origin === new URL(c.req.url).origin) && !crossSite;
  if (!originOk || !sameToken(body._csrf, session.csrf)) {
    c.header('Cache-Control', 'no-store');
    const refused = c.html(
      await page(
        { title: 'Request refused', viewer: null, csrf: session.csrf },
        html`<h1>Request refused</h1>
          <p>
            This form was not sent from this site's own page (its security token is missing or out of date).
            Go back, reload the page and try again.
          </p>`,
      ),
      403,
    );
    return { refused };
  }
  return { form: body };
}

/** An API refusal the page cannot handle itself, as a page a person understands. */
export async function problemPage(
  ctx: PageContext,
  problem: Problem,
  area: 'portal' | 'admin',
): Promise<Response> {
  if (problem.status === 401) {
    await ctx.endSession();
    return toLogin(ctx.c, 'session-ended');
  }
  const titles: Record<number, string> = {
    403: 'Not allowed',
    404: 'Not found',
    409: 'Not possible right now',
    503: 'Temporarily unavailable',
  };
  const title = titles[problem.status] ?? 'Something went wrong';
  const advice =
    problem.status === 503
      ? 'The service is busy or a part of it is restarting. Try again in a few seconds.'
      : problem.status === 404
        ? 'There is no such service, or it is not yours.'
        : problem.status === 403
          ? 'Your account does not have the role this page needs.'
          : '';
  return ctx.render(
    title,
    area,
    html`<h1>${title}</h1>
      <p>${problem.detail}</p>
      ${advice ? html`<p>${advice}</p>` : ''}
      <p>
        <a href="${area === 'admin' ? '/admin' : '/portal'}"
          >Back to the ${area === 'admin' ? 'review queue' : 'dashboard'}</a
        >
      </p>`,
    { status: problem.status >= 500 ? 503 : problem.status },
  );
}

/** A refused action in words; the JWKS report travels with a credentials refusal and is on the page anyway. */
export function refusalMessage(problem: Problem): string {
  if (problem.type.endsWith('/credentials-invalid'))
    return `Not submitted: the JWKS does not pass validation. ${problem.report?.summary ?? problem.detail}`;
  if (problem.status === 503) return `${problem.detail} Try again in a few seconds.`;
  return problem.detail;
}
