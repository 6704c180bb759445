// Acceptance tests of converging, the whole path: a catalog and an environment on disk, rendered, placed,
// planned and applied to the three harness hosts by reconcileStack (and by `berth plan|apply|status`), with
// every assertion made on what the engines really run. Updates, dependencies and unreachable hosts are in
// converge-update.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { dockerGate } from '../harness/env.ts';
import { failures, layout, useHarnessStacks, World } from './converge-fixtures.ts';

const gate = await dockerGate();
const STACKS = ['cv-place', 'cv-idem', 'cv-recreate', 'cv-scale', 'cv-orphan', 'cv-netkeep', 'cv-unplaced', 'cv-cli', 'cv-compose'];
let world: World | undefined;
/** Made on first use, so without hosts it throws inside a test: a failure in CI, never a crash at load. */
const w = () => (world ??= new World(gate));

useHarnessStacks(gate, STACKS, () => world?.dispose());

async function converge(stack: string): Promise<Awaited<ReturnType<World['reconcile']>>> {
  const o = await w().reconcile(stack);
  assert.equal(o.outcome, 'converged', failures(o));
  return o;
}

test('placement: == and != constraints, global mode, and replicas spread round-robin over matching hosts', gate.opts, async () => {
  w().writeStack('cv-place', { template: 'placed', version: '1.0.0', answers: { web_replicas: 3 } });
  await converge('cv-place');
  const rs = await w().replicas('cv-place');
  assert.ok(rs.every((r) => r.state === 'running'), rs.map((r) => `${r.name}@${r.host} ${r.state}`).join(', '));
  // node.labels.role == db: only h3.
  assert.deepEqual(layout(rs, 'db'), { h3: ['db#1'] });
  // replicas: 3 over the two web hosts: 1 and 3 on h1, 2 on h2.
  assert.deepEqual(layout(rs, 'web'), { h1: ['web#1', 'web#3'], h2: ['web#2'] });
  assert.deepEqual(rs.filter((r) => r.service === 'web').map((r) => `${r.host}/${r.name}`).sort(), ['h1/cv-place-web-1', 'h1/cv-place-web-3', 'h2/cv-place-web-2']);
  // deploy.mode: global without constraints: exactly one on every host.
  assert.deepEqual(layout(rs, 'agent'), { h1: ['agent#1'], h2: ['agent#2'], h3: ['agent#3'] });
  // global with node.labels.role != db: one on each web host, none on h3.
  assert.deepEqual(layout(rs, 'edge'), { h1: ['edge#1'], h2: ['edge#2'] });
  // node.hostname != h1, two replicas: spread over h2 and h3.
  assert.deepEqual(layout(rs, 'batch'), { h2: ['batch#1'], h3: ['batch#2'] });
  assert.equal(rs.length, 1 + 3 + 3 + 2 + 2);
});

test('idempotence: a second reconcile with nothing changed is "unchanged" and touches no container', gate.opts, async () => {
  w().writeStack('cv-idem', { template: 'app', version: '1.0.0', answers: { web_replicas: 2, worker_replicas: 2 } });
  await converge('cv-idem');
  const before = await w().snapshot('cv-idem');
  assert.deepEqual(Object.keys(before).sort(), ['cache#1@h3', 'web#1@h1', 'web#2@h2', 'worker#1@h1', 'worker#2@h2']);

  const again = await w().reconcile('cv-idem');
  assert.equal(again.outcome, 'unchanged', failures(again));
  assert.ok(again.plan!.hosts.every((h) => !h.error && h.operations.every((op) => op.kind === 'keep')), formatPlan(again.plan!, { verbose: true }));
  assert.equal(again.plan!.hosts.flatMap((h) => h.operations).length, 5);
  assert.deepEqual(again.events, [], 'nothing was executed');
  assert.deepEqual(await w().snapshot('cv-idem'), before, 'same container IDs and StartedAt');
});

