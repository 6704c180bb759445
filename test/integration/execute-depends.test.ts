// depends_on across hosts (service_healthy, service_completed_successfully), a failed dependency stopping
// only its dependents, and one unreachable host failing alone while the others converge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceModel } from '../../catalog/model.ts';
import { dockerGate } from '../harness/env.ts';
import { BUSYBOX_IMAGE } from '../harness/images.ts';
import { constraint, desired, service, stackModel } from '../unit/controller-fixtures.ts';
import { proxySocket } from '../harness/socket-proxy.ts';
import { DockerHostDriver } from '../../engines/standalone/driver.ts';
import { apply, cleanStacks, containersOf, driversFor, failedEvents, HEALTH_WGET, hostSpec, missingHost, prepareHosts } from './execute-helpers.ts';

const gate = await dockerGate();
const HEALTHY = 'bt-dep-healthy';
const DONE = 'bt-dep-done';
const BROKEN = 'bt-dep-broken';
const SPLIT = 'bt-dep-split';
const HUNG = 'bt-dep-hung';

before(async () => {
  if (!gate.ok) return;
  await cleanStacks(gate, [HEALTHY, DONE, BROKEN, SPLIT, HUNG]);
  await prepareHosts(gate, ['h1', 'h2']);
});
after(() => cleanStacks(gate, [HEALTHY, DONE, BROKEN, SPLIT, HUNG]));

const on = (host: string) => ({ replicas: 1, placement: { constraints: [constraint('hostname', '==', host)] } });
const needs = (dep: string, condition: ServiceModel['depends_on'][string]['condition']) => ({ [dep]: { condition, required: true, restart: false } });
const app = (deps: ServiceModel['depends_on']) => service('app', { image: BUSYBOX_IMAGE, command: ['sleep', '600'], stop_grace_period_ms: 500, depends_on: deps, deploy: on('h2') });

async function inspectOne(host: string, stack: string, svc: string) {
  const docker = gate.docker(host);
  const c = (await containersOf(docker, stack)).find((x) => x.Labels['berth.service'] === svc);
  assert.ok(c, `${svc} on ${host}`);
  return docker.getContainer(c.Id).inspect();
}

test('service_healthy: the dependent on h2 starts after the dependency on h1 became healthy', gate.opts, async () => {
  const db = service('db', {
    image: 'berth-test/web:1', command: ['sh', '-c', 'sleep 2; touch /tmp/ready; exec httpd -f -p 80 -h /www'], stop_grace_period_ms: 500,
    healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ready'], interval_ms: 300, timeout_ms: 1000, retries: 30, start_period_ms: 0 },
    deploy: on('h1'),
  });
  const hosts = [hostSpec(gate.host('h1')), hostSpec(gate.host('h2'))];
  const r = await apply(desired(stackModel(HEALTHY, [db, app(needs('db', 'service_healthy'))]), hosts), driversFor(hosts));
  assert.equal(r.result.hosts.h1.outcome, 'converged', failedEvents(r.events));
  assert.equal(r.result.hosts.h2.outcome, 'converged', failedEvents(r.events));
  // The engine keeps only the last 5 health results, so "became healthy" is bounded from below instead:
  // db cannot pass its check before its 2 s sleep is over.
  const dbInfo = await inspectOne('h1', HEALTHY, 'db');
  assert.equal(dbInfo.State.Health?.Status, 'healthy');
  const healthyNotBefore = Date.parse(dbInfo.State.StartedAt) + 2000;
  const appStarted = (await inspectOne('h2', HEALTHY, 'app')).State.StartedAt;
  assert.ok(Date.parse(appStarted) > healthyNotBefore, `app started ${appStarted}, db started ${dbInfo.State.StartedAt}`);
  const waited = r.events.find((e) => e.host === 'h2' && e.service === 'app' && e.action === 'wait' && e.status === 'done');
  assert.ok(waited && waited.durationMs! >= 1500, 'app waited for db');
});

