/** Small HTTP helpers for the stand-in's tests. */

// Response bodies are arbitrary JSON that the tests inspect with expect(); typing each is noise.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

export async function call(
  base: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; contentType?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.auth ? { Authorization: options.auth } : {}),
      ...(options.body !== undefined ? { 'Content-Type': options.contentType ?? 'application/json' } : {}),
      ...options.headers,
    },
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

export async function tokenRequest(
  base: string,
  form: Record<string, string>,
  auth?: string,
): Promise<{ status: number; body: Json; headers: Headers }> {
  return call(base, 'POST', '/auth/token', {
    auth,
    body: new URLSearchParams(form).toString(),
    contentType: 'application/x-www-form-urlencoded',
  });
}
