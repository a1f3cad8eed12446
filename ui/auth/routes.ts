import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { PageContext, makeHandler } from '../handler.js';
import type { SessionStore } from '../session.js';
import { csrfField } from '../views/layout.js';
import { describeToken, OidcError, randomValue, type OidcClient } from './oidc.js';
import { safeNext } from './safe-next.js';

export { safeNext } from './safe-next.js';

/**
 * Sign-in and sign-out. Development mode: pick a development user and roles; the development
 * issuer signs the token (the same issuer `npm run dev:token` uses). Production: OIDC authorization
 * code + PKCE against AUTH_ISSUER. Either way the session gets a fresh CSRF token (no fixation).
 */
/** Signs a development user's token: the development issuer of DATA_DIR, which the API trusts. */
export interface DevelopmentIssuer {
  sign(
    subject: string,
    roles: string[],
    options: { expiresInSeconds: number; claims: Record<string, unknown> },
  ): Promise<string>;
}

export interface AuthRouteDeps {
  handle: ReturnType<typeof makeHandler>;
  sessions: SessionStore;
  developmentIssuer: (() => Promise<DevelopmentIssuer>) | null;
  oidc: OidcClient | null;
  rolesClaim: string;
  /** Where the identity provider sends the browser back. */
  redirectUri: (requestUrl: string) => string;
  /** Our origin (PUBLIC_URL's, else the request's): where `next=` must stay. */
  origin: (requestUrl: string) => string;
}

const DEV_SESSION_SECONDS = 8 * 3600;
const SUBJECT = /^[A-Za-z0-9._@-]{1,64}$/;
const ROLES = ['developer', 'admin'] as const;

const PRESETS = [
  { sub: 'alice', roles: ['developer'], label: 'alice — developer' },
  { sub: 'bob', roles: ['developer'], label: 'bob — developer' },
  { sub: 'ada', roles: ['admin'], label: 'ada — administrator' },
  { sub: 'amos', roles: ['developer', 'admin'], label: 'amos — developer and administrator' },
];

const NOTICES: Record<string, string> = {
  'signed-out': 'You are signed out.',
  'session-ended': 'Your session has ended. Sign in again.',
};

const home = (roles: string[]) =>
  roles.includes('developer') || !roles.includes('admin') ? '/portal' : '/admin';

