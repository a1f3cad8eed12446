import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Connector } from '../credentials/guarded-connector.js';

/**
 * The connector tests inject under the JWKS fetcher. It records every connection attempt and
 * refuses every non-loopback one, so no test (negative controls included) sends a packet off the
 * machine. `routes` stands in for the internet: a pretend public address listed there is delivered
 * to a loopback test server instead of being dialled.
 */
export interface ConnectionAttempt {
  address: string;
  port: string;
  servername: string | undefined;
  outcome: 'loopback' | 'routed' | 'refused';
}

export interface FakeNetwork {
  wrapConnector: (real: Connector) => Connector;
  attempts: ConnectionAttempt[];
  /** Attempts the fetcher's guard should never have let through: anything not public unicast. */
  forbiddenAttempts(): ConnectionAttempt[];
}

function isLoopback(address: string): boolean {
  return isIP(address) !== 0 && ipaddr.parse(address).range() === 'loopback';
}

export function createFakeNetwork(routes: Record<string, number> = {}): FakeNetwork {
  const attempts: ConnectionAttempt[] = [];
  return {
    attempts,
    forbiddenAttempts: () =>
      attempts.filter((a) => isIP(a.address) === 0 || ipaddr.parse(a.address).range() !== 'unicast'),
    wrapConnector: (real) => (target, callback) => {
      const address = target.hostname.replace(/^\[|\]$/g, '');
      const record = (outcome: ConnectionAttempt['outcome']) =>
        attempts.push({
          address,
          port: target.port || (target.protocol === 'https:' ? '443' : '80'),
          servername: target.servername,
          outcome,
        });
      if (isLoopback(address)) {
        record('loopback');
        real(target, callback);
        return;
      }
      const routedPort = routes[address];
      if (routedPort !== undefined) {
        record('routed');
        real({ ...target, hostname: '127.0.0.1', port: String(routedPort) }, callback);
        return;
      }
      record('refused');
      callback(new Error(`fake network: refused a connection to non-loopback address ${address}`), null);
    },
  };
}
