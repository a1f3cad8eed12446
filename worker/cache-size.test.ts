import { describe, expect, it } from 'vitest';
import { maxCachedWorkflowsFor } from './cache-size.js';

describe('the worker cache from a memory budget', () => {
  it('the default 384 MiB keeps about 160 workflows; a small budget never goes below 10', () => {
    expect(maxCachedWorkflowsFor(384)).toBe(163);
    expect(maxCachedWorkflowsFor(1024)).toBe(631);
    expect(maxCachedWorkflowsFor(64)).toBe(10);
  });
});
