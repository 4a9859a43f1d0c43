// Browser tests for the dashboard (issues 9 and 17): a real stack (`orchestrator up --profile ecom`,
// seeded, so moto and the AWS gateway run) in a temporary project root whose hippodrome.toml declares
// the fixture Lambda process and two state machines, driven in Debian's headless chromium through
// playwright-core.
//
// Env: HIPPODROME_ORCHESTRATOR (binary; default <repo>/target/debug/orchestrator),
//      HIPPODROME_CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const BIN = process.env.HIPPODROME_ORCHESTRATOR || join(repo, 'target', 'debug', 'orchestrator');
const CHROMIUM = process.env.HIPPODROME_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(here, 'artifacts');
const STARTUP_MS = 120_000;

// The fixture Lambda's port before the offset: inside the stack's own span (9000-9199), so stacks at
// other offsets never meet it.
const LAMBDA_PORT = 9016;
const LAMBDA = 'e2e_lambda'; // the name fixtures/state_machines/failing_flow.asl.json calls

let root, child, childLog, base, offset, context, page;
const consoleErrors = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A timer that does not keep the process alive once everything else is done.
const deadline = (ms) => new Promise((r) => setTimeout(r, ms).unref());

async function until(what, fn, ms = 20_000, every = 200) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function portFree(port) {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

// An offset whose dashboard/service ports (9000..9019: moto, the gateway, the fixture Lambda) and
// index ports (9100..9199, first few) are free, kept below the kernel's ephemeral range.
async function freeOffset() {
  for (let i = 0; i < 50; i++) {
    const offset = 1000 + Math.floor(Math.random() * 19000);
    const ports = [];
    for (let p = 9000; p <= 9019; p++) ports.push(p + offset);
    for (let p = 9100; p < 9110; p++) ports.push(p + offset);
    let ok = true;
    for (const p of ports) if (!(await portFree(p))) { ok = false; break; }
    if (ok) return offset;
  }
  throw new Error('no free port offset found');
}

async function api(path, init) {
  const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

// The team side of the stack, as a team declares it: the fixture Lambda process as a service, the
// Lambda the gateway runs on it, and two state machines the seed creates (one succeeds through a
// lambda:invoke task, one fails with the Lambda's error).
function writeTeamConfig(dir) {
  writeFileSync(join(dir, 'ok_flow.asl.json'), JSON.stringify({
    Comment: 'Browser test: a Lambda task, then a Pass state.',
    StartAt: 'Validate',
    States: {
      Validate: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: `\${lambda:${LAMBDA}}`, 'Payload.$': '$' },
        ResultSelector: { 'validated.$': '$.Payload.echo' }, Next: 'Done' },
      Done: { Type: 'Pass', End: true },
    },
  }));
  writeFileSync(join(dir, 'hippodrome.toml'), `
[[services]]
name = "browser_lambda"
port = ${LAMBDA_PORT}
command = ["python3", ${JSON.stringify(join(repo, 'fixtures', 'lambdas', 'fixture_lambda.py'))}, "{port}"]
layer = 1
health_url = "/_received"

[[lambdas]]
name = "${LAMBDA}"
service = "browser_lambda"
timeout_s = 5

[[state_machines]]
name = "browser-ok-flow"
definition = "ok_flow.asl.json"

[[state_machines]]
name = "browser-failing-flow"
definition = ${JSON.stringify(join(repo, 'fixtures', 'state_machines', 'failing_flow.asl.json'))}
`);
}

// A plain JSON call to the stack's AWS endpoint (the gateway); moto routes on the credential scope.
async function aws(service, target, body) {
  const { body: status } = await api('/api/status');
  const res = await fetch(`${status.aws_gateway.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${target}: ${text}`);
  return JSON.parse(text);
}

function logTail() {
  try { return readFileSync(childLog, 'utf8').split('\n').slice(-40).join('\n'); } catch { return ''; }
}