test('a changed answer recreates only the containers of the service it changes, and the plan names the field', gate.opts, async () => {
  w().writeStack('cv-recreate', { template: 'app', version: '1.0.0', answers: { web_replicas: 2, worker_replicas: 2, worker_mode: 'fast' } });
  await converge('cv-recreate');
  const before = await w().snapshot('cv-recreate');

  w().writeStack('cv-recreate', { template: 'app', version: '1.0.0', answers: { web_replicas: 2, worker_replicas: 2, worker_mode: 'slow' } });
  const plan = await w().cli(['plan', 'cv-recreate']);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /~ recreate worker #1\s+config changed: environment\.MODE/);
  assert.match(plan.stdout, /~ recreate worker #2\s+config changed: environment\.MODE/);
  assert.match(plan.stdout, /environment\.MODE: fast → slow/);
  assert.doesNotMatch(plan.stdout, /web #|cache #/, 'web and cache are not in the plan (keeps are hidden)');
  assert.match(plan.stdout, /Plan: 0 to create, 2 to recreate, 0 to start, 0 to remove, 3 unchanged\./);
  assert.deepEqual(await w().snapshot('cv-recreate'), before, 'plan changes nothing');

  const o = await converge('cv-recreate');
  assert.deepEqual(o.result!.hosts, { h1: { outcome: 'converged', operations: 1 }, h2: { outcome: 'converged', operations: 1 }, h3: { outcome: 'unchanged', operations: 0 } });
  const after = await w().snapshot('cv-recreate');
  assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort());
  for (const k of Object.keys(before)) {
    if (k.startsWith('worker#')) assert.notEqual(after[k].split(' ')[0], before[k].split(' ')[0], `${k} has a new container`);
    else assert.equal(after[k], before[k], `${k} untouched`);
  }
  for (const r of (await w().replicas('cv-recreate')).filter((x) => x.service === 'worker')) {
    assert.equal(r.state, 'running');
    assert.ok(r.info.Config.Env.includes('MODE=slow'), `${r.name}: ${r.info.Config.Env.join(' ')}`);
  }
});

test('scale up adds only the next numbers; scale down removes the highest numbers and keeps the others', gate.opts, async () => {
  const write = (n: number) => w().writeStack('cv-scale', { template: 'app', version: '1.0.0', answers: { web_replicas: n, worker_replicas: 0, with_cache: false } });
  const ids = async () => Object.fromEntries((await w().replicas('cv-scale')).map((r) => [`${r.service}#${r.number}@${r.host}`, r.id]));

  write(2);
  await converge('cv-scale');
  const two = await ids();
  assert.deepEqual(Object.keys(two).sort(), ['web#1@h1', 'web#2@h2']);

  write(4);
  await converge('cv-scale');
  const four = await ids();
  assert.deepEqual(Object.keys(four).sort(), ['web#1@h1', 'web#2@h2', 'web#3@h1', 'web#4@h2']);
  for (const k of Object.keys(two)) assert.equal(four[k], two[k], `${k} kept its container`);

  write(1);
  const planned = await w().reconcile('cv-scale', { dryRun: true });
  const removes = planned.plan!.hosts.flatMap((h) => h.operations).filter((op) => op.kind === 'remove');
  assert.deepEqual(removes.map((op) => `${op.host} ${'number' in op ? op.number : ''} ${op.cause}`).sort(), ['h1 3 scale 4 → 1', 'h2 2 scale 4 → 1', 'h2 4 scale 4 → 1']);
  await converge('cv-scale');
  assert.deepEqual(await ids(), { 'web#1@h1': two['web#1@h1'] });
  const [left] = await w().replicas('cv-scale');
  assert.equal(left.state, 'running');
});

test('a service removed from the template: its containers and its unused network go, its volume stays', gate.opts, async () => {
  const volume = 'cv-orphan_cache_data';
  const network = 'cv-orphan_backend';
  w().writeStack('cv-orphan', { template: 'app', version: '1.0.0', answers: { web_replicas: 1, worker_replicas: 1, with_cache: true } });
  await converge('cv-orphan');
  const h3 = gate.docker('h3');
  const before = await w().snapshot('cv-orphan');
  assert.deepEqual(Object.keys(before).sort(), ['cache#1@h3', 'web#1@h1', 'worker#1@h1']);
  assert.equal((await h3.getNetwork(network).inspect()).Labels?.['berth.stack'], 'cv-orphan');
  assert.equal((await h3.getVolume(volume).inspect()).Labels['berth.stack'], 'cv-orphan');

  w().writeStack('cv-orphan', { template: 'app', version: '1.0.0', answers: { web_replicas: 1, worker_replicas: 1, with_cache: false } });
  const o = await converge('cv-orphan');
  const h3ops = o.plan!.hosts.find((h) => h.host === 'h3')!.operations;
  assert.deepEqual(h3ops.map((op) => `${op.kind}: ${op.cause}`), ['remove: orphan: service cache is no longer in the stack', 'remove-network: no longer used']);

  const after = await w().snapshot('cv-orphan');
  assert.deepEqual(after, { 'web#1@h1': before['web#1@h1'], 'worker#1@h1': before['worker#1@h1'] }, 'cache gone, the rest untouched');
  await assert.rejects(h3.getNetwork(network).inspect(), (e: { statusCode?: number }) => e.statusCode === 404, 'the network no service uses is removed');
  assert.equal((await h3.getVolume(volume).inspect()).Name, volume, 'the volume stays: it holds data');
  // And the next plan has nothing to do (a kept volume is not an orphan to remove again).
  assert.equal((await w().reconcile('cv-orphan')).outcome, 'unchanged');
});

test('a service no selected host can take: plan shows it as a plan error beside the rest; apply deploys nothing', gate.opts, async () => {
  // The stack selects the web hosts, and its cache must run on a db host.
  w().writeStack('cv-unplaced', { template: 'app', version: '1.0.0', answers: { web_replicas: 1, worker_replicas: 0, with_cache: true }, hosts: { role: 'web' } });
  const planned = await w().cli(['plan', 'cv-unplaced']);
  assert.equal(planned.code, 1, planned.stdout + planned.stderr);
  assert.match(planned.stdout, /error: service "cache": no host satisfies node\.labels\.role == db \(hosts: h1 \{role=web\}, h2 \{role=web\}\)/);
  assert.match(planned.stdout, /create +web #1/, 'what the placeable services would do is shown too');
  assert.match(planned.stdout, /Not applied while the plan has an error: the stack runs whole or not at all\./);
  assert.match(planned.stderr, /hint: Change the constraints \(answers\), the hosts: selector/);
  const json = JSON.parse((await w().cli(['plan', 'cv-unplaced', '--json'])).stdout) as Array<{ errors: string[] }>;
  assert.equal(json[0]!.errors.length, 1);

  const applied = await w().cli(['apply', 'cv-unplaced']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /stack cv-unplaced: error: Stack cv-unplaced cannot be placed on its hosts/);
  assert.deepEqual(await w().replicas('cv-unplaced'), [], 'nothing deployed: the stack runs whole or not at all');
});

test('a network a container outside the stack is attached to: plan and apply keep it and say so; once it is free, it goes', gate.opts, async () => {
  const network = 'cv-netkeep_backend';
  const h3 = gate.docker('h3');
  w().writeStack('cv-netkeep', { template: 'app', version: '1.0.0', answers: { web_replicas: 1, worker_replicas: 0, with_cache: true } });
  await converge('cv-netkeep');
  // A person's debugging container on the stack's network: not Berth's, so not the stack's.
  await h3.getContainer('cv-netkeep-toolbox').remove({ force: true }).catch(() => undefined);
  const toolbox = await h3.createContainer({ name: 'cv-netkeep-toolbox', Image: 'berth-test/busybox:1', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: network } });
  try {
    await toolbox.start();
    w().writeStack('cv-netkeep', { template: 'app', version: '1.0.0', answers: { web_replicas: 1, worker_replicas: 0, with_cache: false } });
    const planned = await w().cli(['plan', 'cv-netkeep']);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    assert.match(planned.stdout, /note: network cv-netkeep_backend kept: no longer used, but cv-netkeep-toolbox outside the stack is attached to it/);
    assert.doesNotMatch(planned.stdout, /remove-network|remove network/);
    const o = await converge('cv-netkeep');
    const h3plan = o.plan!.hosts.find((h) => h.host === 'h3')!;
    assert.deepEqual(h3plan.operations.map((op) => `${op.kind}: ${op.cause}`), ['remove: orphan: service cache is no longer in the stack']);
    assert.equal((await h3.getNetwork(network).inspect()).Name, network, 'kept: the toolbox still uses it');
    assert.equal((await toolbox.inspect()).State.Running, true, 'the toolbox is not touched');
    assert.equal((await w().reconcile('cv-netkeep')).outcome, 'unchanged', 'a kept network is not work to redo on every reconcile');
  } finally {
    await toolbox.remove({ force: true });
  }
  const freed = await converge('cv-netkeep');
  assert.deepEqual(freed.plan!.hosts.find((h) => h.host === 'h3')!.operations.map((op) => `${op.kind}: ${op.cause}`), ['remove-network: no longer used']);
  await assert.rejects(h3.getNetwork(network).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('berth plan --json, apply and status as commands: operations with causes, then converged', gate.opts, async () => {
  w().writeStack('cv-cli', { template: 'app', version: '1.0.0', answers: { web_replicas: 2, worker_replicas: 1, with_cache: true } });

  const planned = await w().cli(['plan', 'cv-cli', '--json']);
  assert.equal(planned.code, 0, planned.stderr);
  const plans = JSON.parse(planned.stdout) as { stack: string; source: string; errors: string[]; hosts: { host: string; error?: string; operations: Record<string, unknown>[] }[]; summary: Record<string, number> }[];
  assert.equal(plans.length, 1);
  const [plan] = plans;
  assert.equal(plan.stack, 'cv-cli');
  assert.equal(plan.source, 'app@1.0.0');
  assert.deepEqual(plan.errors, []);
  const ops = Object.fromEntries(plan.hosts.map((h) => [h.host, h.operations.map((op) => `${op.kind} ${op.service ?? op.network ?? op.volume}${op.number ? `#${op.number}` : ''}: ${op.cause}`)]));
  assert.deepEqual(ops, {
    h1: ['create-network cv-cli_default: not found', 'create web#1: not found', 'create worker#1: not found'],
    h2: ['create-network cv-cli_default: not found', 'create web#2: not found'],
    h3: ['create-network cv-cli_backend: not found', 'create-volume cv-cli_cache_data: not found', 'create cache#1: not found'],
  });
  assert.deepEqual(plan.summary, {
    'create-network': 3, 'create-volume': 1, create: 4, recreate: 0, start: 0, remove: 0, 'remove-network': 0, keep: 0, finish: 0, restore: 0,
    // The summary has one schema for every engine: a Swarm's kinds are counted (as none) on standalone hosts too.
    'create-service': 0, 'update-service': 0, 'remove-service': 0, 'keep-service': 0, 'create-object': 0, 'remove-object': 0,
  });
  assert.deepEqual(await w().replicas('cv-cli'), [], 'plan changed nothing');

  const applied = await w().cli(['apply', 'cv-cli']);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
  assert.match(applied.stdout, /^stack cv-cli \(app@1\.0\.0\): converged in [\d.]+s$/m);
  assert.match(applied.stdout, /host h1: converged\n\s+host h2: converged\n\s+host h3: converged/);
  assert.equal((await w().replicas('cv-cli')).filter((r) => r.state === 'running').length, 4);

  const status = await w().cli(['status', 'cv-cli']);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /stack cv-cli \(app@1\.0\.0\): converged/);
  assert.match(status.stdout, /host h1\n\s+web\s+1\/1 running\n\s+worker\s+1\/1 running/);
  assert.match(status.stdout, /host h3\n\s+cache\s+1\/1 running/);

  const again = await w().cli(['plan', 'cv-cli', '--json']);
  const [noop] = JSON.parse(again.stdout) as typeof plans;
  assert.equal(noop.summary.keep, 4);
  assert.ok(noop.hosts.flatMap((h) => h.operations).every((op) => op.kind === 'keep' && op.cause === 'up to date' && typeof op.containerId === 'string'));
});

test('containers carry docker compose labels, so `docker compose -p STACK ps` sees the stack', gate.opts, async () => {
  w().writeStack('cv-compose', { template: 'app', version: '1.0.0', answers: { web_replicas: 1, worker_replicas: 1, with_cache: false } });
  await converge('cv-compose');
  const h1 = gate.docker('h1');
  // What compose v2 filters `ps` by: the project label and oneoff=False.
  const listed = await h1.listContainers({ filters: JSON.stringify({ label: ['com.docker.compose.project=cv-compose', 'com.docker.compose.oneoff=False'] }) });
  assert.deepEqual(listed.map((c) => c.Names[0]).sort(), ['/cv-compose-web-1', '/cv-compose-worker-1']);
  for (const c of listed) {
    const service = c.Labels['berth.service'];
    assert.equal(c.Labels['com.docker.compose.service'], service);
    assert.equal(c.Labels['com.docker.compose.container-number'], '1');
    assert.equal(c.Labels['com.docker.compose.config-hash'], c.Labels['berth.config-hash']);
    assert.equal(c.Names[0], `/cv-compose-${service}-1`);
  }
  const [net] = await h1.listNetworks({ filters: JSON.stringify({ label: ['com.docker.compose.project=cv-compose'] }) });
  assert.equal(net.Name, 'cv-compose_default');
  assert.equal(net.Labels?.['com.docker.compose.network'], 'default');
});
