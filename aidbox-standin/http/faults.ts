/**
 * Fault injection for reliability tests (issue 3; docs/decisions/aidbox-standin.md "Faults on demand": Aidbox failing
 * or slow"). Not an Aidbox behaviour: a test control.
 * - `errorRate`: share of requests answered 503 without being applied;
 * - `latencyMs`: added before every request;
 * - `dropRate`: share of connections destroyed without an answer;
 * - scripted one-shot faults (`failNext`): the next N matching requests fail, either before being
 *   applied or after (the write happened, the caller only sees the failure).
 * `/health` is exempt from the random faults so supervisors can still see the process.
 */
import type { MiddlewareHandler } from 'hono';
import { operationOutcome } from './outcome.js';

export interface FaultSettings {
  errorRate: number;
  latencyMs: number;
  dropRate: number;
}

export interface ScriptedFault {
  /** `error-before`: answer `status` without applying; `error-after`: apply, then answer `status`; `drop`: apply nothing, close the socket. */
  kind: 'error-before' | 'error-after' | 'drop';
  status?: number;
  method?: string;
  path?: RegExp;
  times?: number;
  /** Adds `Retry-After: <seconds>` to the failure. */
  retryAfterSeconds?: number;
}

export class FaultInjector {
  settings: FaultSettings;
  private scripted: Array<Required<Pick<ScriptedFault, 'kind' | 'status' | 'times'>> & ScriptedFault> = [];

  constructor(
    initial: Partial<FaultSettings> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.settings = { errorRate: 0, latencyMs: 0, dropRate: 0, ...initial };
  }

  set(partial: Partial<FaultSettings>): void {
    this.settings = { ...this.settings, ...partial };
  }

  /** How many faults were injected, by kind: lets a fault test show its faults happened at all. */
  readonly injected = { errors: 0, drops: 0, scripted: 0 };

  failNext(fault: ScriptedFault): void {
    this.scripted.push({ status: 503, times: 1, ...fault });
  }

  clear(): void {
    this.settings = { errorRate: 0, latencyMs: 0, dropRate: 0 };
    this.scripted = [];
  }

  private takeScripted(method: string, path: string) {
    const index = this.scripted.findIndex(
      (f) =>
        (f.method === undefined || f.method.toUpperCase() === method) &&
        (f.path === undefined || f.path.test(path)),
    );
    if (index < 0) return undefined;
    const fault = this.scripted[index]!;
    fault.times -= 1;
    if (fault.times <= 0) this.scripted.splice(index, 1);
    return fault;
  }

  middleware(): MiddlewareHandler {
    const unavailable = (status: number, retryAfterSeconds?: number) =>
      new Response(JSON.stringify(operationOutcome('transient', 'Injected fault')), {
        status,
        headers: {
          'Content-Type': 'application/json',
          ...(retryAfterSeconds !== undefined ? { 'Retry-After': String(retryAfterSeconds) } : {}),
        },
      });
    const drop = (env: unknown) =>
      (env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket?.destroy();

    return async (c, next) => {
      const path = new URL(c.req.url).pathname;
      const scripted = this.takeScripted(c.req.method, path);
      if (scripted) this.injected.scripted += 1;
      if (scripted?.kind === 'drop') {
        drop(c.env);
        return new Response(null, { status: 503 }); // never reaches the caller: the socket is gone
      }
      if (scripted?.kind === 'error-before') return unavailable(scripted.status, scripted.retryAfterSeconds);

      if (path !== '/health') {
        const { latencyMs, dropRate, errorRate } = this.settings;
        if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
        if (dropRate > 0 && this.random() < dropRate) {
          this.injected.drops += 1;
          drop(c.env);
          return new Response(null, { status: 503 });
        }
        if (errorRate > 0 && this.random() < errorRate) {
          this.injected.errors += 1;
          return unavailable(503);
        }
      }
      await next();
      if (scripted?.kind === 'error-after') c.res = unavailable(scripted.status, scripted.retryAfterSeconds);
    };
  }
}
