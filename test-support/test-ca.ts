import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throw-away CA and a server certificate made with openssl inside the test. The fetcher trusts
 * the CA only through its `ca` option, never through the system store.
 */
export interface TestCa {
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** A second, unrelated CA: a certificate the fetcher must not trust. */
  strangerCaPem: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

export function createTestCa(serverNames: string[]): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwks-ca-'));
  try {
    for (const name of ['ca', 'stranger']) {
      openssl(dir, [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-subj',
        `/CN=${name} test CA`,
      ]);
    }
    const altNames = serverNames.map((n, i) => `DNS.${i + 1} = ${n}`).join('\n');
    writeFileSync(
      path.join(dir, 'server.ext'),
      `basicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = @alt\n[alt]\n${altNames}\n`,
    );
    openssl(dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      `/CN=${serverNames[0]}`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ]);
    const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
    return {
      caPem: read('ca.pem'),
      serverKeyPem: read('server.key'),
      serverCertPem: read('server.pem'),
      strangerCaPem: read('stranger.pem'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
