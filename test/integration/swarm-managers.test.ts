// A manager lost: with three managers listed in berth.yml (bsw2 and bsw3 promoted for this test), the leader's
// dockerd is SIGKILLed; once Swarm has elected another leader, the next reconcile is answered by the next
// manager in the list and deploys a change; status shows the lost manager down. The cluster is put back as the
// harness made it (bsw1 the only manager) whatever happens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { swarmGate, testSwarm, type TestSwarm } from '../harness/swarm.ts';
import { writeCatalog } from './converge-fixtures.ts';
import { SwarmWorld, useSwarmWorld } from './swarm-fixtures.ts';

const found = await testSwarm();
const STACK = 'bt-swmgr';
const world = useSwarmWorld(found, STACK, () => restore(found.swarm), (swarm) => new SwarmWorld(swarm, { template: 'one', version: '1.0.0' }));

const ONE = `services:
  web:
    image: berth-test/web:{{version}}
    init: true
    stop_grace_period: 1s
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      update_config:
        parallelism: 2
        delay: 0s
        monitor: 1s
`;

const dk = (swarm: TestSwarm, node: number, ...args: string[]) =>
  execFileSync('docker', ['-H', swarm.nodes[node - 1]!.dockerHost, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** bsw1 up and the only manager again, as every other Swarm test expects. */
function restore(swarm: TestSwarm | undefined): void {
  if (!swarm) return;
  swarm.run('start-node', '1');
  for (let i = 0; i < 60; i++) {
    try {
      const roles = dk(swarm, 1, 'node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}} {{.Status}}');
      if (/bsw1 (Leader|Reachable) Ready/.test(roles)) break;
    } catch { /* not answering yet */ }
    execFileSync('sleep', ['1']);
  }
  for (const n of ['bsw2', 'bsw3']) {
    try {
      dk(swarm, 1, 'node', 'demote', n);
    } catch { /* already a worker */ }
  }
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const v = await fn().catch((e: Error) => void (last = e.message));
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last error: ${String(last)}`);
    await sleep(500);
  }
}

test('a manager lost: the next manager listed answers, a change deploys, status shows the lost one down', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const swarm = found.swarm;
  const w = world();
  writeCatalog(path.join(w.tmp.path, 'catalog'), { one: { description: 'one web service', versions: { '1.0.0': { questions: [{ variable: 'version', type: 'string', default: '1' }], compose: ONE } } } });
  const managers = swarm.nodes.map((n) => n.dockerHost);
  writeFileSync(path.join(w.envDir, 'berth.yml'), stringify({ catalogs: [{ name: 'test', path: '../catalog' }], hosts: [], swarms: [{ name: 'test', managers }] }));
  dk(swarm, 1, 'node', 'promote', 'bsw2', 'bsw3');
  await until('three managers', async () => (dk(swarm, 1, 'node', 'ls', '--filter', 'role=manager', '-q').trim().split('\n').length === 3 ? true : undefined));

  w.writeStack(STACK, { version: '1' });
  const first = await w.deploy(STACK, 'push');
  assert.equal(first.outcome, 'converged', `${first.error?.message}\n${first.plan ? formatPlan(first.plan) : ''}`);

  swarm.run('kill-node', '1');
  // Another leader, elected by the two managers left (a quorum of three).
  await until('a new leader', async () => (/Leader/.test(dk(swarm, 2, 'node', 'ls', '--format', '{{.ManagerStatus}}')) ? true : undefined));
  w.writeStack(STACK, { version: '2' });
  const o = await until('a reconcile through the next manager', async () => {
    const r = await w.deploy(STACK, 'push');
    return r.outcome === 'converged' ? r : (r.error && /no manager answers|rpc error|not a swarm manager/i.test(r.error.message) ? undefined : r);
  });
  assert.equal(o.outcome, 'converged', `${o.error?.message}\n${o.plan ? formatPlan(o.plan, { verbose: true }) : ''}\n${o.events.join('\n')}`);
  assert.match(o.plan!.hosts[0].operations.map((op) => op.cause).join('\n'), /image/, 'the change was planned and applied');

  const ps = dk(swarm, 2, 'service', 'ps', `${STACK}_web`, '--filter', 'desired-state=running', '--format', '{{json .}}');
  const tasks = ps.trim().split('\n').map((l) => JSON.parse(l) as { Image: string; CurrentState: string; Node: string });
  assert.equal(tasks.length, 2, JSON.stringify(tasks));
  assert.ok(tasks.every((t) => t.Image.startsWith('berth-test/web:2') && t.Node !== 'bsw1'), JSON.stringify(tasks));

  const engine = await w.engine();
  const status = await engine.status(o.desired!, await engine.observe(STACK));
  assert.equal(status.hosts[0].nodes!.find((n) => n.name === 'bsw1')?.state, 'down', JSON.stringify(status.hosts[0].nodes));
  assert.equal(status.converged, true, JSON.stringify(status));
});
