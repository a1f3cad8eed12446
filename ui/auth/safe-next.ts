/**
 * Where sign-in may send the browser afterwards (`next=`): only a path on our own origin. An open
 * redirect lets a link on our domain forward a signed-in user to a look-alike site.
 *
 * Accepted only when it starts with one `/`, has no backslash, no control character and no scheme,
 * both as sent and percent-decoded, and `new URL(next, origin)` still has our origin. The decoded
 * check matters because browsers drop TAB, CR and LF inside URLs
 * (https://url.spec.whatwg.org/#concept-basic-url-parser, "remove all ASCII tab or newline"), so
 * `/\t/evil.example` becomes `//evil.example`, another host; and they treat `\` like `/` in http(s)
 * URLs (same parser, "special" schemes), so `/\evil.example` is `//evil.example` too.
 */
const MAX_NEXT_LENGTH = 2048;
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function looksSafe(path: string): boolean {
  return (
    path.startsWith('/') &&
    !path.startsWith('//') &&
    !path.includes('\\') &&
    !CONTROL.test(path) &&
    !SCHEME.test(path)
  );
}

export function safeNext(next: string | undefined | null, origin: string): string | null {
  if (!next || next.length > MAX_NEXT_LENGTH || !looksSafe(next)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return null; // malformed percent-encoding: not a link our pages made
  }
  if (!looksSafe(decoded)) return null;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return null;
  }
  if (url.origin !== new URL(origin).origin) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
