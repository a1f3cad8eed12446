import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Service } from '../api-client.js';
import type { makeHandler } from '../handler.js';
import { curlCommands } from '../views/environment.js';
import type { Html } from '../views/layout.js';

/**
 * "Get a token": the portal's guide to the client_credentials grant with private_key_jwt (SMART
 * Backend Services, https://hl7.org/fhir/smart-app-launch/STU2.2/backend-services.html) and with a
 * client secret, in curl, Node and Python. Opened from a service (`?service=<id>`), every value is
 * that service's own (sandbox, or production once live); otherwise placeholders.
 */
export function registerGuide(ui: Hono, deps: { handle: ReturnType<typeof makeHandler> }): void {
  ui.get(
    '/portal/guide',
    deps.handle({ signedIn: true }, async (ctx) => {
      const id = ctx.c.req.query('service');
      let service: Service | null = null;
      if (id) {
        const answer = await ctx.api.get(id);
        if (answer.ok) service = answer.body;
      }
      return ctx.render('Get a token', 'portal', guide(service));
    }),
  );
}

function block(id: string, code: string, label: string): Html {
  return html`<div class="buttons">
      <button type="button" class="copy small" data-copy-target="${id}" hidden>Copy ${label}</button>
    </div>
    <pre tabindex="0"><code id="${id}">${code}</code></pre>`;
}

