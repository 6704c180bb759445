// The web console end to end in Debian's Chromium, against a real `berth serve`, the harness git server and
// Docker host h1: sign in, deploy static-site from the catalog (a wrong answer first), the commit with the secret
// encrypted, the stack Ready with its URL, an edit redeployed, a rollback, logs with the secret masked, a viewer
// without buttons and refused by the API, a write without CSRF refused, a README's <script> shown as text.
// Screenshots of the main pages go to docs/img/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { httpGet, waitFor } from '../harness/env.ts';
import { STATIC_SITE_IMAGES } from '../harness/standins.ts';
import { REPO_ROOT } from './converge-fixtures.ts';
import { PASSWORDS, PORT, STACK, useConsoleOnH1 } from './console-fixtures.ts';

const IMG = path.join(REPO_ROOT, 'docs', 'img');
const SECRET = 'correct-horse-battery';
const SITE = `http://127.0.0.1:${PORT}/`;
const suite = await useConsoleOnH1({ stack: STACK, images: [...STATIC_SITE_IMAGES] });
const { opts } = suite;

async function signIn(page: Page, user: keyof typeof PASSWORDS, shot?: string): Promise<void> {
  await page.goto(`${suite.serve.url}/stacks`);
  await page.waitForURL(/\/login/);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', PASSWORDS[user]);
  if (shot) await page.screenshot({ path: path.join(IMG, shot) });
  await page.click('button[type=submit]');
  await page.waitForURL(/\/stacks$/);
}

async function siteSays(text: string): Promise<void> {
  await waitFor(async () => (await httpGet(SITE, 2000).catch(() => ({ body: '' }))).body.includes(text), { timeoutMs: 90_000, intervalMs: 500, what: `${SITE} to say ${text}` });
}

