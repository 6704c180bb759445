// A stack on the real three-node test Swarm (test/harness/swarm.sh), through deployStack as serve and
// `berth apply` run it: services named as `docker stack deploy` names them, placement by node labels, discovery by
// name across nodes over the overlay, status per service and task, and a reconcile with nothing changed that
// calls no update (every service's version index stays).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { swarmGate, testSwarm } from '../harness/swarm.ts';
import { useSwarmWorld } from './swarm-fixtures.ts';

const found = await testSwarm();
const STACK = 'bt-swdeploy';
const worldOf = useSwarmWorld(found, STACK);

const ok = (o: { outcome: string; error?: Error; result?: unknown; events: string[] }) => `${o.outcome}: ${o.error?.message ?? JSON.stringify(o.result)}\n${o.events.join('\n')}`;

test('a stack deploys to the Swarm: named as docker stack deploy, placed by node labels, reachable by name across nodes', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const world = worldOf();
  world.writeStack(STACK, { replicas: 2 });
  const planned = await world.deploy(STACK, 'plan', true);
  assert.equal(planned.outcome, 'planned', ok(planned));
  const text = formatPlan(planned.plan!);
  assert.match(text, /\+ network +bt-swdeploy_back +not found/);
  assert.match(text, /\+ service +web +not found/);
  assert.match(text, /\+ service +probe +not found/);

  const first = await world.deploy(STACK);
  assert.equal(first.outcome, 'converged', ok(first));
  assert.ok(first.ledgerCommit, 'the deploy is recorded in the ledger');
  const services = await world.manager().listServices({ filters: JSON.stringify({ label: [`com.docker.stack.namespace=${STACK}`] }) });
  assert.deepEqual(services.map((s) => s.Spec!.Name).sort(), ['bt-swdeploy_probe', 'bt-swdeploy_web']);

  const engine = await world.engine();
  const status = engine.status(first.desired!, await engine.observe(STACK));
  assert.equal(status.converged, true, JSON.stringify(status, null, 2));
  const web = status.hosts[0].services.find((s) => s.service === 'web')!;
  assert.equal(web.running, 2);
  const nodes = web.tasks!.filter((t) => t.state === 'running').map((t) => t.node).sort();
  assert.ok(nodes.every((n) => n !== 'bsw1'), `web avoids bsw1 by its constraint: ${nodes}`);
  const probe = status.hosts[0].services.find((s) => s.service === 'probe')!;
  assert.deepEqual(probe.tasks!.filter((t) => t.state === 'running').map((t) => t.node), ['bsw1']);

  // probe (on bsw1) reaches web (on bsw2/bsw3) by its service name over the overlay network.
  const answer = await world.exec('bsw1', `${STACK}_probe`, ['sh', '-c', 'timeout 5 wget -q -O- http://web/']);
  assert.equal(answer, '1');
});

test('a reconcile with nothing changed calls no update: every version index stays', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const world = worldOf();
  const before = await world.versions(STACK);
  assert.equal(Object.keys(before).length, 2);
  const again = await world.deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged', ok(again));
  assert.ok(again.plan!.hosts[0].operations.every((op) => op.kind === 'keep-service'), formatPlan(again.plan!, { verbose: true }));
  assert.equal(again.ledgerCommit, null, 'an unchanged state makes no ledger commit');
  assert.deepEqual(await world.versions(STACK), before);
});
