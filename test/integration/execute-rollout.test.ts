// Rolling updates through observe → plan → execute: web:1 → web:2 ends serving "2"; a version that never
// gets healthy is rolled back with the old containers running again; start-first with a fixed host port
// falls back to stop-first and says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceModel } from '../../catalog/model.ts';
import { containerIp, dockerGate, httpGet } from '../harness/env.ts';
import { desired, service, stackModel, volume } from '../unit/controller-fixtures.ts';
import { apply, cleanStacks, containersOf, driversFor, failedEvents, HEALTH_WGET, hostSpec, prepareHosts } from './execute-helpers.ts';

const gate = await dockerGate();
const STACK = 'bt-roll';
const PORTS = 'bt-roll-ports';
const REVERT = 'bt-roll-revert';

before(async () => {
  if (!gate.ok) return;
  await cleanStacks(gate, [STACK, PORTS, REVERT]);
  await prepareHosts(gate, ['h1']);
});
after(() => cleanStacks(gate, [STACK, PORTS, REVERT]));

type Update = ServiceModel['deploy']['update_config'];
const update = (over: Partial<Update> = {}): Update => ({ parallelism: 1, delay_ms: 0, order: 'stop-first', failure_action: 'rollback', monitor_ms: 15_000, ...over });

function web(image: string, over: Partial<ServiceModel> = {}, upd: Partial<Update> = {}, name = STACK) {
  const svc = service('web', { image, healthcheck: HEALTH_WGET, stop_grace_period_ms: 500, ...over, deploy: { replicas: 2, update_config: update(upd) } });
  return desired(stackModel(name, [svc]), [hostSpec(gate.host('h1'))]);
}

async function served(stack: string): Promise<Record<string, string>> {
  const docker = gate.docker('h1');
  const out: Record<string, string> = {};
  for (const c of await containersOf(docker, stack)) {
    const name = c.Names[0].slice(1);
    out[name] = c.State === 'running' ? (await httpGet(`http://${await containerIp(docker, c.Id)}/`, 3000)).body : c.State;
  }
  return out;
}

test('recreate web:1 → web:2 with a healthcheck ends serving "2" and leaves no old containers', gate.opts, async () => {
  const drivers = driversFor([hostSpec(gate.host('h1'))]);
  const first = await apply(web('berth-test/web:1'), drivers);
  assert.equal(first.result.hosts.h1.outcome, 'converged', failedEvents(first.events));
  assert.deepEqual(await served(STACK), { 'bt-roll-web-1': '1', 'bt-roll-web-2': '1' });

  const second = await apply(web('berth-test/web:2'), drivers);
  assert.deepEqual(second.plan.hosts[0].operations.map((o) => o.kind), ['recreate', 'recreate']);
  assert.deepEqual(second.result.hosts.h1, { outcome: 'converged', operations: 2 }, failedEvents(second.events));
  assert.deepEqual(await served(STACK), { 'bt-roll-web-1': '2', 'bt-roll-web-2': '2' });
  // One replica at a time: web.1 was ready before web.2 was stopped.
  const at = (n: number, action: string, status: string) => second.events.findIndex((e) => e.number === n && e.action === action && e.status === status);
  assert.ok(at(1, 'wait', 'done') < at(2, 'stop', 'started'));
});

test('a version that never becomes healthy is rolled back: old containers running again, reason reported', gate.opts, async () => {
  const drivers = driversFor([hostSpec(gate.host('h1'))]);
  const before = await containersOf(gate.docker('h1'), STACK);
  const broken = { test: ['CMD-SHELL', 'echo checking; wget -q -O /dev/null http://127.0.0.1/missing-page'], interval_ms: 300, timeout_ms: 2000, retries: 2, start_period_ms: 0 };
  const r = await apply(web('berth-test/web:2', { healthcheck: broken, environment: { V: 'broken' } }), drivers);
  assert.equal(r.result.hosts.h1.outcome, 'failed');
  const error = r.result.hosts.h1.error ?? '';
  assert.match(error, /update of web on h1 rolled back/);
  assert.match(error, /container bt-roll-web-1 on h1 became unhealthy/);
  // stdout ("checking") and wget's stderr reach Docker in either order.
  assert.match(error, /last health check output: exit 1: [\s\S]*checking/);
  assert.ok(r.events.some((e) => e.action === 'rollback' && e.status === 'done' && e.number === 1));
  const after = await containersOf(gate.docker('h1'), STACK);
  assert.deepEqual(after.map((c) => c.Id).sort(), before.map((c) => c.Id).sort(), 'the same containers, nothing left over');
  assert.deepEqual(await served(STACK), { 'bt-roll-web-1': '2', 'bt-roll-web-2': '2' });
});