test('a deployer deploys, edits and rolls back static-site from the console', opts, async () => {
  const page = await suite.browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('dialog', (d) => void d.accept());
  await signIn(page, 'dora', 'console-login.png');
  assert.match(await page.textContent('[data-testid=who]') ?? '', /dora\s+deployer/);

  await page.goto(`${suite.serve.url}/catalog`);
  await page.fill('[data-testid=catalog-search]', 'load balancer');
  assert.equal(await page.locator('[data-testid=template-card]:visible').count(), 1);
  await page.fill('[data-testid=catalog-search]', 'no-such-thing');
  assert.equal(await page.locator('[data-testid=template-card]:visible').count(), 0);
  await page.fill('[data-testid=catalog-search]', '');
  await page.screenshot({ path: path.join(IMG, 'console-catalog.png') });
  await page.click('[data-testid=template-card]');

  // The README's <script> is text on the page, and never ran.
  assert.match(await page.textContent('[data-testid=readme]') ?? '', /<script>window.__pwned = 1<\/script>/);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  await page.screenshot({ path: path.join(IMG, 'console-template.png'), fullPage: true });
  await page.click('[data-testid=deploy-button]');

  // Wrong answers first: every problem on its field, nothing committed.
  await page.fill('[data-testid=stack-name]', STACK);
  await page.fill('[data-testid=field-http_port]', '70000');
  await page.fill('[data-testid=field-admin_password]', 'short');
  await page.click('[data-testid=submit-button]');
  assert.match(await page.textContent('[data-testid=error-http_port]') ?? '', /at most 65535/);
  assert.match(await page.textContent('[data-testid=error-admin_password]') ?? '', /at least 8 characters/);
  assert.equal(suite.world.gitOut('ls-tree', '--name-only', 'main', 'stacks/').trim(), '');

  // The server checks too: the same answer sent past the browser is refused with the field named.
  const direct = await page.evaluate(async (p) => {
    const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
    const r = await fetch(`/api/stacks/${p.stack}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ template: 'static-site', answers: { http_port: 70000, admin_password: 'long-enough-pw' } }) });
    return { status: r.status, body: await r.json() as { problems: Array<{ field: string }> } };
  }, { stack: STACK });
  assert.equal(direct.status, 422);
  assert.deepEqual(direct.body.problems.map((p) => p.field), ['http_port']);

  await page.fill('[data-testid=field-http_port]', String(PORT));
  await page.fill('[data-testid=field-admin_password]', SECRET);
  await page.fill('[data-testid=field-scale]', '1');
  await page.click('[data-testid=preview-button]');
  await page.waitForSelector('[data-testid=preview-plan]');
  assert.match(await page.textContent('[data-testid=preview-plan]') ?? '', /create/);
  const compose = await page.textContent('[data-testid=preview-compose]') ?? '';
  assert.match(compose, /ADMIN_PASSWORD: "?\*\*\*\*\*\*/);
  assert.ok(!compose.includes(SECRET));
  await page.screenshot({ path: path.join(IMG, 'console-deploy.png'), fullPage: true });

  await page.click('[data-testid=submit-button]');
  await page.waitForSelector('[data-testid=deploy-status]:has-text("Ready")', { timeout: 120_000 });
  await page.screenshot({ path: path.join(IMG, 'console-deployed.png') });

  // The commit is the person's, on main, with the password encrypted.
  const file = suite.world.gitOut('show', `main:stacks/${STACK}.yml`);
  assert.match(file, /admin_password: !age \|/);
  assert.ok(!file.includes(SECRET));
  assert.match(suite.world.gitOut('log', '-1', '--format=%an <%ae>', 'main'), /dora <dora@example.com>/);
  await siteSays('Welcome to Berth');

  await page.click('[data-testid=stack-link]');
  assert.match(await page.textContent('[data-testid=status]') ?? '', /Ready/);
  assert.equal(await page.textContent('[data-testid=url]'), `http://localhost:${PORT}/`);
  await page.selectOption('[data-testid=log-service]', 'web');
  await page.click('[data-testid=log-load]');
  await page.waitForSelector('[data-testid=logs]:has-text("web starting")');
  const logs = await page.textContent('[data-testid=logs]') ?? '';
  assert.match(logs, /admin password \*\*\*\*\*\*/);
  assert.ok(!logs.includes(SECRET));

  // Edit one answer; the password is kept as it was.
  await page.click('[data-testid=edit-button]');
  await page.fill('[data-testid=field-site_title]', 'Edited in the console');
  await page.click('[data-testid=submit-button]');
  await page.waitForSelector('[data-testid=deploy-status]:has-text("Ready")', { timeout: 120_000 });
  await siteSays('Edited in the console');
  const edited = suite.world.gitOut('show', `main:stacks/${STACK}.yml`);
  assert.equal(/admin_password: !age \|[\s\S]*?-----END AGE ENCRYPTED FILE-----/.exec(edited)?.[0], /admin_password: !age \|[\s\S]*?-----END AGE ENCRYPTED FILE-----/.exec(file)?.[0]);

  // Roll back from the stack page: the revert lands on the ledger and the old title is served again.
  await page.click('[data-testid=stack-link]');
  await page.click('[data-testid=rollback-button]');
  await page.waitForSelector('[data-testid=revert-commit]');
  const revert = await page.textContent('[data-testid=revert-commit]');
  assert.match(suite.world.gitOut('log', '-1', '--format=%h %an %s', 'berth/deployed'), new RegExp(`^${revert} dora Revert`));
  await siteSays('Welcome to Berth');

  await page.goto(`${suite.serve.url}/stacks`);
  await page.screenshot({ path: path.join(IMG, 'console-stacks.png') });
  await page.goto(`${suite.serve.url}/stacks/${STACK}`);
  await page.selectOption('[data-testid=log-service]', 'web');
  await page.click('[data-testid=log-load]');
  await page.waitForSelector('[data-testid=logs]:has-text("web starting")');
  await page.click('button[data-diff] >> nth=1');
  await page.waitForSelector('pre.diff:not([hidden])');
  assert.match(await page.textContent('pre.diff:not([hidden])') ?? '', /Edited in the console|Welcome to Berth/);
  await page.screenshot({ path: path.join(IMG, 'console-stack.png'), fullPage: true });
  await page.close();
});

test('a proposer\'s deploy becomes a merge request authored by them; main is untouched', opts, async () => {
  const page = await suite.browser.newPage({ viewport: { width: 1280, height: 860 } });
  await signIn(page, 'pete');
  const before = suite.world.gitOut('rev-parse', 'main').trim();
  await page.goto(`${suite.serve.url}/catalog/static-site/deploy`);
  assert.match(await page.textContent('[data-testid=submit-button]') ?? '', /Propose/);
  await page.fill('[data-testid=stack-name]', 'console-proposed');
  await page.fill('[data-testid=field-http_port]', String(PORT + 1));
  await page.fill('[data-testid=field-admin_password]', 'proposed-secret-1');
  await page.click('[data-testid=submit-button]');
  const link = await page.waitForSelector('[data-testid=mr-link]', { timeout: 60_000 });
  assert.match(await link.textContent() ?? '', /\/ops\/env\/-\/merge_requests\/1$/);
  const [mr] = suite.world.forge.mergeRequests;
  assert.match(mr.sourceBranch, /^berth\/console\/console-proposed-/);
  assert.equal(mr.targetBranch, 'main');
  assert.match(mr.description, /Proposed by \*\*pete\*\*/);
  assert.match(suite.world.gitOut('log', '-1', '--format=%an <%ae>', mr.sourceBranch), /pete <pete@example.com>/);
  const proposed = suite.world.gitOut('show', `${mr.sourceBranch}:stacks/console-proposed.yml`);
  assert.match(proposed, /admin_password: !age \|/);
  assert.ok(!proposed.includes('proposed-secret-1'));
  assert.equal(suite.world.gitOut('rev-parse', 'main').trim(), before);
  await page.close();
});

test('a viewer sees no write buttons and the API refuses their writes; writes need the CSRF token', opts, async () => {
  const page = await suite.browser.newPage();
  await signIn(page, 'vic');
  await page.goto(`${suite.serve.url}/catalog/static-site`);
  assert.equal(await page.locator('[data-testid=deploy-button]').count(), 0);
  await page.goto(`${suite.serve.url}/stacks/${STACK}`);
  assert.equal(await page.locator('[data-testid=edit-button]').count(), 0);
  assert.equal(await page.locator('[data-testid=rollback-button]').count(), 0);
  const refused = await page.evaluate(async (stack) => {
    const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
    const r = await fetch(`/api/stacks/${stack}/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
    return { status: r.status, body: await r.json() as { code: string; message: string } };
  }, STACK);
  assert.equal(refused.status, 403);
  assert.match(refused.body.message, /vic has the role viewer/);

  const deployer = await suite.browser.newPage();
  await signIn(deployer, 'dora');
  const noCsrf = await deployer.evaluate(async (stack) => (await fetch(`/api/stacks/${stack}/rollback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, STACK);
  assert.equal(noCsrf, 403);

  const anonymous = await fetch(`${suite.serve.url}/api/stacks`);
  assert.equal(anonymous.status, 401);
  assert.equal((await fetch(`${suite.serve.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${suite.serve.url}/metrics`)).status, 200);
});