function guide(service: Service | null): Html {
  const env = service?.environments.production ?? service?.environments.sandbox ?? null;
  const where = service?.environments.production ? 'production' : 'sandbox';
  const clientId = service?.clientId ?? 'YOUR_CLIENT_ID';
  const tokenUrl = env?.tokenUrl ?? 'https://TOKEN_URL_FROM_THE_SERVICE_PAGE/auth/token';
  const scope = env?.scope ?? service?.scopes.strings.join(' ') ?? 'system/Patient.rs';
  const fhirBase = env?.fhirBaseUrl ?? 'https://FHIR_BASE_URL_FROM_THE_SERVICE_PAGE/fhir';
  const method = service?.authMethod.type;

  const keygen = [
    `# A P-384 key pair for ES384 (SMART also allows RS384 with a 2048-bit RSA key)`,
    `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out private-key.pem`,
    ``,
    `# The public JWK Set to publish at your JWKS URI (never the private key)`,
    `node -e '`,
    `const { createPublicKey } = require("node:crypto");`,
    `const jwk = createPublicKey(require("node:fs").readFileSync("private-key.pem")).export({ format: "jwk" });`,
    `console.log(JSON.stringify({ keys: [{ ...jwk, kid: "key-1", alg: "ES384", use: "sig" }] }, null, 2));`,
    `' > jwks.json`,
  ].join('\n');

  const nodeJwt = [
    `// npm install jose   (Node 18 or later: fetch is built in)`,
    `import { readFileSync } from 'node:fs';`,
    `import { randomUUID } from 'node:crypto';`,
    `import { SignJWT, importPKCS8 } from 'jose';`,
    ``,
    `const CLIENT_ID = '${clientId}';`,
    `const TOKEN_URL = '${tokenUrl}';`,
    `const SCOPE = '${scope}';`,
    ``,
    `const key = await importPKCS8(readFileSync('private-key.pem', 'utf8'), 'ES384');`,
    `// The client assertion: iss and sub are your client ID, aud the token URL, a fresh jti, exp <= 5 min.`,
    `const assertion = await new SignJWT({})`,
    `  .setProtectedHeader({ alg: 'ES384', kid: 'key-1', typ: 'JWT' })`,
    `  .setIssuer(CLIENT_ID).setSubject(CLIENT_ID).setAudience(TOKEN_URL)`,
    `  .setJti(randomUUID()).setExpirationTime('5m')`,
    `  .sign(key);`,
    ``,
    `const response = await fetch(TOKEN_URL, {`,
    `  method: 'POST',`,
    `  body: new URLSearchParams({`,
    `    grant_type: 'client_credentials',`,
    `    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',`,
    `    client_assertion: assertion,`,
    `    scope: SCOPE,`,
    `  }),`,
    `});`,
    `const { access_token } = await response.json();`,
    `const patients = await fetch('${fhirBase}/Patient?_count=1', {`,
    `  headers: { Authorization: \`Bearer \${access_token}\` },`,
    `});`,
    `console.log(response.status, patients.status);`,
  ].join('\n');

  const pythonJwt = [
    `# pip install pyjwt cryptography requests`,
    `import time, uuid, jwt, requests`,
    ``,
    `CLIENT_ID = '${clientId}'`,
    `TOKEN_URL = '${tokenUrl}'`,
    `SCOPE = '${scope}'`,
    ``,
    `key = open('private-key.pem').read()`,
    `assertion = jwt.encode(`,
    `    {'iss': CLIENT_ID, 'sub': CLIENT_ID, 'aud': TOKEN_URL,`,
    `     'jti': str(uuid.uuid4()), 'exp': int(time.time()) + 300},`,
    `    key, algorithm='ES384', headers={'kid': 'key-1', 'typ': 'JWT'})`,
    ``,
    `token = requests.post(TOKEN_URL, data={`,
    `    'grant_type': 'client_credentials',`,
    `    'client_assertion_type': 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',`,
    `    'client_assertion': assertion,`,
    `    'scope': SCOPE,`,
    `}).json()['access_token']`,
    `print(requests.get('${fhirBase}/Patient', params={'_count': 1},`,
    `                   headers={'Authorization': f'Bearer {token}'}).status_code)`,
  ].join('\n');

  const nodeSecret = [
    `const CLIENT_ID = '${clientId}';`,
    `const CLIENT_SECRET = process.env.CLIENT_SECRET; // never in the code`,
    `const response = await fetch('${tokenUrl}', {`,
    `  method: 'POST',`,
    `  headers: { Authorization: 'Basic ' + Buffer.from(\`\${CLIENT_ID}:\${CLIENT_SECRET}\`).toString('base64') },`,
    `  body: new URLSearchParams({ grant_type: 'client_credentials', scope: '${scope}' }),`,
    `});`,
    `const { access_token } = await response.json();`,
  ].join('\n');

  const pythonSecret = [
    `import os, requests`,
    `token = requests.post('${tokenUrl}',`,
    `    auth=('${clientId}', os.environ['CLIENT_SECRET']),`,
    `    data={'grant_type': 'client_credentials', 'scope': '${scope}'}).json()['access_token']`,
  ].join('\n');

  const showJwt = method !== 'client_secret';
  const showSecret = method !== 'jwks_uri';
  return html`<p>
      <a href="${service ? `/portal/services/${encodeURIComponent(service.id)}` : '/portal'}">← Back</a>
    </p>
    <h1>Get a token</h1>
    <p>
      A backend service gets an access token with the OAuth 2.0 <code>client_credentials</code> grant, then
      calls the FHIR API with it as <code>Authorization: Bearer …</code>. Tokens last a few minutes: get a new
      one when it expires.
      ${
        service
          ? html`The values below are those of <strong>${service.name}</strong> in ${where}.`
          : html`Open this guide from a service's page to see its own values here.`
      }
    </p>
    <nav aria-label="On this page">
      <ul>
        ${
          showJwt
            ? html`<li><a href="#keys">Your key pair (JWKS URI)</a></li>
                <li><a href="#assertion">Client assertion and token: Node, Python</a></li>`
            : ''
        }
        ${showSecret ? html`<li><a href="#secret">Client secret: curl, Node, Python</a></li>` : ''}
        ${env && service ? html`<li><a href="#curl">All the commands for this service</a></li>` : ''}
      </ul>
    </nav>
    ${
      showJwt
        ? html`<section aria-labelledby="keys">
              <h2 id="keys">Your key pair (JWKS URI, private_key_jwt)</h2>
              <p>
                Your service keeps a private key and publishes its public key as a JWK Set at the JWKS URI you
                registered (HTTPS, reachable from the internet). The registry checks that document: a key must
                be RSA of 2048 bits or more (RS384) or EC P-384 (ES384), have a <code>kid</code>, and carry no
                private part.
              </p>
              ${block('guide-keygen', keygen, 'the key commands')}
              <p>
                To rotate, publish the new key beside the old one, switch your service to it, then remove the
                old one.
              </p>
            </section>
            <section aria-labelledby="assertion">
              <h2 id="assertion">The client assertion and the token request</h2>
              <p>
                For each token request your service signs a short JWT, the <em>client assertion</em>:
                <code>iss</code> and <code>sub</code> are your client ID (<code>${clientId}</code>),
                <code>aud</code> is the token URL (<code>${tokenUrl}</code>), <code>jti</code> is new every
                time, <code>exp</code> at most five minutes ahead; the header names your key's
                <code>kid</code>. curl cannot sign, so build it in code; the service page's assertion checker
                tells you what the token endpoint would say about one, without using it up.
              </p>
              <h3>Node</h3>
              ${block('guide-node-jwt', nodeJwt, 'the Node code')}
              <h3>Python</h3>
              ${block('guide-python-jwt', pythonJwt, 'the Python code')}
            </section>`
        : ''
    }
    ${
      showSecret
        ? html`<section aria-labelledby="secret">
            <h2 id="secret">Client secret</h2>
            <p>
              The secret was shown once when it was created or rotated. Send it with HTTP Basic
              authentication. Keep it out of code and logs: read it from the environment. (A client secret is
              not SMART Backend Services compliant; use a JWKS URI for certified bulk data.)
            </p>
            <h3>curl</h3>
            ${block(
              'guide-curl-secret',
              [
                `CLIENT_SECRET='paste your client secret here'`,
                `curl -s -u "${clientId}:$CLIENT_SECRET" -d grant_type=client_credentials \\`,
                `  --data-urlencode 'scope=${scope}' ${tokenUrl}`,
              ].join('\n'),
              'the curl command',
            )}
            <h3>Node</h3>
            ${block('guide-node-secret', nodeSecret, 'the Node code')}
            <h3>Python</h3>
            ${block('guide-python-secret', pythonSecret, 'the Python code')}
          </section>`
        : ''
    }
    ${
      env && service
        ? html`<section aria-labelledby="curl">
            <h2 id="curl">All the commands for ${service.name} (${where})</h2>
            ${block('guide-curl', curlCommands(service, env), 'the commands')}
          </section>`
        : ''
    }`;
}
