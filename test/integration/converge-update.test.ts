// Acceptance tests of converging, continued: depends_on with service_healthy across hosts, rolling updates
// that succeed and one that must be undone, and an environment with a host that is down — through
// reconcileStack and the berth CLI, asserting on what the harness engines run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerIp, dockerGate, httpGet } from '../harness/env.ts';
import { failures, harnessHosts, layout, useHarnessStacks, World, type Replica } from './converge-fixtures.ts';

const gate = await dockerGate();
const STACKS = ['cv-deps', 'cv-roll', 'cv-rollback', 'cv-down'];
const worlds: World[] = [];
let world: World | undefined;
const w = () => (world ??= track(new World(gate)));
const track = (x: World) => (worlds.push(x), x);

useHarnessStacks(gate, STACKS, () => worlds.forEach((x) => x.dispose()));

/** What each running replica of the stack serves at http://<its IP>/, keyed `name@host`. */
async function served(rs: Replica[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of rs) {
    out[`${r.name}@${r.host}`] = r.state === 'running' ? (await httpGet(`http://${await containerIp(gate.docker(r.host), r.id)}/`, 3000)).body : r.state;
  }
  return out;
}

test('depends_on service_healthy: the dependents start only after the dependency on another host is healthy', gate.opts, async () => {
  w().writeStack('cv-deps', { template: 'deps', version: '1.0.0' });
  const o = await w().reconcile('cv-deps');
  assert.equal(o.outcome, 'converged', failures(o));
  const rs = await w().replicas('cv-deps');
  assert.deepEqual(layout(rs), { h1: ['app#1'], h2: ['app#2'], h3: ['db#1'] });
  const db = rs.find((r) => r.service === 'db')!;
  assert.equal(db.info.State.Health?.Status, 'healthy');
  // db's httpd starts 3 s after the container does, so no health check can pass before then.
  const dbStarted = Date.parse(db.startedAt);
  const log = db.info.State.Health?.Log ?? [];
  const firstOk = log.findIndex((e) => e.ExitCode === 0);
  for (const app of rs.filter((r) => r.service === 'app')) {
    assert.equal(app.state, 'running');
    const started = Date.parse(app.startedAt);
    assert.ok(started >= dbStarted + 3000, `${app.name} started ${started - dbStarted} ms after db, before db could be healthy`);
    // When the log (Docker keeps the last five checks) still shows the failing check before the first
    // passing one, that passing check ended before the dependents started.
    if (firstOk > 0) assert.ok(Date.parse(log[firstOk].End) <= started, `${app.name} started at ${app.startedAt}, db healthy at ${log[firstOk].End}`);
  }
  // The progress says so too: each app waited for db, and the wait ended before app was created.
  for (const host of ['h1', 'h2']) {
    const waited = o.events.findIndex((e) => e.host === host && e.service === 'app' && e.action === 'wait' && e.message === 'db service_healthy' && e.status === 'done');
    const created = o.events.findIndex((e) => e.host === host && e.service === 'app' && e.action === 'create' && e.status === 'started');
    assert.ok(waited >= 0 && waited < created, `on ${host}: wait done at event ${waited}, create at ${created}`);
  }
});

test('rolling update to a healthy new version (web:1 → web:2 by an answer) ends serving "2"', gate.opts, async () => {
  w().writeStack('cv-roll', { template: 'site', version: '1.0.0', answers: { web_version: '1' } });
  const first = await w().reconcile('cv-roll');
  assert.equal(first.outcome, 'converged', failures(first));
  assert.deepEqual(await served(await w().replicas('cv-roll')), { 'cv-roll-web-1@h1': '1', 'cv-roll-web-2@h2': '1' });
  const before = await w().snapshot('cv-roll');

  w().writeStack('cv-roll', { template: 'site', version: '1.0.0', answers: { web_version: '2' } });
  const o = await w().reconcile('cv-roll');
  assert.equal(o.outcome, 'converged', failures(o));
  assert.deepEqual(o.plan!.hosts.flatMap((h) => h.operations.map((op) => `${op.host} ${op.kind}: ${op.cause}`)), ['h1 recreate: config changed: image', 'h2 recreate: config changed: image']);
  const rs = await w().replicas('cv-roll');
  assert.deepEqual(await served(rs), { 'cv-roll-web-1@h1': '2', 'cv-roll-web-2@h2': '2' }, 'no old containers left over');
  assert.ok(rs.every((r) => r.info.Config.Image === 'berth-test/web:2' && r.info.State.Health?.Status === 'healthy'));
  const after = await w().snapshot('cv-roll');
  for (const k of Object.keys(before)) assert.notEqual(after[k].split(' ')[0], before[k].split(' ')[0], `${k} was replaced`);
});

