// A Swarm stack through its life, on the real three-node test Swarm and through deployStack as serve and
// `berth apply` run it: a rolling update, a `git revert` of that deploy on the ledger branch rolling it back, a
// failing health check rolled back by Swarm itself and reported, drift (a service scaled and one removed by hand)
// undone by the next timer reconcile, another environment's stack left alone, and a node lost: Swarm reschedules,
// Berth does not fight it, and its status shows the node down and where the tasks went.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import type { StackStatus } from '../../engines/engine.ts';
import { DEFAULT_LEDGER_BRANCH } from '../../ledger/ledger.ts';
import { swarmGate, testSwarm } from '../harness/swarm.ts';
import { useSwarmWorld, type SwarmWorld } from './swarm-fixtures.ts';

const found = await testSwarm();
const STACK = 'bt-swlife';
// A node a failed test left down comes back for the tests after this one.
const world = useSwarmWorld(found, STACK, () => found.swarm?.run('start-node', '3'));

type Outcome = Awaited<ReturnType<SwarmWorld['deploy']>>;
const why = (o: Outcome) => `${o.outcome}: ${o.error?.message ?? JSON.stringify(o.result)}\n${o.plan ? formatPlan(o.plan, { verbose: true }) : ''}\n${o.events.join('\n')}`;

function converged(o: Outcome): void {
  assert.equal(o.outcome, 'converged', why(o));
}

async function status(): Promise<StackStatus> {
  const engine = await world().engine();
  const env = await world().deploy(STACK, 'status', true);
  return engine.status(env.desired!, await engine.observe(STACK));
}

/**
 * What the running tasks of a service run, as test image names: a rollback from the ledger deploys the image
 * pinned by ID (no registry, no digest), a deploy from Git the reference; both name one image on the manager.
 */
async function runningImages(service: string): Promise<string[]> {
  const docker = world().manager();
  const [svc] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_${service}`] }) });
  const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [svc.ID], 'desired-state': ['running'] }) });
  const names = new Map<string, string>();
  for (const tag of ['berth-test/web:1', 'berth-test/web:2']) names.set((await docker.getImage(tag).inspect()).Id, tag);
  const named = async (ref: string) => names.get((await docker.getImage(ref).inspect()).Id) ?? ref;
  const refs = tasks.filter((t) => t.Status?.State === 'running').map((t) => String(t.Spec?.ContainerSpec?.Image).replace(/@.*$/, ''));
  return (await Promise.all(refs.map(named))).sort();
}

/** Polls until `fn` gives a value; on time out says what it saw last (`seen`), or the last error. */
async function until<T>(what: string, fn: (seen: { last?: unknown }) => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  const seen: { last?: unknown } = {};
  for (;;) {
    const v = await fn(seen).catch((e: Error) => void (seen.last = `error: ${e.message}`));
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(seen.last)}`);
    await sleep(500);
  }
}

let v2Commit = '';

test('a rolling update moves every task to the new image, one at a time, and is recorded', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  world().writeStack(STACK, { replicas: 2, version: '1' });
  converged(await world().deploy(STACK, 'push'));
  assert.deepEqual(await runningImages('web'), ['berth-test/web:1', 'berth-test/web:1']);

  world().writeStack(STACK, { replicas: 2, version: '2' });
  const planned = await world().deploy(STACK, 'plan', true);
  const text = formatPlan(planned.plan!, { verbose: true });
  assert.match(text, /~ update +web +spec changed: .*TaskTemplate\.ContainerSpec\.Image/, text);
  assert.match(text, /berth-test\/web:1 → berth-test\/web:2|web:1.*→.*web:2/, text);
  assert.ok(planned.plan!.hosts[0].operations.some((op) => op.kind === 'keep-service' && op.service === 'probe'), text);

  const update = await world().deploy(STACK, 'push');
  converged(update);
  assert.ok(update.ledgerCommit);
  v2Commit = update.ledgerCommit!;
  assert.deepEqual(await runningImages('web'), ['berth-test/web:2', 'berth-test/web:2']);
  const s = await status();
  const web = s.hosts[0].services.find((x) => x.service === 'web')!;
  assert.equal(web.update?.state, 'completed', JSON.stringify(web));
  assert.equal(s.converged, true);
  // The exec answers from a web task: the new version serves.
  assert.equal(await world().exec('bsw1', `${STACK}_probe`, ['sh', '-c', 'timeout 5 wget -q -O- http://web/']), '2');
});

test('git revert of the deploy commit on the ledger branch rolls the Swarm stack back', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  assert.ok(v2Commit, 'the rolling update ran');
  const tree = path.join(world().tmp.path, 'ledger-tree');
  world().git('worktree', 'add', '-q', tree, DEFAULT_LEDGER_BRANCH);
  try {
    world().gitIn(tree, 'revert', '--no-edit', v2Commit);
  } finally {
    world().git('worktree', 'remove', '--force', tree);
    rmSync(tree, { recursive: true, force: true });
  }
  const back = await world().deploy(STACK, 'push');
  converged(back);
  assert.equal(back.mode, 'rollback');
  assert.deepEqual(await runningImages('web'), ['berth-test/web:1', 'berth-test/web:1']);
  // In force until the environment changes: a timer reconcile keeps the rollback, changing nothing.
  const again = await world().deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged', why(again));
  assert.equal(again.mode, 'rollback');
});

