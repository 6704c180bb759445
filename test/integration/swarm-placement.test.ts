// Swarm placement beyond constraints, on the real three-node test Swarm through deployStack as serve and
// `berth apply` run it: max_replicas_per_node puts 3 replicas one per node; a change of the limit or of a spread
// preference is a plan update naming the field, and a reconcile after it moves no version index; a spread
// preference over a node label (two nodes in zone a, one in zone b) puts half of the replicas on the lone node;
// and a replica no node can take (4 replicas, at most 1 per node, 3 nodes) fails the apply with Swarm's reason
// instead of waiting out its deadline, while status shows the waiting task and why. dnsrr: no IPVS here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { swarmGate, testSwarm, type TestSwarm } from '../harness/swarm.ts';
import { writeCatalog } from './converge-fixtures.ts';
import { SwarmWorld, useSwarmWorld } from './swarm-fixtures.ts';

const STACK = 'bt-swplace';
const ZONE = 'bt-swplace.zone';
const ZONES: Record<string, string> = { bsw1: 'a', bsw2: 'a', bsw3: 'b' };

const COMPOSE = `services:
  web:
    image: berth-test/web:1
    init: true
    stop_grace_period: 1s
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      placement:
        constraints: [node.labels.${ZONE} != none]
{{#if spread}}
        preferences:
          - spread: node.labels.${ZONE}
{{/if}}
        max_replicas_per_node: {{max}}
      update_config: { parallelism: 3, delay: 0s, monitor: 1s }
{{#if spread}}
  spread:
    image: berth-test/web:1
    init: true
    stop_grace_period: 1s
    deploy:
      replicas: 6
      endpoint_mode: dnsrr
      placement:
        preferences:
          - spread: node.labels.${ZONE}
{{/if}}
{{#if crowd}}
  crowd:
    image: berth-test/web:1
    init: true
    stop_grace_period: 1s
    deploy:
      replicas: 4
      endpoint_mode: dnsrr
      placement:
        max_replicas_per_node: 1
{{/if}}
`;

const QUESTIONS = [
  { variable: 'max', type: 'int', default: 1 },
  { variable: 'spread', type: 'boolean', default: false },
  { variable: 'crowd', type: 'boolean', default: false },
];

const found = await testSwarm();
const world = useSwarmWorld(found, STACK, undefined, (swarm) => {
  const w = new SwarmWorld(swarm, { template: 'place', version: '1.0.0' });
  writeCatalog(path.join(w.tmp.path, 'catalog'), { place: { description: 'placement limits and preferences', versions: { '1.0.0': { questions: QUESTIONS, compose: COMPOSE } } } });
  return w;
});

/** The zone label on each node for this file, and off again after it. */
async function labelNodes(swarm: TestSwarm, on: boolean): Promise<void> {
  for (const [name, zone] of Object.entries(ZONES)) {
    const node = swarm.nodes[0].docker.getNode(name);
    const info = await node.inspect();
    const labels = { ...(info.Spec.Labels ?? {}) };
    if (on) labels[ZONE] = zone;
    else if (labels[ZONE] !== undefined) delete labels[ZONE];
    else continue;
    await node.update({ version: info.Version.Index, ...info.Spec, Labels: labels });
  }
}
before(async () => found.swarm && labelNodes(found.swarm, true));
after(async () => found.swarm && labelNodes(found.swarm, false));

type Outcome = Awaited<ReturnType<SwarmWorld['deploy']>>;
const why = (o: Outcome) => `${o.outcome}: ${o.error?.message ?? JSON.stringify(o.result)}\n${o.plan ? formatPlan(o.plan, { verbose: true }) : ''}\n${o.events.join('\n')}`;

