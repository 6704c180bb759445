// An offline Swarm: no registry, so a service runs only on nodes whose own engine holds its image. A vendor makes
// a signed bundle on test host h1 of an image no Swarm node has; `berth bundle load --swarm` loads it into every
// node's engine (managers: and nodes: of berth.yml) — refusing, before loading anything, when a ready node is out
// of reach — and a global service then runs on all three nodes from it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerGate } from '../harness/env.ts';
import { ensureImages, webImage } from '../harness/images.ts';
import { swarmGate, testSwarm } from '../harness/swarm.ts';
import { runBerth, writeCatalog } from './converge-fixtures.ts';
import { cleanup, git, keyPair, tempDir } from './bundle-fixtures.ts';
import { SwarmWorld } from './swarm-fixtures.ts';

const gate = await dockerGate();
const found = await testSwarm();
const opts = gate.opts.skip ? gate.opts : swarmGate(found);
// An image only this test makes: its content names it, so no other test's image has its ID.
const IMAGE = webImage('bundled-swarm');
const STACK = 'bt-swbundle';
const work = tempDir('swarm');
const envDir = path.join(work, 'env');
const catalogDir = path.join(work, 'catalog');
let keys: { priv: string; pub: string };
let world: SwarmWorld | undefined;

async function dropImageFromNodes(): Promise<void> {
  for (const n of found.swarm!.nodes) await n.docker.getImage(IMAGE.tag).remove({ force: true }).catch(() => undefined);
}

function writeEnv(nodes: string[]): void {
  const s = found.swarm!;
  writeFileSync(path.join(envDir, 'berth.yml'), [
    'catalogs:', '  - name: vendor', `    path: ${catalogDir}`, 'hosts: []', 'swarms:', '  - name: site',
    `    managers: [${s.manager}]`, ...(nodes.length ? [`    nodes: [${nodes.join(', ')}]`] : []), '',
  ].join('\n'));
}

before(async () => {
  if (opts.skip) return;
  world = new SwarmWorld(found.swarm!);
  await world.remove(STACK);
  await ensureImages(gate.docker('h1'), [IMAGE]);
  await dropImageFromNodes();
  writeCatalog(catalogDir, {
    site: {
      description: 'one web task on every node',
      versions: {
        '1.0.0': {
          questions: [],
          compose: `services:\n  web:\n    image: ${IMAGE.tag}\n    init: true\n    stop_grace_period: 1s\n    deploy:\n      mode: global\n      endpoint_mode: dnsrr\n`,
        },
      },
    },
  });
  await git(['init', '-q', '-b', 'main'], catalogDir);
  await git(['add', '-A'], catalogDir);
  await git(['commit', '-q', '-m', 'site 1.0.0'], catalogDir);
  keys = keyPair(work, 'vendor');
  mkdirSync(path.join(envDir, 'stacks'), { recursive: true });
  writeFileSync(path.join(envDir, `stacks/${STACK}.yml`), 'template: site\nversion: 1.0.0\nswarm: site\n');
});

after(async () => {
  if (!opts.skip) {
    await world?.remove(STACK);
    await dropImageFromNodes();
  }
  world?.cleanup();
  cleanup(work);
});

test('bundle load --swarm loads every node, refusing first when a ready node is out of reach; a global service then runs everywhere', opts, async () => {
  const s = found.swarm!;
  const file = path.join(work, 'release.berth');
  const made = await runBerth(['bundle', 'create', '-o', file, '--catalog', `vendor=${catalogDir}`, '--sign', keys.priv, '--docker-host', gate.host('h1').dockerHost], { timeoutMs: 240_000 });
  assert.equal(made.code, 0, made.stderr);

  // Only the manager known: the workers cannot be reached, so nothing is loaded anywhere.
  writeEnv([]);
  const refused = await runBerth(['bundle', 'load', file, '--env', envDir, '--key', keys.pub, '--swarm', 'site']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, /swarm site: no endpoint in berth\.yml reaches nodes bsw2, bsw3; nothing was loaded/);
  assert.match(refused.stderr, /hint: List every node's engine under nodes: of swarm site/);
  for (const n of s.nodes) assert.equal(await n.docker.getImage(IMAGE.tag).inspect().then(() => true, () => false), false, `${n.name} got nothing`);

  writeEnv(s.nodes.filter((n) => n.role === 'worker').map((n) => n.dockerHost));
  const loaded = await runBerth(['bundle', 'load', file, '--env', envDir, '--key', keys.pub, '--swarm', 'site'], { timeoutMs: 240_000 });
  assert.equal(loaded.code, 0, loaded.stderr);
  for (const name of ['bsw1', 'bsw2', 'bsw3']) assert.match(loaded.stdout, new RegExp(`^swarm site node ${name}: loaded .*${IMAGE.tag}`, 'm'));
  const source = (await gate.docker('h1').getImage(IMAGE.tag).inspect()).Id;
  for (const n of s.nodes) assert.equal((await n.docker.getImage(IMAGE.tag).inspect()).Id, source, `${n.name} holds the very image`);

  // A second load changes nothing.
  const again = await runBerth(['bundle', 'load', file, '--env', envDir, '--key', keys.pub, '--swarm', 'site'], { timeoutMs: 240_000 });
  assert.equal(again.code, 0, again.stderr);
  for (const name of ['bsw1', 'bsw2', 'bsw3']) assert.match(again.stdout, new RegExp(`^swarm site node ${name}: has every image$`, 'm'));

  await git(['init', '-q', '-b', 'main'], envDir);
  await git(['add', '-A'], envDir);
  await git(['commit', '-q', '-m', 'site'], envDir);
  const applied = await runBerth(['apply', '--env', envDir], { timeoutMs: 240_000 });
  assert.equal(applied.code, 0, `${applied.stdout}\n${applied.stderr}`);
  const manager = s.nodes[0].docker;
  let nodes: string[] = [];
  for (let i = 0; i < 60 && nodes.length < 3; i++) {
    const [svc] = await manager.listServices({ filters: JSON.stringify({ name: [`${STACK}_web`] }) });
    const tasks = await manager.listTasks({ filters: JSON.stringify({ service: [svc.ID], 'desired-state': ['running'] }) });
    const byId = new Map((await manager.listNodes()).map((n) => [n.ID, n.Description?.Hostname]));
    nodes = tasks.filter((t) => t.Status?.State === 'running').map((t) => byId.get(t.NodeID!) ?? '').sort();
    if (nodes.length < 3) await sleep(500);
  }
  assert.deepEqual(nodes, ['bsw1', 'bsw2', 'bsw3']);
});
