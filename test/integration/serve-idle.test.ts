// An idle timer pass of serve's Controller costs what the stack count does not: no render (berth_renders_total stays),
// no environment read, and one list per kind on the host for every stack of the pass — counted on the wire, through
// a proxy in front of h1's socket. A stack file changed renders that stack alone; drift renders the drifted stack.
// The real deploy path (render, plan, apply, ledger) on the real h1; the environment on the harness git server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { dockerGate, tempDir, waitFor } from '../harness/env.ts';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { proxySocket, type SocketProxy } from '../harness/socket-proxy.ts';
import { useHarnessStacks, writeCatalog } from './converge-fixtures.ts';
import { metric, parseMetrics } from './serve-fixtures.ts';
import { Controller } from '../../controller/loop.ts';
import { createLogger } from '../../lib/log.ts';

const gate = await dockerGate();
const STACKS = ['idle-a', 'idle-b', 'idle-c'];
const TOKEN = 'idle-t0ken-31f';
const tmp = tempDir('berth-serve-idle-');
let git: GitServer;
let proxy: SocketProxy;
let controller: Controller | undefined;
const logs: Array<Record<string, unknown>> = [];

const stackFile = (seconds: number) => stringify({ template: 'sleeper', version: '1.0.0', answers: { seconds } });

useHarnessStacks(gate, STACKS, async () => {
  await controller?.stop(5_000);
  await proxy?.close();
  await git?.close();
  tmp.remove();
});

before(async () => {
  if (!gate.ok) return;
  proxy = await proxySocket(gate.host('h1').socket);
  const catalog = path.join(tmp.path, 'catalog');
  writeCatalog(catalog, {
    sleeper: {
      description: 'one busybox sleep',
      versions: { '1.0.0': { questions: [{ variable: 'seconds', type: 'int', default: 3600 }], compose: 'services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "{{seconds}}"]\n    stop_grace_period: 1s\n' } },
    },
  });
  git = await startGitServer({ root: path.join(tmp.path, 'git'), token: TOKEN });
  git.createBareRepo('env');
  const berth = { catalogs: [{ name: 'test', path: catalog }], hosts: [{ name: 'h1', endpoint: `unix://${proxy.path}` }] };
  git.commitFiles('env', { 'berth.yml': stringify(berth), ...Object.fromEntries(STACKS.map((s) => [`stacks/${s}.yml`, stackFile(3600)])) }, { message: 'three sleepers' });
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(l)); done(); } });
  controller = new Controller({
    env: { url: git.repoUrl('env'), branch: 'main', token: TOKEN }, cacheDir: path.join(tmp.path, 'cache'), intervalMs: 1_500,
    log: createLogger({ destination: sink, level: 'debug' }),
  });
  await controller.start();
});

after(() => undefined);

const renders = async () => metric(parseMetrics(await controller!.metrics.text()), 'berth_renders_total');

/** Waits until every stack has finished a timer run that started after `since` (a whole pass); returns when. */
async function pass(since: number, what: string): Promise<number> {
  await waitFor(() => STACKS.every((s) => {
    const st = controller!.stack(s);
    return st && !st.reconciling && st.lastReconcile && Date.parse(st.lastReconcile.at) > since && st.lastReconcile.why.includes('timer');
  }), { timeoutMs: 30_000, intervalMs: 50, what });
  return Date.now();
}

test('an idle pass renders nothing and lists the host once for all its stacks', gate.opts, async () => {
  await waitFor(() => STACKS.every((s) => controller!.stack(s)?.status === 'Ready'), { timeoutMs: 90_000, what: 'all stacks Ready' });
  // The first pass after the deploys renders each stack once more (what runs moved); the next ones are idle.
  let t = await pass(Date.now(), 'a first timer pass');
  t = await pass(t, 'a second timer pass');
  const [r0, seen0] = [await renders(), proxy.requests.length];
  const env0 = controller!.snapshot().env;
  t = await pass(t, 'an idle pass');
  t = await pass(t, 'another idle pass');
  const wire = proxy.requests.slice(seen0).filter((r) => !r.includes('/events'));
  assert.equal(await renders(), r0, 'no stack was rendered');
  assert.equal(controller!.snapshot().env, env0, 'the environment was not read again');
  const lists = wire.filter((r) => /\/containers\/json/.test(r));
  assert.ok(lists.length >= 2 && lists.length <= 3, `one container list per pass, not one per stack: ${wire.join('\n')}`);
  assert.ok(wire.length <= lists.length * 6, `a handful of calls per pass whatever the stack count: ${wire.join('\n')}`);
  assert.ok(STACKS.every((s) => controller!.stack(s)!.lastReconcile!.outcome === 'unchanged'));
});

test('a changed stack file renders that stack alone; drift renders the drifted stack alone', gate.opts, async () => {
  let t = await pass(Date.now(), 'a pass');
  const r0 = await renders();
  git.commitFiles('env', { 'stacks/idle-b.yml': stackFile(7200) }, { message: 'b sleeps longer' });
  await waitFor(() => controller!.stack('idle-b')?.lastReconcile?.outcome === 'converged', {
    timeoutMs: 60_000, what: () => `idle-b redeployed (have ${JSON.stringify(controller!.stack('idle-b'))}; environment ${JSON.stringify(controller!.environment())}; log ${JSON.stringify(logs.slice(-15))})`,
  });
  t = await pass(Date.now(), 'the pass after the change');
  t = await pass(t, 'a quiet pass');
  const r1 = await renders();
  // idle-b: rendered for the new commit, then once more because what runs moved; a and c: never.
  assert.ok(r1 - r0 >= 1 && r1 - r0 <= 2, `only idle-b rendered: ${r1 - r0}`);
  assert.ok(!logs.some((l) => typeof l.msg === 'string' && /^stack idle-(a|c) (converged|unchanged)$/.test(l.msg) && Number(l.time) > t - 10_000 && l.level === 30), 'a and c took the quiet path');

  const docker = gate.docker('h1');
  const [victim] = await docker.listContainers({ all: true, filters: JSON.stringify({ label: ['berth.stack=idle-c'] }) });
  await docker.getContainer(victim.Id).remove({ force: true });
  await waitFor(async () => (await docker.listContainers({ filters: JSON.stringify({ label: ['berth.stack=idle-c'], status: ['running'] }) })).length === 1, { timeoutMs: 30_000, what: 'idle-c healed' });
  t = await pass(Date.now(), 'the pass after the heal');
  t = await pass(t, 'a quiet pass');
  const r2 = await renders();
  assert.ok(r2 - r1 >= 1 && r2 - r1 <= 2, `only idle-c rendered for its drift: ${r2 - r1}`);
  const r3 = await renders();
  await pass(t, 'an idle pass');
  assert.equal(await renders(), r3);
});
