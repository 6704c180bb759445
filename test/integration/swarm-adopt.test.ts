// A stack first deployed by `docker stack deploy` (the docker CLI, from the compose file Berth renders for it) is
// adopted on the real test Swarm: Berth's first reconcile updates each service in place (same service IDs, the
// CLI's overlay network kept), names the cause, labels them as its own, and the next reconcile changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { swarmGate, testSwarm } from '../harness/swarm.ts';
import { COMPOSE, useSwarmWorld } from './swarm-fixtures.ts';

const found = await testSwarm();
const STACK = 'bt-swadopt';
const world = useSwarmWorld(found, STACK);

const ids = async (kind: 'services' | 'networks') => {
  const docker = world().manager();
  const filters = JSON.stringify({ label: [`com.docker.stack.namespace=${STACK}`] });
  const list = kind === 'services'
    ? (await docker.listServices({ filters })).map((s) => [s.Spec!.Name!, s.ID] as const)
    : (await docker.listNetworks({ filters })).map((n) => [n.Name, n.Id] as const);
  return Object.fromEntries(list);
};

test('a stack deployed by docker stack deploy is adopted: services updated in place, its network kept, then nothing moves', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const w = world();
  const answers = { version: '1', replicas: 2 };
  w.writeStack(STACK, answers);
  // The template's compose file with the same answers filled in, deployed by the CLI the way a team did before Berth.
  const values: Record<string, string> = { version: '1', msg: 'hello', health: 'true', replicas: '2' };
  const compose = COMPOSE.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => values[k]!);
  const file = path.join(w.tmp.path, 'cli-compose.yml');
  writeFileSync(file, compose);
  execFileSync('docker', ['-H', found.swarm.manager, 'stack', 'deploy', '--compose-file', file, STACK], { encoding: 'utf8', stdio: 'pipe' });
  const services = await ids('services');
  const networks = await ids('networks');
  assert.deepEqual(Object.keys(services).sort(), [`${STACK}_probe`, `${STACK}_web`], 'the CLI made the stack');
  assert.deepEqual(Object.keys(networks), [`${STACK}_back`]);
  const madeByCli = await w.manager().getService(services[`${STACK}_web`]!).inspect();
  assert.equal(madeByCli.Spec.Labels?.['berth.owner'], undefined, 'no Berth label before the adoption');

  const o = await w.deploy(STACK, 'timer');
  const shown = `${o.outcome}: ${o.error?.message ?? ''}\n${o.plan ? formatPlan(o.plan, { verbose: true }) : ''}\n${o.events.join('\n')}`;
  assert.equal(o.outcome, 'converged', shown);
  const ops = o.plan!.hosts[0].operations;
  assert.deepEqual(ops.filter((op) => op.kind === 'create-service' || op.kind === 'remove-service'), [], `adopted, not replaced:\n${shown}`);
  const updates = ops.filter((op) => op.kind === 'update-service');
  assert.equal(updates.length, 2, shown);
  assert.ok(updates.every((op) => op.cause === 'adopted: made without Berth (docker stack deploy)'), shown);
  assert.deepEqual(await ids('services'), services, 'the same services, updated in place');
  assert.deepEqual(await ids('networks'), networks, 'the CLI\'s overlay network is the stack\'s network');
  const adopted = await w.manager().getService(services[`${STACK}_web`]!).inspect();
  assert.ok(adopted.Spec.Labels?.['berth.owner'], 'labelled as this environment\'s');
  assert.equal(adopted.Spec.Labels?.['com.docker.stack.namespace'], STACK, 'still the CLI\'s stack: docker stack ps works');

  const versions = await w.versions(STACK);
  const again = await w.deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged', again.plan ? formatPlan(again.plan, { verbose: true }) : String(again.error));
  assert.deepEqual(await w.versions(STACK), versions, 'no update after the adoption');
  const ps = execFileSync('docker', ['-H', found.swarm.manager, 'stack', 'ps', STACK, '--filter', 'desired-state=running', '--format', '{{.Name}}'], { encoding: 'utf8' });
  assert.equal(ps.trim().split('\n').filter(Boolean).length, 3, `docker stack ps lists the adopted stack's tasks:\n${ps}`);
});