test('a failing health check: Swarm rolls the update back itself, Berth reports the stack failed with the reason', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  // A new environment commit supersedes the rollback: web:2 whose health check never passes.
  world().writeStack(STACK, { replicas: 2, version: '2', health: 'exit 1' });
  const failed = await world().deploy(STACK, 'push');
  assert.equal(failed.outcome, 'failed', why(failed));
  const error = failed.result?.hosts.test?.error ?? failed.error?.message ?? '';
  assert.match(error, /update of bt-swlife_web failed and Swarm rolled it back \(rollback_/, error);
  // What ran before the failed update runs again (the last replaced task may still be starting).
  await until('web:1 back on both replicas', async () => ((await runningImages('web')).join() === 'berth-test/web:1,berth-test/web:1' ? true : undefined), 60_000);
  const s = await status();
  const web = s.hosts[0].services.find((x) => x.service === 'web')!;
  assert.match(web.update?.state ?? '', /^rollback_/);
  assert.equal(s.converged, false, 'a stack Swarm rolled back is not what the environment asks for');

  // The fix in Git converges.
  world().writeStack(STACK, { replicas: 2, version: '2' });
  converged(await world().deploy(STACK, 'push'));
  assert.deepEqual(await runningImages('web'), ['berth-test/web:2', 'berth-test/web:2']);
});

test('drift is undone: a service scaled by hand is scaled back, one removed by hand comes back; then nothing moves', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const docker = world().manager();
  const [web] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_web`] }) });
  const spec = { ...web.Spec!, Mode: { Replicated: { Replicas: 3 } } };
  await docker.getService(web.ID).update({ version: web.Version!.Index, ...spec });
  const [probe] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_probe`] }) });
  await docker.getService(probe.ID).remove();

  const planned = await world().deploy(STACK, 'plan', true);
  const text = formatPlan(planned.plan!, { verbose: true });
  assert.match(text, /~ update +web +changed outside Berth: Mode\.Replicated\.Replicas/, text);
  assert.match(text, /\+ service +probe +not found/, text);

  const healed = await world().deploy(STACK, 'timer');
  converged(healed);
  assert.equal((await world().versions(STACK))[`${STACK}_web`] !== undefined, true);
  const [after] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_web`] }) });
  assert.equal(after.Spec!.Mode!.Replicated!.Replicas, 2);
  assert.ok(await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_probe`] }) }).then((l) => l.length === 1));

  const versions = await world().versions(STACK);
  const idle = await world().deploy(STACK, 'timer');
  assert.equal(idle.outcome, 'unchanged', why(idle));
  assert.deepEqual(await world().versions(STACK), versions, 'a reconcile with nothing changed moves no version index');
});

test('a stack another environment deployed on the Swarm is not touched, and the plan names the owner', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const docker = world().manager();
  const [web] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_web`] }) });
  const labels = web.Spec!.Labels!;
  assert.ok(labels['berth.owner'], 'Berth labels what it deploys with its environment');
  await docker.getService(web.ID).update({ version: web.Version!.Index, ...web.Spec!, Labels: { ...labels, 'berth.owner': 'someone-else' } });
  const versions = await world().versions(STACK);
  const o = await world().deploy(STACK, 'timer');
  assert.notEqual(o.outcome, 'converged', why(o));
  assert.equal(o.plan!.hosts[0].ownedBy, 'someone-else');
  assert.match(o.plan!.hosts[0].error ?? '', /owned by environment someone-else: not touched/);
  assert.deepEqual(await world().versions(STACK), versions, 'nothing was updated');
  // Given back: the owner label is Berth's again after a reconcile that owns it.
  const [now] = await docker.listServices({ filters: JSON.stringify({ name: [`${STACK}_web`] }) });
  await docker.getService(now.ID).update({ version: now.Version!.Index, ...now.Spec!, Labels: labels });
  assert.equal((await world().deploy(STACK, 'timer')).outcome, 'unchanged');
});

test('a node lost: Swarm reschedules its tasks, Berth changes nothing and its status shows the node down', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const before = await status();
  const web = before.hosts[0].services.find((x) => x.service === 'web')!;
  const onBsw3 = web.tasks!.filter((t) => t.state === 'running' && t.node === 'bsw3').length;
  assert.ok(onBsw3 >= 1, `web spreads over bsw2 and bsw3: ${JSON.stringify(web.tasks)}`);
  const versions = await world().versions(STACK);

  found.swarm.run('kill-node', '3');
  try {
    const s = await until('web rescheduled off bsw3', async (seen) => {
      const now = await status();
      const w = now.hosts[0].services.find((x) => x.service === 'web')!;
      seen.last = { tasks: w.tasks, nodes: now.hosts[0].nodes };
      const running = w.tasks!.filter((t) => t.state === 'running' && t.desiredState === 'running');
      const bsw3 = now.hosts[0].nodes!.find((n) => n.name === 'bsw3')!;
      return bsw3.state === 'down' && running.length === 2 && running.every((t) => t.node === 'bsw2') ? now : undefined;
    });
    assert.equal(s.converged, true, 'two healthy replicas on the nodes left is what the stack asks for');
    const o = await world().deploy(STACK, 'timer');
    assert.equal(o.outcome, 'unchanged', why(o));
    assert.deepEqual(await world().versions(STACK), versions, 'Berth does not fight Swarm\'s rescheduling');
  } finally {
    found.swarm.run('start-node', '3');
  }
  await until('bsw3 back', async () => ((await status()).hosts[0].nodes!.find((n) => n.name === 'bsw3')?.state === 'ready' ? true : undefined));
});
