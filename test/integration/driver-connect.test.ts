// Endpoints: the same driver over a unix socket, TLS tcp and ssh; unreachable hosts fail fast and say why.
// With CI=true a missing engine fails these tests; otherwise they skip with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DockerHostDriver } from '../../engines/standalone/driver.ts';
import { UnreachableError } from '../../lib/errors.ts';
import { dockerGate } from '../harness/env.ts';
import { hostSpec, missingHost } from './execute-helpers.ts';

const gate = await dockerGate();

for (const via of ['socket', 'tls', 'ssh'] as const) {
  test(`ping, observe and listStacks over ${via}`, gate.opts, async () => {
    const h = gate.hosts().find((x) => (via === 'tls' ? x.tcp && x.tls : via === 'ssh' ? x.ssh : true));
    assert.ok(h, `no harness host offers ${via}`);
    const d = new DockerHostDriver(hostSpec(h, via));
    await d.ping();
    const o = await d.observe('bt-connect-none');
    assert.deepEqual(o, { host: h.name, reachable: true, containers: [], networks: [], volumes: [], images: {} });
    assert.ok(Array.isArray(await d.listStacks()));
  });
}

test('a socket that does not exist: UnreachableError naming host, endpoint and what to check, fast', async () => {
  const d = new DockerHostDriver(missingHost('gone'));
  const t0 = Date.now();
  await assert.rejects(d.ping(), (e: unknown) => {
    assert.ok(e instanceof UnreachableError);
    assert.match(e.message, /host gone \(unix:\/\/\/run\/berth-test\/gone-missing\.sock\) is unreachable/);
    assert.match(e.hint ?? '', /dockerd is running/);
    return true;
  });
  assert.ok(Date.now() - t0 < 3000);
  const o = await d.observe('x');
  assert.equal(o.reachable, false);
  assert.match(o.error ?? '', /ENOENT/);
});

test('a loopback tcp port nobody listens on fails within the ping deadline', async () => {
  const d = new DockerHostDriver({ name: 'closed', endpoint: 'tcp://127.0.0.1:1', labels: {} });
  const t0 = Date.now();
  await assert.rejects(d.ping(), (e: unknown) => e instanceof UnreachableError && /ECONNREFUSED/.test(e.message) && /port is open/.test(e.hint ?? ''));
  assert.ok(Date.now() - t0 < 6000);
});

test('an endpoint with an unknown scheme is a user error', () => {
  assert.throws(() => new DockerHostDriver({ name: 'x', endpoint: 'http://127.0.0.1:2375', labels: {} }), /is not unix:\/\/, tcp:\/\/ or ssh:\/\//);
});
