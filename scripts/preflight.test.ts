import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without types (it must run on any Node)
import { nodeVersionProblem } from './preflight.mjs';

describe('preflight', () => {
  it('refuses Node older than 24 with a message saying what to do', () => {
    const problem = nodeVersionProblem('20.20.2') as string | undefined;
    expect(problem).toContain('needs Node.js 24');
    expect(problem).toContain('npm ci');
    expect(nodeVersionProblem('v22.12.0')).toContain('this is Node v22.12.0');
  });

  it('accepts Node 24 and later, including the one running the tests', () => {
    expect(nodeVersionProblem('24.0.0')).toBeUndefined();
    expect(nodeVersionProblem('26.1.0')).toBeUndefined();
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
  });
});
