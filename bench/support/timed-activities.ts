import { Context } from '@temporalio/activity';

/** Where an activity spends its time, for "where the time goes". */
export type Category = 'PostgreSQL' | 'Aidbox stand-in' | 'our code';
export const CATEGORY: Record<string, Category> = {
  projectService: 'PostgreSQL',
  generateClientSecret: 'PostgreSQL',
  settleSecrets: 'PostgreSQL',
  forgetSecrets: 'PostgreSQL',
  upsertClient: 'Aidbox stand-in',
  applyPolicies: 'Aidbox stand-in',
  setClientActive: 'Aidbox stand-in',
  disableClient: 'Aidbox stand-in',
  removeClient: 'Aidbox stand-in',
  provisionClientSecret: 'Aidbox stand-in',
  derivePolicies: 'our code',
  checkJwks: 'our code',
};

/**
 * Wraps every activity to add its duration to the running workflow's account, and to tell the
 * bench when a lifecycle is done (`isDone` on an activity's input, checked after it succeeded).
 */
export function timedActivities<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
  account: (workflowId: string, activity: string, ms: number) => void,
  isDone: (activity: string, input: unknown) => boolean,
  done: (workflowId: string) => void,
): T {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '?';
      const started = performance.now();
      const value = await fn(...args);
      account(workflowId, name, performance.now() - started);
      if (isDone(name, args[0])) done(workflowId);
      return value;
    };
  }
  return wrapped as T;
}
