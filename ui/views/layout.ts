import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/**
 * The page shell. Templates use hono/html's `html` tag: every interpolated string is escaped,
 * only other `html` fragments pass through, so user-supplied text cannot become markup.
 */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface Viewer {
  sub: string;
  roles: string[];
}

export interface PageOptions {
  title: string;
  viewer: Viewer | null;
  csrf: string;
  /** Which top-level area is current, for the navigation. */
  area?: 'portal' | 'admin' | 'login';
  notice?: string | null;
  /** A page-level error (problem detail); field errors sit next to their fields instead. */
  error?: string | null;
  /**
   * A page waiting on background work (JWKS check, production setup, cleanup): it refreshes itself.
   * `state` is what the page shows of that work; portal.js re-fetches `url` and swaps the page in when
   * it changes, and without JavaScript a <meta http-equiv="refresh"> in <noscript> reloads it.
   */
  waiting?: { url: string; state: string } | null;
}

export const ASSET_VERSION = '2';
/** Seconds between refreshes of a waiting page (the script polls every 2 s). */
export const REFRESH_SECONDS = 3;

export function page(options: PageOptions, body: Html): Html {
  const { viewer } = options;
  const isDeveloper = viewer?.roles.includes('developer') ?? false;
  const isAdmin = viewer?.roles.includes('admin') ?? false;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · Payerbox Backend Services</title>
        <link rel="icon" href="/ui-assets/favicon.svg?v=${ASSET_VERSION}" type="image/svg+xml" />
        <link rel="stylesheet" href="/ui-assets/portal.css?v=${ASSET_VERSION}" />
        ${
          options.waiting
            ? html`<noscript
                ><meta http-equiv="refresh" content="${REFRESH_SECONDS};url=${options.waiting.url}"
              /></noscript>`
            : ''
        }
        <script src="/ui-assets/portal.js?v=${ASSET_VERSION}" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <span class="brand">Payerbox</span>
          <nav aria-label="Main">
            <ul>
              ${
                isDeveloper
                  ? html`<li>
                      <a href="/portal" ${options.area === 'portal' ? html`aria-current="page"` : ''}
                        >Developer portal</a
                      >
                    </li>`
                  : ''
              }
              ${
                isAdmin
                  ? html`<li>
                      <a href="/admin" ${options.area === 'admin' ? html`aria-current="page"` : ''}>Review</a>
                    </li>`
                  : ''
              }
            </ul>
          </nav>
          ${
            viewer
              ? html`<form method="post" action="/logout" class="signout">
                  <span class="who"
                    >Signed in as
                    <strong>${viewer.sub}</strong> (${viewer.roles.join(', ') || 'no roles'})</span
                  >
                  <input type="hidden" name="_csrf" value="${options.csrf}" />
                  <button type="submit" class="link">Sign out</button>
                </form>`
              : ''
          }
        </header>
        <main
          id="main"
          ${options.waiting ? html`data-wait-url="${options.waiting.url}" data-wait-state="${options.waiting.state}"` : ''}
        >
          ${options.notice ? html`<div class="notice" role="status">${options.notice}</div>` : ''}
          ${options.error ? html`<div class="error-box" role="alert">${options.error}</div>` : ''} ${body}
        </main>
      </body>
    </html>`;
}

export const csrfField = (csrf: string) => html`<input type="hidden" name="_csrf" value="${csrf}" />`;