export function registerAuthRoutes(ui: Hono, deps: AuthRouteDeps): void {
  const { handle, sessions } = deps;
  const nextOf = (ctx: PageContext, next: string | undefined) => safeNext(next, deps.origin(ctx.c.req.url));

  ui.get(
    '/login',
    handle({ signedIn: false }, async (ctx) => {
      const next = nextOf(ctx, ctx.c.req.query('next')) ?? '';
      const notice = NOTICES[ctx.c.req.query('notice') ?? ''] ?? null;
      const error = ctx.c.req.query('error') ? 'Sign-in did not complete. Try again.' : null;
      const body = html`<h1>Sign in</h1>
        ${ctx.viewer ? html`<p>You are signed in as <strong>${ctx.viewer.sub}</strong>. <a href="${home(ctx.viewer.roles)}">Continue</a></p>` : ''}
        ${
          deps.oidc
            ? html`<p>
                <a class="button primary" href="/login/oidc${next ? `?next=${encodeURIComponent(next)}` : ''}"
                  >Sign in with your Payerbox account</a
                >
              </p>`
            : ''
        }
        ${deps.developmentIssuer ? devLoginForms(ctx, next) : ''}
        ${
          !deps.oidc && !deps.developmentIssuer
            ? html`<p>
                Sign-in is not configured: set AUTH_ISSUER, UI_OIDC_CLIENT_ID and UI_SESSION_SECRET.
              </p>`
            : ''
        }`;
      return ctx.render('Sign in', 'login', body, { notice, error });
    }),
  );

  ui.post(
    '/login/dev',
    handle({ signedIn: false }, async (ctx) => {
      if (!deps.developmentIssuer) return ctx.c.notFound();
      const sub = (ctx.form.sub ?? '').trim();
      const roles = ROLES.filter((role) => ctx.form[`role-${role}`] !== undefined);
      if (!SUBJECT.test(sub)) {
        return ctx.render('Sign in', 'login', devLoginForms(ctx, nextOf(ctx, ctx.form.next) ?? ''), {
          error: 'The user name is 1–64 letters, digits, dots, dashes, underscores or @.',
          status: 400,
        });
      }
      const issuer = await deps.developmentIssuer();
      // A development user's mail goes to npm start's catcher (GET /dev/mail): <name>@localhost.
      const email = sub.includes('@') ? sub : `${sub}@localhost`;
      const token = await issuer.sign(sub, [...roles], {
        expiresInSeconds: DEV_SESSION_SECONDS,
        claims: { email },
      });
      await sessions.signIn(
        ctx.c,
        { sub, roles: [...roles], token, via: 'development' },
        Math.floor(Date.now() / 1000) + DEV_SESSION_SECONDS - 60,
      );
      return ctx.c.redirect(nextOf(ctx, ctx.form.next) ?? home([...roles]), 303);
    }),
  );

  ui.get(
    '/login/oidc',
    handle({ signedIn: false }, async (ctx) => {
      if (!deps.oidc) return ctx.c.redirect('/login', 303);
      const tx = {
        state: randomValue(),
        nonce: randomValue(),
        verifier: randomValue(),
        next: nextOf(ctx, ctx.c.req.query('next')) ?? '',
        exp: Math.floor(Date.now() / 1000) + 600,
      };
      try {
        const url = await deps.oidc.authorizationUrl({ redirectUri: deps.redirectUri(ctx.c.req.url), ...tx });
        sessions.writeTransaction(ctx.c, tx);
        return ctx.c.redirect(url, 302);
      } catch (error) {
        return signInFailed(ctx, error);
      }
    }),
  );

  ui.get(
    '/login/callback',
    handle({ signedIn: false }, async (ctx) => {
      if (!deps.oidc) return ctx.c.redirect('/login', 303);
      const tx = sessions.takeTransaction(ctx.c);
      const { code, state, error } = ctx.c.req.query();
      if (!tx || !state || state !== tx.state) {
        return ctx.render(
          'Sign in',
          'login',
          html`<h1>Sign-in failed</h1>
            <p>This sign-in attempt is unknown or expired. <a href="/login">Start again</a>.</p>`,
          {
            status: 400,
          },
        );
      }
      if (error || !code) {
        return ctx.render(
          'Sign in',
          'login',
          html`<h1>Sign-in failed</h1>
            <p>
              The identity provider did not sign you in (${error ?? 'no code'}).
              <a href="/login">Try again</a>.
            </p>`,
          {
            status: 400,
          },
        );
      }
      try {
        const tokens = await deps.oidc.exchange({
          code,
          redirectUri: deps.redirectUri(ctx.c.req.url),
          verifier: tx.verifier,
          nonce: tx.nonce,
        });
        const who = describeToken(tokens.accessToken, deps.rolesClaim);
        await sessions.signIn(
          ctx.c,
          { sub: who.sub, roles: who.roles, token: tokens.accessToken, via: 'oidc' },
          who.exp,
        );
        // Checked again here: the rule may be stricter than when the transaction was made.
        return ctx.c.redirect(nextOf(ctx, tx.next) ?? home(who.roles), 303);
      } catch (e) {
        return signInFailed(ctx, e);
      }
    }),
  );

  ui.post(
    '/logout',
    handle({ signedIn: false }, async (ctx) => {
      const via = ctx.session.user?.via;
      await ctx.endSession();
      const signedOut = '/login?notice=signed-out';
      // An OIDC session also ends at the provider when it offers RP-Initiated Logout.
      if (via === 'oidc' && deps.oidc) {
        const url = await deps.oidc
          .endSessionUrl({ postLogoutRedirectUri: `${deps.origin(ctx.c.req.url)}${signedOut}` })
          .catch(() => null);
        if (url) return ctx.c.redirect(url, 303);
      }
      return ctx.c.redirect(signedOut, 303);
    }),
  );
}

function signInFailed(ctx: PageContext, error: unknown) {
  const reason = error instanceof OidcError ? error.message : 'an unexpected error occurred';
  return ctx.render(
    'Sign in',
    'login',
    html`<h1>Sign-in failed</h1>
      <p>Sign-in failed: ${reason}. <a href="/login">Try again</a>.</p>`,
    {
      status: 502,
    },
  );
}

function devLoginForms(ctx: PageContext, next: string) {
  return html`<section aria-labelledby="dev-h">
    <h2 id="dev-h">Development sign-in</h2>
    <p class="hint">
      Development mode: the development issuer signs a token for the user and roles you pick. Production uses
      the organization's identity provider.
    </p>
    <ul class="presets">
      ${PRESETS.map(
        (p) =>
          html`<li>
            <form method="post" action="/login/dev">
              ${csrfField(ctx.csrf)}
              <input type="hidden" name="sub" value="${p.sub}" />
              ${p.roles.map((r) => html`<input type="hidden" name="role-${r}" value="on" />`)}
              <input type="hidden" name="next" value="${next}" />
              <button type="submit">Sign in as ${p.label}</button>
            </form>
          </li>`,
      )}
    </ul>
    <form method="post" action="/login/dev">
      ${csrfField(ctx.csrf)}
      <input type="hidden" name="next" value="${next}" />
      <fieldset>
        <legend>Another development user</legend>
        <label for="dev-sub">User name (the token's subject)</label>
        <input id="dev-sub" name="sub" required pattern="[A-Za-z0-9._@\\-]{1,64}" autocomplete="username" />
        <fieldset class="inline">
          <legend>Roles</legend>
          ${ROLES.map(
            (r) =>
              html`<input
                  type="checkbox"
                  id="dev-role-${r}"
                  name="role-${r}"
                  value="on"
                  ${r === 'developer' ? 'checked' : ''}
                />
                <label for="dev-role-${r}">${r === 'admin' ? 'Administrator' : 'Developer'}</label>`,
          )}
        </fieldset>
        <button type="submit" class="primary">Sign in</button>
      </fieldset>
    </form>
  </section>`;
}