before(async () => {
  assert.ok(existsSync(BIN), `orchestrator binary not found at ${BIN} (set HIPPODROME_ORCHESTRATOR)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  root = mkdtempSync(join(tmpdir(), 'hippodrome-browser-'));
  writeTeamConfig(root);
  offset = await freeOffset();
  base = `http://127.0.0.1:${9000 + offset}`;
  childLog = join(root, 'orchestrator.out');
  const out = openSync(childLog, 'a');
  child = spawn(BIN, ['up', '--project-root', root, '--port-offset', String(offset), '--profile', 'ecom', '--table-prefix', 'browser-test-',
    '--layer-timeout', '120'], {
    stdio: ['ignore', out, out],
    env: { ...process.env, NO_COLOR: '1', HIPPODROME_PORT_OFFSET: String(offset) },
  });
  let exited = null;
  child.once('exit', (code, sig) => { exited = `exit ${code ?? sig}`; });
  await until('the stack to be ready', async () => {
    if (exited) throw new Error(`orchestrator ${exited}\n${logTail()}`);
    const { body } = await api('/api/stack');
    return body.ready === true;
  }, STARTUP_MS, 300).catch((e) => { throw new Error(`${e.message}\n--- orchestrator output ---\n${logTail()}`); });

  // A fresh profile per run (playwright passes it to chromium as --user-data-dir).
  context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1366, height: 860 },
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`console: ${m.text()} ${m.location()?.url ?? ''}`.trim()); });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.setDefaultTimeout(20_000);
});

after(async () => {
  try { if (context) await context.close(); } catch { /* already gone */ }
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    await promisify(execFile)(BIN, ['stop', '--project-root', root], { timeout: 90_000 }).catch(() => {});
    const killed = await Promise.race([gone.then(() => false), deadline(30_000).then(() => true)]);
    if (killed) {
      child.kill('SIGTERM');
      await Promise.race([gone, deadline(10_000)]);
      await promisify(execFile)(BIN, ['kill', '--project-root', root], { timeout: 30_000 }).catch(() => {});
    }
  }
  if (root && !process.env.HIPPODROME_KEEP_TMP) rmSync(root, { recursive: true, force: true });
});

const row = (name) => page.locator(`tr.service[data-service="${name}"]`);

test('the page loads without console errors and every service turns running', async () => {
  const res = await page.goto(base + '/', { waitUntil: 'domcontentloaded' });
  assert.equal(res.status(), 200);
  assert.match(await page.title(), /Hippodrome/);
  const { body: status } = await api('/api/status');
  const names = Object.keys(status);
  assert.ok(names.includes('fake_cell') && names.includes('webhook_router'), `services: ${names}`);
  for (const name of names) {
    await row(name).waitFor();
    const want = status[name].status === 'skipped' ? 'skipped' : 'running';
    await until(`${name} row to show ${want}`, async () => (await row(name).getAttribute('data-status')) === want);
    assert.equal((await row(name).locator('td.status').textContent()).trim(), want);
  }
  // Skipped services say why, in words, and cannot be controlled.
  for (const name of names.filter((n) => status[n].status === 'skipped')) {
    assert.match(await row(name).locator('td.why').textContent(), /Skipped: /);
    assert.ok(await row(name).locator('button[data-action=restart]').isDisabled());
  }
  // Running services: start makes no sense, stop and restart do.
  const r = row('fake_cell');
  assert.ok(await r.locator('button[data-action=start]').isDisabled());
  assert.ok(await r.locator('button[data-action=stop]').isEnabled());
  assert.ok(await r.locator('button[data-action=restart]').isEnabled());
  assert.match(await r.locator('td.port a').getAttribute('href'), /^http:\/\/127\.0\.0\.1:\d+$/);
  // Header.
  const { body: stack } = await api('/api/stack');
  await until('the header', async () => (await page.locator('#h-profile').textContent()) === 'ecom');
  assert.equal(await page.locator('#h-cell').textContent(), stack.info.cell);
  assert.equal(await page.locator('#h-prefix').textContent(), 'browser-test-');
  assert.equal(await page.locator('#overall').textContent(), 'ready');
  assert.equal(await page.locator('#announce').getAttribute('aria-live'), 'polite');
  // Seed panel has loaded before the screenshot.
  await page.locator('#seed-body button.copy').first().waitFor();
  await sleep(1500); // a couple of live updates, so any late error shows up
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(consoleErrors, []);
});