/** Node name → running tasks of `service`. */
async function perNode(service: string): Promise<Record<string, number>> {
  const docker = world().manager();
  const [svc] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_${service}`] }) });
  const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [svc.ID], 'desired-state': ['running'] }) });
  const names = new Map((await docker.listNodes()).map((n) => [n.ID, n.Description!.Hostname!]));
  const out: Record<string, number> = {};
  for (const t of tasks.filter((x) => x.Status?.State === 'running')) out[names.get(t.NodeID!)!] = (out[names.get(t.NodeID!)!] ?? 0) + 1;
  return out;
}

async function placementOf(service: string): Promise<unknown> {
  const [svc] = await world().manager().listServices({ filters: JSON.stringify({ name: [`${STACK}_${service}`] }) });
  return svc.Spec!.TaskTemplate!.Placement;
}

test('max_replicas_per_node: 1 puts 3 replicas one per node, and a reconcile with nothing changed moves nothing', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  world().writeStack(STACK, { max: 1 });
  const first = await world().deploy(STACK, 'push');
  assert.equal(first.outcome, 'converged', why(first));
  assert.deepEqual(await perNode('web'), { bsw1: 1, bsw2: 1, bsw3: 1 });
  assert.equal((await placementOf('web') as { MaxReplicas?: number }).MaxReplicas, 1);

  const before = await world().versions(STACK);
  const again = await world().deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged', why(again));
  assert.deepEqual(await world().versions(STACK), before);
});

test('a new limit and a spread preference are an update naming the fields; spread over a label halves the replicas between zones', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  world().writeStack(STACK, { max: 2, spread: true });
  const planned = await world().deploy(STACK, 'plan', true);
  const text = formatPlan(planned.plan!, { verbose: true });
  const web = planned.plan!.hosts[0].operations.find((op) => 'service' in op && op.service === 'web');
  assert.equal(web?.kind, 'update-service', text);
  assert.match(web!.cause, /^spec changed: TaskTemplate\.Placement\.MaxReplicas, TaskTemplate\.Placement\.Preferences$/, text);
  assert.match(text, /TaskTemplate\.Placement\.MaxReplicas: 1 → 2/, text);
  assert.match(text, /TaskTemplate\.Placement\.Preferences: \(none\) → .*SpreadDescriptor.*bt-swplace\.zone/, text);

  const update = await world().deploy(STACK, 'push');
  assert.equal(update.outcome, 'converged', why(update));
  // Zone b is bsw3 alone: spreading 6 replicas evenly over the zones puts 3 there, where an even spread over
  // nodes would put 2.
  const spread = await perNode('spread');
  assert.equal(spread.bsw3, 3, JSON.stringify(spread));
  assert.equal((spread.bsw1 ?? 0) + (spread.bsw2 ?? 0), 3, JSON.stringify(spread));
  assert.deepEqual(await placementOf('spread'), { Preferences: [{ Spread: { SpreadDescriptor: `node.labels.${ZONE}` } }] });

  const before = await world().versions(STACK);
  const again = await world().deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged', why(again));
  assert.deepEqual(await world().versions(STACK), before);

  // Taking the limit out is a change too, named as such.
  world().writeStack(STACK, { max: 0, spread: true });
  const lifted = await world().deploy(STACK, 'plan', true);
  const op = lifted.plan!.hosts[0].operations.find((o) => 'service' in o && o.service === 'web')!;
  assert.equal(op.kind, 'update-service');
  assert.equal(op.cause, 'spec changed: TaskTemplate.Placement.MaxReplicas', formatPlan(lifted.plan!, { verbose: true }));
});

test('a replica no node can take fails the apply with Swarm\'s reason, and status shows the waiting task', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  world().writeStack(STACK, { max: 1, crowd: true });
  const t0 = Date.now();
  const crowded = await world().deploy(STACK, 'push');
  assert.equal(crowded.outcome, 'failed', why(crowded));
  const error = crowded.result?.hosts.test?.error ?? crowded.error?.message ?? '';
  assert.match(error, /bt-swplace_crowd: Swarm finds no node for 1 of its tasks \(3\/4 running\)/, why(crowded));
  assert.match(error, /tasks Swarm cannot place: no suitable node \(max replicas per node limit exceed/, why(crowded));
  assert.ok(Date.now() - t0 < 120_000, `failed after ${Date.now() - t0}ms, before the 4-minute deadline`);

  const engine = await world().engine();
  const env = await world().deploy(STACK, 'status', true);
  const status = engine.status(env.desired!, await engine.observe(STACK));
  assert.equal(status.converged, false);
  const crowd = status.hosts[0].services.find((s) => s.service === 'crowd')!;
  assert.equal(crowd.desired, 4);
  assert.equal(crowd.running, 3);
  const waiting = crowd.tasks!.filter((t) => t.state === 'pending');
  assert.equal(waiting.length, 1, JSON.stringify(crowd.tasks));
  assert.match(waiting[0].error ?? '', /no suitable node \(max replicas per node limit exceed/);
});
