import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The certificates of `npm run cluster` (development of the production topology only): a CA made at
 * first start in `<DATA_DIR>/cluster/tls/` and the certificates it signs, reused afterwards.
 * Production takes the same roles' files from the operators' PKI, named by variables
 * (TEMPORAL_TLS_* of deploy/temporal/config/production.yaml, TEMPORAL_TLS_*_FILE of the app).
 *
 *   frontend   the frontend's server certificate (temporal-frontend, localhost, 127.0.0.1)
 *   internode  history, matching, internal-frontend and the server's worker, both ends (mTLS)
 *   worker, api, ui, admin   client certificates of our workers, the API, the Web UI server and the
 *                            administration jobs (namespace and search attributes)
 *
 * Made with `openssl` (EC P-256 keys, PKCS#8), which must be installed.
 */
export const CLIENT_CERT_NAMES = ['worker', 'api', 'ui', 'admin'] as const;
export type ClientCertName = (typeof CLIENT_CERT_NAMES)[number];

export interface CertPair {
  cert: string;
  key: string;
}

export interface ClusterCerts {
  dir: string;
  ca: string;
  frontend: CertPair;
  internode: CertPair;
  clients: Record<ClientCertName, CertPair>;
}

export const FRONTEND_SERVER_NAME = 'temporal-frontend';
export const INTERNODE_SERVER_NAME = 'temporal-internode';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        'openssl is needed to make the cluster certificates (apt-get install openssl), or put them in ' +
          `${cwd} yourself`,
        { cause: error },
      );
    throw new Error(`openssl ${args[0]} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`, {
      cause: error,
    });
  }
}

function pairOf(dir: string, name: string): CertPair {
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/** Makes what is missing (the CA first), returns every path. */
export function ensureClusterCerts(dir: string, days = 825): ClusterCerts {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = pairOf(dir, 'ca');
  const newKey = (file: string) => {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
    chmodSync(file, 0o600);
  };
  if (!existsSync(ca.cert) || !existsSync(ca.key)) {
    newKey(ca.key);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        ca.key,
        '-sha256',
        '-days',
        String(days),
        '-subj',
        '/O=Backend Services registry/CN=cluster development CA',
        '-out',
        ca.cert,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
  }
  const issue = (name: string, commonName: string, usage: string, sans?: string[]) => {
    const pair = pairOf(dir, name);
    if (existsSync(pair.cert) && existsSync(pair.key)) return pair;
    newKey(pair.key);
    const csr = path.join(dir, `${name}.csr`);
    const ext = path.join(dir, `${name}.ext`);
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        `extendedKeyUsage=${usage}`,
        ...(sans ? [`subjectAltName=${sans.join(',')}`] : []),
      ].join('\n') + '\n',
    );
    openssl(
      [
        'req',
        '-new',
        '-key',
        pair.key,
        '-subj',
        `/O=Backend Services registry/CN=${commonName}`,
        '-out',
        csr,
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca.cert,
        '-CAkey',
        ca.key,
        '-CAcreateserial',
        '-days',
        String(days),
        '-sha256',
        '-extfile',
        ext,
        '-out',
        pair.cert,
      ],
      dir,
    );
    return pair;
  };
  const frontend = issue('frontend', FRONTEND_SERVER_NAME, 'serverAuth', [
    `DNS:${FRONTEND_SERVER_NAME}`,
    'DNS:localhost',
    'IP:127.0.0.1',
  ]);
  const internode = issue('internode', INTERNODE_SERVER_NAME, 'serverAuth,clientAuth', [
    `DNS:${INTERNODE_SERVER_NAME}`,
    'DNS:localhost',
    'IP:127.0.0.1',
  ]);
  const clients = Object.fromEntries(
    CLIENT_CERT_NAMES.map((name) => [
      name,
      issue(`client-${name}`, `backend-services-${name}`, 'clientAuth'),
    ]),
  ) as Record<ClientCertName, CertPair>;
  return { dir, ca: ca.cert, frontend, internode, clients };
}