test('live updates arrive without reloading', async () => {
  const t0 = await page.locator('#h-uptime').textContent();
  await until('the uptime to tick', async () => (await page.locator('#h-uptime').textContent()) !== t0, 5000);
  assert.match(await page.locator('#conn').textContent(), /^live/);
});

test('the restart button (pressed from the keyboard) restarts the service and the row shows it', async () => {
  const name = 'fake_cognito';
  const r = row(name);
  const pid = await r.getAttribute('data-pid');
  const restarts = Number(await r.getAttribute('data-restarts'));
  assert.ok(pid, 'row has a pid');
  await r.locator('button[data-action=restart]').focus();
  await page.keyboard.press('Enter');
  await until('a new pid in the row', async () => {
    const p = await r.getAttribute('data-pid');
    return p && p !== pid && (await r.getAttribute('data-status')) === 'running';
  }, 30_000);
  assert.equal(await r.locator('td.pid').textContent(), await r.getAttribute('data-pid'));
  const { body } = await api('/api/status');
  assert.notEqual(String(body[name].pid), pid);
  assert.ok(body[name].restarts >= restarts, 'restarts did not go down');
  await until('the restarts column to catch up', async () => Number(await r.locator('td.restarts').textContent()) === body[name].restarts || Number(await r.locator('td.restarts').textContent()) > restarts, 5000);
});

test('the log viewer live-tails the line a service just wrote, with pause and filter', async () => {
  const name = 'fake_cognito';
  await row(name).locator('button[data-action=logs]').click();
  await until('the log viewer to switch', async () => (await page.locator('#log-name').textContent()) === name);
  const view = page.locator('#log-view');
  const count = async () => ((await view.textContent()).match(/fake-cognito ready/g) || []).length;
  await until('the tail to load', async () => (await count()) >= 1);
  const n0 = await count();

  // Live: a restart writes a new startup line; it appears without reloading.
  assert.equal((await api(`/api/control/restart?service=${name}`, { method: 'POST' })).status, 200);
  await until('the new startup line', async () => (await count()) > n0, 20_000);
  const n1 = await count();

  // Pause holds new lines back; resume shows them.
  await page.locator('#log-pause').click();
  assert.equal(await page.locator('#log-pause').getAttribute('aria-pressed'), 'true');
  assert.equal((await api(`/api/control/restart?service=${name}`, { method: 'POST' })).status, 200);
  await until('the paused counter', async () => /paused \([1-9]\d* new\)/.test(await page.locator('#log-status').textContent()), 20_000);
  assert.equal(await count(), n1);
  await page.locator('#log-pause').click();
  await until('the held lines after resume', async () => (await count()) > n1, 5000);

  // Filter.
  await page.locator('#log-filter').fill('fake-cognito ready');
  const lines = await view.locator('.line').allTextContents();
  assert.ok(lines.length >= 2);
  for (const l of lines) assert.match(l, /fake-cognito ready/);
  await page.locator('#log-filter').fill('');
  await until('the row back to running', async () => (await row(name).getAttribute('data-status')) === 'running', 30_000);
});

test('the stop and start buttons do what they say and are enabled only when they make sense', async () => {
  const r = row('webhook_router');
  await r.locator('button[data-action=stop]').click();
  await until('webhook_router stopped', async () => (await r.getAttribute('data-status')) === 'stopped', 30_000);
  assert.ok(await r.locator('button[data-action=stop]').isDisabled());
  assert.ok(await r.locator('button[data-action=start]').isEnabled());
  await r.locator('button[data-action=start]').click();
  await until('webhook_router running', async () => (await r.getAttribute('data-status')) === 'running', 30_000);
  assert.ok(await r.locator('button[data-action=start]').isDisabled());
});

