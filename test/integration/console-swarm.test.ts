// The console with a Swarm in the environment, in Debian's Chromium against a real `berth serve` and the real
// three-node test Swarm: the deploy form offers the Swarm as a target (and hides the host selector for it), the
// commit says `swarm: test`, the stack page lists the tasks by node, and the service's logs come from Swarm with
// the password masked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { dockerGate, isCI } from '../harness/env.ts';
import { swarmGate, testSwarm } from '../harness/swarm.ts';
import { REPO_ROOT } from './converge-fixtures.ts';
import type { Serve } from './serve-fixtures.ts';
import { CHROMIUM, ConsoleWorld, PASSWORDS, launchBrowser } from './console-fixtures.ts';
import { SwarmWorld } from './swarm-fixtures.ts';

const gate = await dockerGate();
const found = await testSwarm();
const noBrowser = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`;
const opts = gate.opts.skip ? gate.opts : !noBrowser || isCI() ? swarmGate(found) : { skip: noBrowser };
const STACK = 'console-swarm';
const SECRET = 'swarm-secret-pw-81';
const IMG = path.join(REPO_ROOT, 'docs', 'img');

let world: ConsoleWorld;
let serve: Serve;
let browser: Browser;
let swarm: SwarmWorld;

before(async () => {
  if (opts.skip) return;
  swarm = new SwarmWorld(found.swarm!);
  await swarm.remove(STACK);
  world = await ConsoleWorld.create(gate, { swarm: found.swarm! });
  serve = await world.serve();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  await swarm?.remove(STACK);
  swarm?.cleanup();
  await world?.dispose();
});

test('a deployer deploys a stack to the Swarm from the console; its page lists tasks by node and masked logs', opts, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${serve.url}/stacks`);
  await page.waitForURL(/\/login/);
  await page.fill('input[name=username]', 'dora');
  await page.fill('input[name=password]', PASSWORDS.dora);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/stacks$/);

  await page.goto(`${serve.url}/catalog/swarm-web/deploy`);
  await page.waitForSelector('[data-testid=stack-target]');
  assert.deepEqual(await page.locator('[data-testid=stack-target] option').allTextContents(), ['Standalone hosts', 'Swarm test']);
  assert.equal(await page.isVisible('[data-testid=stack-hosts]'), true);
  await page.selectOption('[data-testid=stack-target]', 'test');
  assert.equal(await page.isVisible('[data-testid=stack-hosts]'), false, 'a Swarm places tasks itself: no host selector');
  await page.fill('[data-testid=stack-name]', STACK);
  await page.fill('[data-testid=field-admin_password]', SECRET);
  await page.click('[data-testid=submit-button]');
  await page.waitForSelector('[data-testid=deploy-status]:has-text("Ready")', { timeout: 180_000 });

  const file = world.gitOut('show', `main:stacks/${STACK}.yml`);
  assert.match(file, /^swarm: test$/m);
  assert.doesNotMatch(file, /^hosts:/m);
  assert.ok(!file.includes(SECRET));
  const services = await found.swarm!.nodes[0].docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_web`] }) });
  assert.equal(services.length, 1, 'the service is on the Swarm, named as docker stack deploy names it');

  await page.goto(`${serve.url}/stacks/${STACK}`);
  assert.equal(await page.textContent('[data-testid=runs-on]'), 'swarm test');
  const rows = page.locator('[data-testid=containers] tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=containers] tbody tr').length >= 2);
  assert.equal(await rows.count(), 2);
  const panel = await page.textContent('section.panel:has([data-testid=containers])') ?? '';
  assert.match(panel, /swarm test · bsw[123]/);
  assert.match(panel, /console-swarm_web\.[12]/);
  assert.match(panel, /running/);
  await page.selectOption('[data-testid=log-service]', 'web');
  await page.click('[data-testid=log-load]');
  await page.waitForSelector('[data-testid=logs]:has-text("swarm web starting")', { timeout: 30_000 });
  const logs = await page.textContent('[data-testid=logs]') ?? '';
  assert.match(logs, /admin password \*\*\*\*\*\*/);
  assert.ok(!logs.includes(SECRET));
  await page.screenshot({ path: path.join(IMG, 'console-swarm.png'), fullPage: true });

  // Followed live: the service's lines from every task through the manager, then new ones as tasks start.
  await page.check('[data-testid=log-follow]');
  await page.click('[data-testid=log-load]');
  await page.waitForSelector('[data-testid=logs]:has-text("swarm web starting")', { timeout: 30_000 });
  const starts = async () => ((await page.textContent('[data-testid=logs]')) ?? '').split('swarm web starting').length - 1;
  const before = await starts();
  const docker = found.swarm!.nodes[0].docker;
  const svc = await docker.getService(services[0]!.ID).inspect();
  await docker.getService(services[0]!.ID).update({ version: svc.Version.Index, ...svc.Spec, TaskTemplate: { ...svc.Spec.TaskTemplate, ForceUpdate: (svc.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 } });
  await page.waitForFunction((n) => (document.querySelector('[data-testid=logs]')?.textContent ?? '').split('swarm web starting').length - 1 > n, before, { timeout: 60_000 });
  const followed = await page.textContent('[data-testid=logs]') ?? '';
  assert.match(followed, /console-swarm_web \| /, 'each line names the service');
  assert.ok(!followed.includes(SECRET), 'masked while followed');
  await page.close();
});