test('rolling update to a version that never gets healthy fails with the reason and puts the old containers back', gate.opts, async () => {
  w().writeStack('cv-rollback', { template: 'site', version: '1.0.0', answers: { web_version: '1' } });
  const first = await w().reconcile('cv-rollback');
  assert.equal(first.outcome, 'converged', failures(first));
  const before = await w().replicas('cv-rollback');

  // 2.0.0 ships web:2 with a healthcheck on a page that does not exist; update_config.monitor is 5s.
  w().writeStack('cv-rollback', { template: 'site', version: '2.0.0' });
  const t0 = Date.now();
  const o = await w().reconcile('cv-rollback');
  assert.equal(o.outcome, 'failed');
  assert.ok(Date.now() - t0 < 30_000, `gave up within the monitor window, took ${Date.now() - t0} ms`);
  for (const [host, n] of [['h1', 1], ['h2', 2]] as const) {
    const r = o.result!.hosts[host];
    assert.equal(r.outcome, 'failed');
    assert.match(r.error ?? '', new RegExp(`update of web on ${host} rolled back`));
    assert.match(r.error ?? '', new RegExp(`container cv-rollback-web-${n} on ${host} (became unhealthy|did not become healthy)`));
    assert.match(r.error ?? '', /last health check output: exit 1/);
  }

  const after = await w().replicas('cv-rollback');
  assert.deepEqual(after.map((r) => `${r.host} ${r.name} ${r.id}`), before.map((r) => `${r.host} ${r.name} ${r.id}`), 'the same containers under their own names, nothing left over');
  assert.ok(after.every((r) => r.state === 'running' && r.info.Config.Image === 'berth-test/web:1'));
  assert.deepEqual(await served(after), { 'cv-rollback-web-1@h1': '1', 'cv-rollback-web-2@h2': '1' });

  // The environment still asks for 2.0.0, so status says the stack is not converged.
  const status = await w().cli(['status', 'cv-rollback']);
  assert.equal(status.code, 3, status.stdout + status.stderr);
  assert.match(status.stdout, /stack cv-rollback \(site@2\.0\.0\): NOT converged/);
  assert.match(status.stdout, /web\s+1\/1 running \(1 outdated\)/);
});

test('one host down: it fails as unreachable, naming it; the other hosts converge; status exits non-zero', gate.opts, async () => {
  const missing = '/run/berth-test/h4-missing.sock';
  const down = track(new World(gate, [...harnessHosts(gate), { name: 'h4', endpoint: `unix://${missing}`, labels: { role: 'web' } }]));
  down.writeStack('cv-down', { template: 'app', version: '1.0.0', answers: { web_replicas: 3, worker_replicas: 1, with_cache: false } });

  const o = await down.reconcile('cv-down');
  assert.equal(o.outcome, 'failed');
  assert.equal(o.error, undefined, 'a host down is not a stack error');
  const { h1, h2, h3, h4 } = o.result!.hosts;
  assert.deepEqual([h1.outcome, h2.outcome, h3.outcome], ['converged', 'converged', 'unchanged'], failures(o));
  assert.equal(h4.outcome, 'unreachable');
  assert.match(h4.error ?? '', new RegExp(`host h4 \\(unix://${missing}\\) is unreachable`));
  const rs = await down.replicas('cv-down');
  assert.deepEqual(layout(rs), { h1: ['web#1', 'worker#1'], h2: ['web#2'] }, 'web#3 belongs on h4');
  assert.ok(rs.every((r) => r.state === 'running'));

  const status = await down.cli(['status', 'cv-down']);
  assert.notEqual(status.code, 0, status.stdout + status.stderr);
  assert.match(status.stdout, /stack cv-down \(app@1\.0\.0\): NOT converged/);
  assert.match(status.stdout, /host h4: unreachable: host h4 \(unix:\/\/\/run\/berth-test\/h4-missing\.sock\) is unreachable/);
  assert.match(status.stdout, /host h1\n\s+web\s+1\/1 running\n\s+worker\s+1\/1 running/);

  // apply again: h1..h3 have nothing to do, h4 is still down, and the command says so and fails.
  const applied = await down.cli(['apply', 'cv-down']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stdout, /host h4: unreachable: .*h4-missing\.sock/);
  assert.match(applied.stdout, /host h1: unchanged/);
  assert.doesNotMatch(applied.stdout + applied.stderr, /unreachable:\s*unreachable/, 'said once');

  // plan: the hosts it could see have nothing to do, but a plan that could not see h4 is not what apply would do.
  const planned = await down.cli(['plan', 'cv-down']);
  assert.equal(planned.code, 2, planned.stdout + planned.stderr);
  assert.match(planned.stdout + planned.stderr, /h4.*unreachable/);
  assert.doesNotMatch(planned.stdout + planned.stderr, /unreachable:\s*unreachable/, 'said once');
});