test('service_completed_successfully: the dependent starts after the job exited 0', gate.opts, async () => {
  const job = service('migrate', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 1; echo migrated'], restart: 'no', deploy: on('h1') });
  const hosts = [hostSpec(gate.host('h1')), hostSpec(gate.host('h2'))];
  const r = await apply(desired(stackModel(DONE, [job, app(needs('migrate', 'service_completed_successfully'))]), hosts), driversFor(hosts));
  assert.equal(r.result.hosts.h1.outcome, 'converged', failedEvents(r.events));
  assert.equal(r.result.hosts.h2.outcome, 'converged', failedEvents(r.events));
  const jobInfo = await inspectOne('h1', DONE, 'migrate');
  assert.equal(jobInfo.State.ExitCode, 0);
  assert.ok(Date.parse((await inspectOne('h2', DONE, 'app')).State.StartedAt) > Date.parse(jobInfo.State.FinishedAt));
});

test('a dependency that fails: its host and the dependent host fail with the reason; nothing of the dependent is made', gate.opts, async () => {
  const job = service('migrate', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo schema broken; exit 1'], restart: 'no', deploy: on('h1') });
  const hosts = [hostSpec(gate.host('h1')), hostSpec(gate.host('h2'))];
  const r = await apply(desired(stackModel(BROKEN, [job, app(needs('migrate', 'service_completed_successfully'))]), hosts), driversFor(hosts));
  assert.equal(r.result.hosts.h1.outcome, 'failed');
  assert.match(r.result.hosts.h1.error ?? '', /migrate-1 on h1 exited with code 1/);
  assert.equal(r.result.hosts.h2.outcome, 'failed');
  assert.match(r.result.hosts.h2.error ?? '', /migrate-1 on h1 did not complete successfully \(exit code 1\)[\s\S]*schema broken/);
  assert.equal((await containersOf(gate.docker('h2'), BROKEN)).length, 0);
});

test('one unreachable host fails alone while the other converges', gate.opts, async () => {
  const web = service('web', { image: 'berth-test/web:1', stop_grace_period_ms: 500, deploy: { mode: 'global' } });
  const hosts = [hostSpec(gate.host('h1')), missingHost('ghost')];
  const r = await apply(desired(stackModel(SPLIT, [web]), hosts), driversFor(hosts));
  assert.equal(r.result.hosts.ghost.outcome, 'unreachable');
  assert.match(r.result.hosts.ghost.error ?? '', /host ghost \(unix:\/\/\/run\/berth-test\/ghost-missing\.sock\) is unreachable/);
  assert.deepEqual(r.result.hosts.h1, { outcome: 'converged', operations: 2 }, failedEvents(r.events));
  const cs = await containersOf(gate.docker('h1'), SPLIT);
  assert.deepEqual(cs.map((c) => c.State), ['running']);
});

test('a host that hangs mid-deploy fails alone: the dependent on the healthy host still waits for, and gets, its dependency there', gate.opts, async () => {
  // web runs on both hosts; api on h1 waits for web to be healthy. h2's engine stops answering as web's
  // container is created there (behind a proxy that swallows every request from then on).
  const web = service('web', {
    image: 'berth-test/web:1', stop_grace_period_ms: 500, healthcheck: HEALTH_WGET, deploy: { mode: 'global' },
  });
  const api = service('api', { image: BUSYBOX_IMAGE, command: ['sleep', '600'], stop_grace_period_ms: 500, depends_on: needs('web', 'service_healthy'), deploy: on('h1') });
  const proxy = await proxySocket(gate.host('h2').dockerHost.slice('unix://'.length));
  try {
    proxy.hangFrom(/^(\/v[\d.]+)?\/containers\/create/);
    const hosts = [hostSpec(gate.host('h1')), { name: 'h2', endpoint: `unix://${proxy.path}`, labels: {} }];
    const drivers = { h1: new DockerHostDriver(hosts[0]), h2: new DockerHostDriver(hosts[1], { timeoutMs: 3000 }) };
    const r = await apply(desired(stackModel(HUNG, [web, api]), hosts), drivers);
    assert.ok(proxy.hung, `h2 hung at the create: ${proxy.requests.join("\n")}\n${JSON.stringify(r.result.hosts)}`);
    assert.equal(r.result.hosts.h2.outcome, 'unreachable', JSON.stringify(r.result.hosts.h2));
    assert.equal(r.result.hosts.h1.outcome, 'converged', failedEvents(r.events));
    const running = (await containersOf(gate.docker('h1'), HUNG)).map((c) => `${c.Labels['berth.service']} ${c.State}`).sort();
    assert.deepEqual(running, ['api running', 'web running']);
    // api waited for web on h1 (healthy), and the events say h2's web was not waited for, and why.
    const webOnH1 = await inspectOne('h1', HUNG, 'web');
    assert.equal(webOnH1.State.Health?.Status, 'healthy');
    const note = r.events.find((e) => e.host === 'h1' && e.service === 'api' && e.action === 'info');
    assert.match(note?.message ?? '', /web on h2 not waited for: the host became unreachable/);
  } finally {
    proxy.hangFrom(undefined);
    await proxy.close();
  }
});
