// The README's first command, `npx berth demo`: it writes a demo environment (static-site from the built-in
// catalog, on the local engine), applies it and says where to open it. Run for real against the default
// engine (/var/run/docker.sock) with the nginx stand-in image loaded, since this machine has no registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runBerth } from './converge-fixtures.ts';
import { containers, freePort, servedTitle, SOCKET, useDemoEngine } from './demo-fixtures.ts';

const { opts, folder } = await useDemoEngine('berth-demo-');

test('berth demo deploys static-site on the local engine, is idempotent, and redeploys an edited answer', opts, async () => {
  const dir = path.join(folder(), 'demo');
  const port = await freePort();
  const demo = () => runBerth(['demo', '--once', '--dir', dir, '--port', String(port)], { env: { DOCKER_HOST: `unix://${SOCKET}` }, timeoutMs: 180_000 });

  // First run: writes the environment, deploys, says where to open it.
  const first = await demo();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stderr, /made the demo environment repository in /);
  assert.match(first.stdout, /^stack static-site deployed$/m);
  assert.ok(first.stdout.includes(`open http://localhost:${port}/`), first.stdout);
  const deployed = await containers();
  assert.deepEqual(deployed.map((c) => c.name), ['static-site-lb-1', 'static-site-web-1', 'static-site-web-2']);

  // Through the load balancer's published port, from a web replica.
  const body = await servedTitle(port, 'Hello from Berth');
  const by = /served by (\S+?)</.exec(body)?.[1];
  const webHostnames = deployed.filter((c) => c.name.includes('-web-')).map((c) => c.hostname);
  assert.ok(by && webHostnames.includes(by), `served by ${by}, web replicas are ${webHostnames.join(', ')}`);

  // Second run: nothing to do, nothing touched.
  const second = await demo();
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /^stack static-site already up to date/m);
  assert.ok(second.stdout.includes(`open http://localhost:${port}/`), second.stdout);
  assert.deepEqual(await containers(), deployed, 'same containers, same StartedAt');

  // Edit an answer and run again: the new title is served.
  const stackFile = path.join(dir, 'stacks', 'static-site.yml');
  const text = readFileSync(stackFile, 'utf8');
  assert.match(text, /site_title: Hello from Berth/);
  writeFileSync(stackFile, text.replace('site_title: Hello from Berth', 'site_title: Hello again from Berth'));
  const third = await demo();
  assert.equal(third.code, 0, third.stdout + third.stderr);
  assert.match(third.stdout, /^stack static-site deployed$/m);
  await servedTitle(port, 'Hello again from Berth');
  const redeployed = await containers();
  assert.deepEqual(redeployed.map((c) => c.name), ['static-site-lb-1', 'static-site-web-1', 'static-site-web-2'], 'no old replicas left over');
  for (const c of redeployed.filter((x) => x.name.includes('-web-'))) {
    assert.ok(c.env.includes('SITE_TITLE=Hello again from Berth'), `${c.name}: ${c.env.join(' ')}`);
    assert.ok(!deployed.some((d) => d.id === c.id), `${c.name} is a new container`);
  }
  assert.equal(redeployed.find((c) => c.name === 'static-site-lb-1')!.id, deployed.find((c) => c.name === 'static-site-lb-1')!.id, 'the load balancer did not change');
});