test('a crashed service is restarted, and the page shows the exit in its row and log', async () => {
  const name = 'webhook_router';
  const r = row(name);
  await r.locator('button[data-action=logs]').click();
  await until('the log viewer to switch', async () => (await page.locator('#log-name').textContent()) === name);
  const pid = Number(await r.getAttribute('data-pid'));
  const restarts = Number(await r.getAttribute('data-restarts'));
  assert.ok(pid > 0);
  process.kill(pid, 'SIGKILL');
  await until('the exit line in the log viewer', async () =>
    (await page.locator('#log-view').textContent()).includes(`[hippodrome] ${name} exited with code`), 20_000);
  await until('a new pid and a higher restart count in the row', async () =>
    Number(await r.getAttribute('data-pid')) !== pid && Number(await r.getAttribute('data-restarts')) > restarts
      && (await r.getAttribute('data-status')) === 'running', 30_000);
});

test('a copy button copies the API key', async () => {
  const { body: m } = await api('/api/seed');
  const acct = m.accounts[0];
  const key = acct.api_keys[0];
  await page.locator('#seed-body').getByText(String(m.seed), { exact: true }).first().waitFor();
  // Exact names: a seed can give two accounts names where one is the other's prefix
  // ("Pinecrest Goods" and "Pinecrest Goods 2"), and a substring match would find both.
  const button = page.getByRole('button', { name: `Copy API key ${key.name} of ${acct.name}`, exact: true });
  await button.click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, key.key);
  // Users and passwords are there too.
  const user = m.cognito.users[0];
  await page.getByRole('button', { name: `Copy password of ${user.username}`, exact: true }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), user.password);
});

// One panel, cut out of a full-page screenshot (an element screenshot would scroll it under the
// sticky header).
async function panelScreenshot(selector, file) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const box = await page.locator(selector).boundingBox();
  await page.screenshot({ path: join(ARTIFACTS, file), fullPage: true, clip: box });
}

const execution = (name) => page.locator(`#wf-rows tr.execution[data-name="${name}"]`);

// Both declared machines run once, started by plain JSON calls to the gateway (as a team's test would).
async function startExecutions() {
  const { body: m } = await api('/api/seed');
  const arn = (name) => m.moto.state_machines.find((s) => s.name === name).arn;
  await aws('states', 'AWSStepFunctions.StartExecution',
    { stateMachineArn: arn('browser-ok-flow'), name: 'browser-ok-1', input: JSON.stringify({ order: 42 }) });
  await aws('states', 'AWSStepFunctions.StartExecution',
    { stateMachineArn: arn('browser-failing-flow'), name: 'browser-fail-1', input: '{}' });
}

test('the workflows panel lists both executions and shows a failure\'s error, cause and each state\'s input and output', async () => {
  const errorsBefore = consoleErrors.length;
  await startExecutions();
  await until('both executions settled in the panel', async () =>
    (await execution('browser-ok-1').getAttribute('data-status')) === 'SUCCEEDED'
    && (await execution('browser-fail-1').getAttribute('data-status')) === 'FAILED', 60_000);
  assert.equal((await execution('browser-ok-1').locator('td.machine').textContent()), 'browser-ok-flow');
  assert.equal((await execution('browser-fail-1').locator('td.machine').textContent()), 'browser-failing-flow');
  assert.equal((await execution('browser-fail-1').locator('td.status').textContent()).trim(), 'FAILED');

  // The failing one: the Lambda's error and cause, in red, on the execution and on its state.
  await page.getByRole('button', { name: 'Show execution browser-fail-1 of browser-failing-flow' }).click();
  const detail = page.locator('#wf-detail');
  await until('the failed execution\'s detail', async () => (await detail.getAttribute('data-status')) === 'FAILED');
  const failure = page.locator('#wf-failure .failure');
  assert.equal(await failure.locator('.error').textContent(), 'ValueError');
  assert.match(await failure.textContent(), /fixture was told to fail/);
  const red = await failure.evaluate((e) => getComputedStyle(e).color);
  const bad = await page.evaluate(() => { const s = document.createElement('span'); s.className = 'bad'; document.body.append(s);
    const c = getComputedStyle(s).color; s.remove(); return c; });
  assert.equal(red, bad, 'the failure is shown in the error colour');
  assert.equal(await detail.locator('tr.state[data-state="Explode"]').getAttribute('data-status'), 'failed');
  assert.match(await detail.locator('tr.state-failure[data-state="Explode"]').textContent(), /ValueError[\s\S]*fixture was told to fail/);
  await detail.locator('details.history summary').click();
  assert.match(await detail.locator('tr.event[data-type="TaskFailed"]').textContent(), /ValueError/);
  assert.equal(await detail.locator('tr.event[data-type="ExecutionFailed"]').count(), 1);

  // The one that succeeded: each state's input and output.
  await page.getByRole('button', { name: 'Show execution browser-ok-1 of browser-ok-flow' }).click();
  await until('the succeeded execution\'s detail', async () => (await detail.getAttribute('data-status')) === 'SUCCEEDED');
  const validate = detail.locator('tr.state[data-state="Validate"]');
  assert.equal(await validate.getAttribute('data-status'), 'exited');
  assert.deepEqual(JSON.parse(await validate.locator('td.input pre').textContent()), { order: 42 });
  assert.deepEqual(JSON.parse(await validate.locator('td.output pre').textContent()), { validated: { order: 42 } });
  assert.deepEqual(JSON.parse(await detail.locator('tr.state[data-state="Done"] td.input pre').textContent()), { validated: { order: 42 } });
  assert.equal(await page.locator('#wf-failure').count(), 0);
  assert.equal(await execution('browser-ok-1').getAttribute('class'), 'execution selected');
  assert.equal(await detail.locator('h3').textContent(), 'browser-ok-1SUCCEEDEDbrowser-ok-flowClose');
  await panelScreenshot('#workflows', 'dashboard-workflows.png');
  assert.deepEqual(consoleErrors.slice(errorsBefore), []);
});

