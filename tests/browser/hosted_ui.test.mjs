// Browser test for fake-cognito's hosted UI (issue 18): the test starts the fake-cognito binary on
// a free port with a temporary state file and a tiny callback server, then drives Debian's headless
// chromium through playwright-core: /oauth2/authorize → the login page → a wrong password's message
// → signing in → the callback with a code (redeemed with the PKCE verifier) → a silent second
// sign-in from the session cookie → federated sign-in through the IdP stand-in.
//
// Env: HIPPODROME_FAKE_COGNITO (the fake-cognito binary), else HIPPODROME_ORCHESTRATOR (run as
//      `orchestrator serve fake-cognito`; what run.sh sets), else <repo>/target/debug/fake-cognito;
//      HIPPODROME_CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
// The orchestrator links fake-cognito's library and serves it as a subcommand.
const [BIN, ...SERVE] = process.env.HIPPODROME_FAKE_COGNITO
  ? [process.env.HIPPODROME_FAKE_COGNITO]
  : process.env.HIPPODROME_ORCHESTRATOR
    ? [process.env.HIPPODROME_ORCHESTRATOR, 'serve', 'fake-cognito']
    : [join(repo, 'target', 'debug', 'fake-cognito')];
const CHROMIUM = process.env.HIPPODROME_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(here, 'artifacts');
const PASSWORD = 'Correct-Horse-9!';

let root, child, cognito, callbackServer, callback, context, page;
let poolId, clientId;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function call(op, body) {
  const res = await fetch(cognito, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${op}`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${op}: ${JSON.stringify(json)}`);
  return json;
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

function pkce() {
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizeUrl(challenge, extra = {}) {
  const q = new URLSearchParams({
    client_id: clientId, redirect_uri: callback, response_type: 'code', scope: 'openid email',
    state: 'browser-state', nonce: 'browser-nonce', code_challenge: challenge,
    code_challenge_method: 'S256', ...extra,
  });
  return `${cognito}/domain/browserapp/oauth2/authorize?${q}`;
}

async function redeem(code, verifier) {
  const res = await fetch(`${cognito}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: callback,
      code_verifier: verifier,
    }),
    signal: AbortSignal.timeout(5000),
  });
  const json = await res.json();
  assert.equal(res.status, 200, JSON.stringify(json));
  return json;
}

before(async () => {
  assert.ok(existsSync(BIN), `binary not found at ${BIN} (set HIPPODROME_FAKE_COGNITO or HIPPODROME_ORCHESTRATOR)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  root = mkdtempSync(join(tmpdir(), 'hippodrome-hosted-ui-'));
  callbackServer = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>callback</title><h1 id="done">signed in</h1>');
  });
  await new Promise((r) => callbackServer.listen(0, '127.0.0.1', r));
  callback = `http://127.0.0.1:${callbackServer.address().port}/callback`;
  const port = await freePort();
  cognito = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  delete env.HIPPODROME_RANDOM_SEED;
  child = spawn(BIN, [...SERVE, '--port', String(port), '--state-file', join(root, 'state.json')], {
    env, stdio: 'ignore',
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${cognito}/healthz`)).ok) break;
    } catch { /* not listening yet */ }
    assert.ok(i < 200 && child.exitCode === null, 'fake-cognito did not become healthy');
    await sleep(50);
  }
  poolId = (await call('CreateUserPool', { PoolName: 'browser' })).UserPool.Id;
  await call('CreateUserPoolDomain', { UserPoolId: poolId, Domain: 'browserapp' });
  await call('CreateIdentityProvider', {
    UserPoolId: poolId, ProviderName: 'Google', ProviderType: 'Google',
    ProviderDetails: { client_id: 'g', client_secret: 's', authorize_scopes: 'email' },
    AttributeMapping: { email: 'email' },
  });
  clientId = (await call('CreateUserPoolClient', {
    UserPoolId: poolId, ClientName: 'web', AllowedOAuthFlows: ['code'],
    AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthScopes: ['openid', 'email'],
    CallbackURLs: [callback], SupportedIdentityProviders: ['COGNITO', 'Google'],
  })).UserPoolClient.ClientId;
  await call('AdminCreateUser', {
    UserPoolId: poolId, Username: 'alice', MessageAction: 'SUPPRESS',
    UserAttributes: [{ Name: 'email', Value: 'alice@example.com' }],
  });
  await call('AdminSetUserPassword', { UserPoolId: poolId, Username: 'alice', Password: PASSWORD, Permanent: true });
  context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] || await context.newPage();
});

after(async () => {
  try { if (context) await context.close(); } catch { /* already gone */ }
  if (child && child.exitCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, sleep(10_000).then(() => child.kill('SIGKILL'))]);
  }
  if (callbackServer) await new Promise((r) => callbackServer.close(r));
  if (root) rmSync(root, { recursive: true, force: true });
});

test('sign in through the login page and land on the callback with a code', async () => {
  const { verifier, challenge } = pkce();
  await page.goto(authorizeUrl(challenge));
  assert.match(new URL(page.url()).pathname, /^\/domain\/browserapp\/login$/);
  await page.fill('#username', 'alice');
  await page.fill('#password', 'Wrong-Passw0rd!');
  await page.click('button[type=submit]');
  await page.waitForSelector('#error');
  assert.equal((await page.textContent('#error')).trim(), 'Incorrect username or password.');

  await page.fill('#username', 'alice');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${callback}?**`), page.click('button[type=submit]')]);
  await page.screenshot({ path: join(ARTIFACTS, 'hosted-ui-callback.png') });
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('state'), 'browser-state');
  assert.equal((await page.textContent('#done')).trim(), 'signed in');
  const tokens = await redeem(landed.searchParams.get('code'), verifier);
  const id = claims(tokens.id_token);
  assert.equal(id['cognito:username'], 'alice');
  assert.equal(id.nonce, 'browser-nonce');
  assert.equal(id.aud, clientId);

  // The session cookie: a second authorize goes straight to the callback.
  const again = pkce();
  await page.goto(authorizeUrl(again.challenge, { state: 'second' }));
  await page.waitForURL(`${callback}?**`);
  assert.equal(new URL(page.url()).searchParams.get('state'), 'second');
});

test('sign in through the federated stand-in', async () => {
  const { verifier, challenge } = pkce();
  await page.goto(authorizeUrl(challenge));
  // Signed in as alice already: the login page is skipped. Ask for Google instead.
  assert.ok(page.url().startsWith(callback), page.url());
  await page.goto(`${cognito}/logout?client_id=${clientId}&redirect_uri=${encodeURIComponent(callback)}&response_type=code`);
  assert.match(new URL(page.url()).pathname, /\/login$/);
  await page.goto(authorizeUrl(challenge));
  await page.click('text=Continue with Google');
  assert.match(new URL(page.url()).pathname, /^\/domain\/browserapp\/fake-idp\/Google$/);
  await page.fill('#user_id', 'g-browser-1');
  await page.fill('#email', 'fed@example.com');
  await Promise.all([page.waitForURL(`${callback}?**`), page.click('form:last-of-type button[type=submit]')]);
  const landed = new URL(page.url());
  const tokens = await redeem(landed.searchParams.get('code'), verifier);
  const id = claims(tokens.id_token);
  assert.equal(id['cognito:username'], 'Google_g-browser-1');
  assert.equal(id.email, 'fed@example.com');
  assert.equal(id.identities[0].providerName, 'Google');
  const user = await call('AdminGetUser', { UserPoolId: poolId, Username: 'Google_g-browser-1' });
  assert.equal(user.UserStatus, 'EXTERNAL_PROVIDER');
});
