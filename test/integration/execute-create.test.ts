// From nothing to a running stack on two hosts through observe → plan → execute, and a second apply that
// finds nothing to do and touches nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dockerGate } from '../harness/env.ts';
import { BUSYBOX_IMAGE } from '../harness/images.ts';
import { desired, service, stackModel } from '../unit/controller-fixtures.ts';
import { apply, cleanStacks, containersOf, driversFor, execIn, failedEvents, HEALTH_WGET, hostSpec, prepareHosts } from './execute-helpers.ts';

const gate = await dockerGate();
const STACK = 'bt-create';

before(async () => {
  if (!gate.ok) return;
  await cleanStacks(gate, [STACK]);
  await prepareHosts(gate, ['h1', 'h2']);
});
after(() => cleanStacks(gate, [STACK]));

function stack() {
  const web = service('web', {
    image: 'berth-test/web:1', healthcheck: HEALTH_WGET, networks: { default: { aliases: ['www'] } },
    configs: [{ source: 'site', target: '/www/site.txt' }],
    deploy: { mode: 'global', update_config: { parallelism: 1, delay_ms: 0, order: 'stop-first', failure_action: 'rollback', monitor_ms: 20_000 } },
  });
  const client = service('client', { image: BUSYBOX_IMAGE, command: ['sleep', '600'], deploy: { mode: 'global' } });
  const hosts = [hostSpec(gate.host('h1')), hostSpec(gate.host('h2'))];
  const d = desired(stackModel(STACK, [web, client]), hosts);
  d.hosts.h1.services.web.files.site = 'hello from config';
  return { d, hosts };
}

test('create from nothing on two hosts, then a second apply changes nothing', gate.opts, async () => {
  const { d, hosts } = stack();
  const drivers = driversFor(hosts);

  const first = await apply(d, drivers);
  assert.deepEqual(first.result.hosts, { h1: { outcome: 'converged', operations: 3 }, h2: { outcome: 'converged', operations: 3 } }, failedEvents(first.events));

  for (const h of ['h1', 'h2']) {
    const docker = gate.docker(h);
    const cs = await containersOf(docker, STACK);
    assert.equal(cs.length, 2);
    for (const c of cs) {
      assert.equal(c.State, 'running');
      assert.equal(c.Labels['com.docker.compose.project'], STACK);
      assert.equal(c.Labels['com.docker.compose.oneoff'], 'False');
    }
    const client = cs.find((c) => c.Labels['berth.service'] === 'client')!;
    // Service name and alias resolve on the stack network of this host.
    assert.deepEqual(await execIn(docker, client.Id, ['wget', '-q', '-O', '-', 'http://web/']), { code: 0, output: '1' });
    assert.deepEqual(await execIn(docker, client.Id, ['wget', '-q', '-O', '-', 'http://www/site.txt']), { code: 0, output: 'hello from config' });
    const web = cs.find((c) => c.Labels['berth.service'] === 'web')!;
    assert.equal((await docker.getContainer(web.Id).inspect()).State.Health?.Status, 'healthy');
  }

  const before = await snapshot();
  const second = await apply(d, drivers);
  assert.ok(second.plan.hosts.every((h) => h.operations.every((o) => o.kind === 'keep')), 'second plan is all keep');
  assert.deepEqual(second.result.hosts, { h1: { outcome: 'unchanged', operations: 0 }, h2: { outcome: 'unchanged', operations: 0 } });
  assert.deepEqual(await snapshot(), before, 'container ids and StartedAt unchanged');
  assert.deepEqual(second.events.filter((e) => e.action !== 'done'), []);
});

async function snapshot(): Promise<string[]> {
  const out: string[] = [];
  for (const h of ['h1', 'h2']) {
    const docker = gate.docker(h);
    for (const c of await containersOf(docker, STACK)) out.push(`${h} ${c.Id} ${(await docker.getContainer(c.Id).inspect()).State.StartedAt}`);
  }
  return out.sort();
}
