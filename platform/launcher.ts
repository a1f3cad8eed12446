import type { StandinProcessSpec } from '../aidbox-standin/process.js';
import { isPortBusy } from './ports.js';

/**
 * What `npm start` (scripts/start.ts) and `npm run cluster` (scripts/cluster.ts) share as launchers
 * of many processes: labelled lines, the ports checked before anything starts, one ordered shutdown
 * on Ctrl-C, on a child's unexpected exit and on a failed start, URLs printed without passwords, and
 * the two Aidbox stand-ins wired into the worker and the API.
 */
export interface Launcher {
  /** A line of the launcher's own, labelled as the children's are (platform/supervisor.ts). */
  say(line: string): void;
  /** Stops everything once (a second call waits forever), then exits with `code`. */
  shutdown(code: number): Promise<never>;
  /** A child ended without being asked to: everything stops, exit code 1. */
  onUnexpectedExit(name: string, code: number | null, signal: string | null): void;
  /** Runs the start-up; if it fails, says why on stderr and stops what was started. */
  run(main: () => Promise<void>): void;
}

export function createLauncher(label: string, stopEverything: () => Promise<void>): Launcher {
  const say = (line: string) => process.stdout.write(`${`[${label}]`.padEnd(20)} ${line}\n`);
  let shuttingDown = false;
  const shutdown = async (code: number): Promise<never> => {
    if (shuttingDown) return new Promise(() => undefined);
    shuttingDown = true;
    say('stopping…');
    await stopEverything();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  return {
    say,
    shutdown,
    onUnexpectedExit(name, code, signal) {
      say(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything.`);
      void shutdown(1);
    },
    run(main) {
      main().catch((error: unknown) => {
        process.stderr.write(`[${label}] ${error instanceof Error ? error.message : String(error)}\n`);
        void shutdown(1);
      });
    },
  };
}

/**
 * Refuses to start when a port is taken, naming what it is for and the variable that moves it. Port 0
 * (a listener turned off, or any free port) is not checked.
 */
export async function assertPortsFree(
  ports: Array<[port: number, what: string, variable: string]>,
): Promise<void> {
  for (const [port, what, variable] of ports) {
    if (port !== 0 && (await isPortBusy(port))) {
      throw new Error(
        `Port ${port} (${what}) is busy: stop what uses it, or set ${variable} to another port.`,
      );
    }
  }
}

/** A URL to print: its password, if any, as `***`. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** How the worker and the API reach the two stand-ins (aidbox-standin/process.ts) as their root client. */
export function standinClientEnv(
  standins: readonly [StandinProcessSpec, StandinProcessSpec],
  rootClientSecret: string,
): Record<string, string> {
  return {
    SANDBOX_AIDBOX_URL: standins[0].url,
    SANDBOX_AIDBOX_CLIENT_ID: 'root',
    SANDBOX_AIDBOX_CLIENT_SECRET: rootClientSecret,
    PRODUCTION_AIDBOX_URL: standins[1].url,
    PRODUCTION_AIDBOX_CLIENT_ID: 'root',
    PRODUCTION_AIDBOX_CLIENT_SECRET: rootClientSecret,
    PRODUCTION_ORGBAC: 'true',
  };
}
