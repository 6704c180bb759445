// An observation round on the real test Swarm (#16): in a pass over many stacks, the manager is listed once and
// every stack's share is cut from that listing, the same as reading the stack alone; looking for removed stacks
// costs no call; a stack that changed after the listing (Berth applied it, an event said so) is read alone again.
// Calls are counted on the wire by a socket proxy in front of the manager.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SwarmEngine } from '../../engines/swarm/engine.ts';
import type { SwarmObserved } from '../../engines/swarm/types.ts';
import { proxySocket, type SocketProxy } from '../harness/socket-proxy.ts';
import { swarmGate, testSwarm } from '../harness/swarm.ts';
import { useSwarmWorld } from './swarm-fixtures.ts';

const found = await testSwarm();
const A = 'bt-swround-a';
const B = 'bt-swround-b';
const IMAGES = ['berth-test/web:1'];
const world = useSwarmWorld(found, A, () => void world().remove(B));
let proxy: SocketProxy | undefined;

before(async () => {
  if (!found.swarm) return;
  await world().remove(B);
  proxy = await proxySocket(found.swarm.manager.replace(/^unix:\/\//, ''));
});
after(async () => {
  await proxy?.close();
});

/** What a plan and a status read of an observation; task timestamps and versions move while Swarm works. */
function settled(o: SwarmObserved) {
  return {
    reachable: o.reachable, images: o.images, networks: o.networks.map((n) => n.name), configs: o.configs.map((c) => c.name), secrets: o.secrets.map((s) => s.name),
    services: o.services.map((s) => ({ name: s.name, version: s.version, hash: s.hash, owner: s.owner, replicas: s.replicas })),
    tasks: o.tasks.filter((t) => t.desiredState === 'running').map((t) => `${t.service}.${t.slot} ${t.state} on ${t.node}`).sort(),
    nodes: o.nodes.map((n) => n.hostname),
  };
}

test('a pass lists the Swarm once for all its stacks, cut the same as each stack read alone', swarmGate(found), async () => {
  if (!found.swarm || !proxy) throw new Error(found.reason);
  const w = world();
  for (const stack of [A, B]) {
    w.writeStack(stack, { replicas: 1 });
    const o = await w.deploy(stack);
    assert.equal(o.outcome, 'converged', `${stack}: ${o.error?.message ?? ''}\n${o.events.join('\n')}`);
  }
  const engine = new SwarmEngine({ name: 'test', managers: [`unix://${proxy.path}`] });
  const alone: Record<string, SwarmObserved> = { [A]: await engine.observe(A, IMAGES), [B]: await engine.observe(B, IMAGES) };
  assert.equal(alone[A].services.length, 2);

  const lists = () => ({ services: proxy!.count('/services', 'GET'), tasks: proxy!.count('/tasks', 'GET'), networks: proxy!.count('/networks', 'GET'), images: proxy!.count('/images/', 'GET') });
  const at = lists();
  engine.newRound();
  const shared: Record<string, SwarmObserved> = { [A]: await engine.observe(A, IMAGES, { shared: true }), [B]: await engine.observe(B, IMAGES, { shared: true }) };
  const owner = alone[A].services[0]!.owner!;
  assert.deepEqual(await engine.listStacks(owner).then((l) => l.filter((s) => s === A || s === B)), [A, B]);
  const used = lists();
  assert.deepEqual({ services: used.services - at.services, tasks: used.tasks - at.tasks, networks: used.networks - at.networks, images: used.images - at.images },
    { services: 1, tasks: 1, networks: 1, images: 1 }, 'one listing and one image lookup for both stacks and the removed-stacks look-up');
  for (const stack of [A, B]) assert.deepEqual(settled(shared[stack]!), settled(alone[stack]!), stack);

  // A stack that changed after the listing is read alone; the others still come from the round.
  engine.invalidate(A);
  const before = lists();
  const again = await engine.observe(A, IMAGES, { shared: true });
  await engine.observe(B, IMAGES, { shared: true });
  assert.equal(lists().services - before.services, 1, 'A read alone, B from the round');
  assert.deepEqual(settled(again), settled(alone[A]!));
});
