import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';

describe('the pages’ API client', () => {
  it('a form value a header cannot carry is a 400 naming the header, not a client crash', async () => {
    const calls: string[] = [];
    const client = new ApiClient((path) => (calls.push(path), new Response(null, { status: 404 })), 'token');
    const refused = await client.decide('bs-x', 'reject', 'reason', 'key\r\nX-Injected: 1');
    expect(refused).toMatchObject({ ok: false, status: 400 });
    expect(!refused.ok && refused.problem.errors).toEqual([
      { field: 'Idempotency-Key', message: 'Idempotency-Key contains characters a header cannot carry' },
    ]);
    expect(calls).toEqual([]);
    // Negative control: a key a header can carry goes to the API.
    await client.decide('bs-x', 'reject', 'reason', randomBytes(8).toString('hex'));
    expect(calls).toEqual(['/v1/admin/backend-services/bs-x/reject']);
  });
});