test('a command that exits fails the update with its exit code and logs', gate.opts, async () => {
  const drivers = driversFor([hostSpec(gate.host('h1'))]);
  const r = await apply(web('berth-test/web:2', { command: ['sh', '-c', 'echo cannot bind; exit 7'] }, { failure_action: 'pause' }), drivers);
  assert.equal(r.result.hosts.h1.outcome, 'failed');
  assert.match(r.result.hosts.h1.error ?? '', /update of web on h1 paused/);
  assert.match(r.result.hosts.h1.error ?? '', /exited with code 7[\s\S]*cannot bind/);
  // pause: web.2 was not touched, web.1 was put back.
  assert.deepEqual(await served(STACK), { 'bt-roll-web-1': '2', 'bt-roll-web-2': '2' });
});

test('start-first with a fixed host port falls back to stop-first and says why', gate.opts, async () => {
  const drivers = driversFor([hostSpec(gate.host('h1'))]);
  const ports = [{ target: 80, published: '18931', host_ip: '127.0.0.1', protocol: 'tcp' as const, mode: 'host' as const }];
  const one = (image: string) => {
    const svc = service('web', { image, healthcheck: HEALTH_WGET, stop_grace_period_ms: 500, ports, deploy: { replicas: 1, update_config: update({ order: 'start-first' }) } });
    return desired(stackModel(PORTS, [svc]), [hostSpec(gate.host('h1'))]);
  };
  const first = await apply(one('berth-test/web:1'), drivers);
  assert.equal(first.result.hosts.h1.outcome, 'converged', failedEvents(first.events));
  assert.equal((await httpGet('http://127.0.0.1:18931/')).body, '1');
  const second = await apply(one('berth-test/web:2'), drivers);
  assert.equal(second.result.hosts.h1.outcome, 'converged', failedEvents(second.events));
  assert.ok(second.events.some((e) => e.action === 'info' && /start-first is impossible.*fixed host ports/.test(e.message ?? '')));
  assert.equal((await httpGet('http://127.0.0.1:18931/')).body, '2');
});

test('start-first without fixed ports: the new container is ready before the old one stops', gate.opts, async () => {
  const drivers = driversFor([hostSpec(gate.host('h1'))]);
  const r = await apply(web('berth-test/web:1', {}, { order: 'start-first', parallelism: 2 }), drivers);
  assert.deepEqual(r.result.hosts.h1, { outcome: 'converged', operations: 2 }, failedEvents(r.events));
  for (const n of [1, 2]) {
    const ready = r.events.findIndex((e) => e.number === n && e.action === 'wait' && e.status === 'done');
    const stop = r.events.findIndex((e) => e.number === n && e.action === 'stop' && e.status === 'started');
    assert.ok(ready >= 0 && ready < stop);
  }
  assert.deepEqual(await served(STACK), { 'bt-roll-web-1': '1', 'bt-roll-web-2': '1' });
});

test('rollback undoes replicas already updated when a later one fails', gate.opts, async () => {
  const drivers = driversFor([hostSpec(gate.host('h1'))]);
  const first = await apply(web('berth-test/web:1', {}, {}, REVERT), drivers);
  assert.equal(first.result.hosts.h1.outcome, 'converged', failedEvents(first.events));
  const before = (await containersOf(gate.docker('h1'), REVERT)).map((c) => c.Id).sort();
  // Only the first replica to check in takes the lock on the shared volume; the second stays unhealthy.
  const lockCheck = { test: ['CMD-SHELL', 'mkdir /shared/lock 2>/dev/null && touch /tmp/won; test -f /tmp/won'], interval_ms: 300, timeout_ms: 2000, retries: 2, start_period_ms: 0 };
  const shared = { type: 'volume' as const, source: 'shared', target: '/shared', read_only: false, nocopy: false };
  const svc = service('web', { image: 'berth-test/web:2', healthcheck: lockCheck, stop_grace_period_ms: 500, volumes: [shared], deploy: { replicas: 2, update_config: update() } });
  const d = desired(stackModel(REVERT, [svc], { volumes: { shared: volume(REVERT, 'shared') } }), [hostSpec(gate.host('h1'))]);
  const r = await apply(d, drivers);
  assert.equal(r.result.hosts.h1.outcome, 'failed');
  assert.match(r.result.hosts.h1.error ?? '', /rolled back[\s\S]*bt-roll-revert-web-2 on h1 became unhealthy/);
  assert.deepEqual(r.events.filter((e) => e.action === 'rollback' && e.status === 'done').map((e) => e.number).sort(), [1, 2]);
  assert.deepEqual((await containersOf(gate.docker('h1'), REVERT)).map((c) => c.Id).sort(), before);
  assert.deepEqual(await served(REVERT), { 'bt-roll-revert-web-1': '1', 'bt-roll-revert-web-2': '1' });
});
