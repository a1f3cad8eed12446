import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { describe, expect, inject, it } from 'vitest';

/**
 * The workflow sandbox gives every workflow its own copy of each module its code loads (the SDK's
 * reusable V8 context routes the bundle's module cache through `__webpack_module_cache__`), so what
 * the workflow modules import at their top is instantiated again for every workflow started or
 * replayed into the worker's cache. OpenTelemetry must not be among them unless a message is
 * traced (docs/decisions/worker-memory.md); platform/tracing.test.ts shows traced messages still
 * make their spans.
 */
function modulesPerWorkflow(code: string): string[] {
  const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
  const shared = new Map<string | symbol, unknown>();
  let own: Map<string | symbol, unknown> | null = null;
  Object.defineProperty(context, '__webpack_module_cache__', {
    value: new Proxy(
      {},
      {
        get: (_, key) => shared.get(key) ?? own?.get(key),
        set: (_, key, value) => {
          (own ?? shared).set(key, value);
          return true;
        },
      },
    ),
  });
  for (const name of ['console', 'TextEncoder', 'TextDecoder', 'URL', 'performance'] as const)
    (context as Record<string, unknown>)[name] = globalThis[name];
  vm.runInContext(code, context);
  // One workflow: what its code and the interceptors' factory load beyond the shared modules.
  own = new Map();
  vm.runInContext('__TEMPORAL__.importWorkflows(); __TEMPORAL__.importInterceptors()', context);
  return [...own.keys()].map(String);
}

describe('the workflow tracing interceptors', () => {
  const modules = modulesPerWorkflow(readFileSync(inject('workflowBundlePath'), 'utf8'));

  it('instantiate none of OpenTelemetry for a workflow no traced message has reached', () => {
    expect(modules.some((m) => m.includes('workflows/backend-service/workflow.ts'))).toBe(true);
    expect(modules.some((m) => m.includes('workflows/tracing-interceptors.ts'))).toBe(true);
    expect(modules.filter((m) => m.includes('opentelemetry'))).toEqual([]);
    expect(modules.filter((m) => m.includes('tracing-spans'))).toEqual([]);
  });
});