test('the lambdas panel shows the function\'s target and its last invocations with status, duration and error', async () => {
  const errorsBefore = consoleErrors.length;
  const { body: status } = await api('/api/status');
  const gw = status.aws_gateway.url;
  const direct = await fetch(`${gw}/2015-03-31/functions/${LAMBDA}/invocations`,
    { method: 'POST', body: JSON.stringify({ direct: true }), signal: AbortSignal.timeout(10_000) });
  assert.equal(direct.status, 200);
  assert.deepEqual(await direct.json(), { echo: { direct: true } });
  const queued = await fetch(`${gw}/2015-03-31/functions/${LAMBDA}/invocations`,
    { method: 'POST', headers: { 'x-amz-invocation-type': 'Event' }, body: '{"queued": true}', signal: AbortSignal.timeout(10_000) });
  assert.equal(queued.status, 202);

  const fn = page.locator(`#lambda-rows tr.lambda[data-function="${LAMBDA}"]`);
  // Two from the state machines (one failed), the direct call, the Event one.
  await until('four invocations in the row', async () => Number(await fn.locator('td.invocations').textContent()) >= 4
    && (await fn.locator('li[data-type="Event"]').count()) >= 1, 20_000);
  assert.match(await fn.locator('td').nth(1).textContent(), new RegExp(`http://127\\.0\\.0\\.1:${LAMBDA_PORT + offset}.*service browser_lambda`));
  assert.ok(Number(await fn.locator('td.errors').textContent()) >= 1);
  const failed = fn.locator('li[data-status="handler_error"]').first();
  assert.match(await failed.locator('.error').textContent(), /ValueError: fixture was told to fail/);
  assert.equal(await failed.locator('.type').textContent(), 'RequestResponse');
  const ok = fn.locator('li[data-status="success"][data-type="RequestResponse"]').first();
  assert.match(await ok.textContent(), /\d+\.\d ms/);
  await panelScreenshot('#lambdas', 'dashboard-lambdas.png');
  assert.deepEqual(consoleErrors.slice(errorsBefore), []);
});

test('the events panel shows the webhook router\'s events', async () => {
  const ev = { version: '0', id: 'browser-test-1', 'detail-type': 'BrowserTest.Ping', source: 'hippodrome.test',
    account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: {} };
  await fetch(base + '/webhook/eventbridge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ev), signal: AbortSignal.timeout(10_000) });
  await until('the event row', async () => (await page.locator('#events-rows').textContent()).includes('BrowserTest.Ping'), 10_000);
  // The whole page after the run, at a small laptop width in the dark theme.
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1024-dark.png'), fullPage: true });
});
