// The README's first command, `npx berth demo`: it writes a demo environment (static-site from the built-in
// catalog, on the local engine), applies it and says where to open it. Run for real against the default
// engine (/var/run/docker.sock) with the nginx stand-in image loaded, since this machine has no registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { httpGet, isCI, pingDocker, removeLabeled, tempDir, waitFor } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';
import { STATIC_SITE_IMAGES } from '../harness/standins.ts';
import { runBerth } from './converge-fixtures.ts';

const SOCKET = '/var/run/docker.sock';
const STACK = 'static-site'; // the demo's stack name: stacks/static-site.yml
const docker = new Docker({ socketPath: SOCKET });
const reachable = await pingDocker(docker, 5000);
const unavailable = `the default Docker engine does not answer on ${SOCKET}; start it with \`bash test/harness/hosts.sh start --default\``;
// Without CI a missing engine skips; with CI=true the test runs and fails.
const opts = reachable || isCI() ? {} : { skip: unavailable };
const tmp = reachable ? tempDir('berth-demo-') : undefined;

async function clean(): Promise<void> {
  if (!reachable) return;
  await removeLabeled(docker, `berth.stack=${STACK}`);
  await removeLabeled(docker, `com.docker.compose.project=${STACK}`);
}

before(async () => {
  if (!reachable) return;
  await clean();
  await ensureImages(docker, [...STATIC_SITE_IMAGES]);
});
after(async () => {
  await clean();
  tmp?.remove();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '0.0.0.0', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function containers(): Promise<{ name: string; id: string; hostname: string; startedAt: string; env: string[] }[]> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${STACK}`] }) });
  const out = await Promise.all(list.map(async (c) => {
    const info = await docker.getContainer(c.Id).inspect();
    return { name: info.Name.slice(1), id: info.Id, hostname: info.Config.Hostname, startedAt: info.State.StartedAt, env: info.Config.Env };
  }));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** GETs the site until it serves `title` (the load balancer may need a moment after the command returns). */
async function servedTitle(port: number, title: string): Promise<string> {
  return waitFor(async () => {
    const r = await httpGet(`http://127.0.0.1:${port}/`, 3000);
    return r.status === 200 && r.body.includes(`<h1>${title}</h1>`) ? r.body : undefined;
  }, { timeoutMs: 20_000, intervalMs: 300, what: `"${title}" on 127.0.0.1:${port}` });
}

test('berth demo deploys static-site on the local engine, is idempotent, and redeploys an edited answer', opts, async () => {
  if (!reachable || !tmp) throw new Error(unavailable);
  const dir = path.join(tmp.path, 'demo');
  const port = await freePort();
  const demo = () => runBerth(['demo', '--dir', dir, '--port', String(port)], { env: { DOCKER_HOST: `unix://${SOCKET}` }, timeoutMs: 180_000 });

  // First run: writes the environment, deploys, says where to open it.
  const first = await demo();
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stderr, /made the demo environment in /);
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
