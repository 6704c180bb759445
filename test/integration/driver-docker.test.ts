// The write verbs of DockerHostDriver against a real engine: images per pull_policy, idempotent networks
// and volumes, a container with files copied in and a second network, observe, and network removal rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildContainerSpec } from '../../engines/standalone/container-spec.ts';
import { DockerHostDriver } from '../../engines/standalone/driver.ts';
import { dockerGate } from '../harness/env.ts';
import { BUSYBOX_IMAGE } from '../harness/images.ts';
import { network, service, stackModel, volume } from '../unit/controller-fixtures.ts';
import { cleanStacks, execIn, hostSpec, prepareHosts } from './execute-helpers.ts';

const gate = await dockerGate();
const STACK = 'bt-driver';

before(async () => {
  if (!gate.ok) return;
  await cleanStacks(gate, [STACK]);
  await prepareHosts(gate, ['h1']);
});
after(() => cleanStacks(gate, [STACK]));

const driver = () => new DockerHostDriver(hostSpec(gate.host('h1')));

test('ensureImage: present images are not pulled; never + missing names the image and the host', gate.opts, async () => {
  const d = driver();
  assert.equal(await d.ensureImage(BUSYBOX_IMAGE, 'missing'), 'present');
  assert.equal(await d.ensureImage(BUSYBOX_IMAGE, 'never'), 'present');
  await assert.rejects(d.ensureImage('berth-test/absent:9', 'never'), /image berth-test\/absent:9 is not on host h1 and pull_policy is never/);
});

test('networks and volumes: created with stack labels, a second create is fine', gate.opts, async () => {
  const d = driver();
  const n = network(STACK, 'back', { labels: { tier: 'back' } });
  assert.equal(await d.createNetwork(STACK, 'back', n), 'created');
  assert.equal(await d.createNetwork(STACK, 'back', n), 'exists');
  const v = volume(STACK, 'data');
  assert.equal(await d.createVolume(STACK, 'data', v), 'created');
  assert.equal(await d.createVolume(STACK, 'data', v), 'exists');
  const info = (await d.docker.getNetwork(n.name).inspect()) as { Labels: Record<string, string> };
  assert.equal(info.Labels['berth.stack'], STACK);
  assert.equal(info.Labels['com.docker.compose.network'], 'back');
  assert.equal(info.Labels.tier, 'back');
  await assert.rejects(d.createNetwork(STACK, 'ext', network(STACK, 'ext', { name: 'bt-driver-nope', external: true })), /external network bt-driver-nope does not exist on host h1/);
});

test('createContainer: second network joined, config and secret copied in with their modes; observe sees it', gate.opts, async () => {
  const d = driver();
  const box = service('box', {
    image: BUSYBOX_IMAGE, command: ['sleep', '300'], restart: 'no',
    networks: { default: { aliases: [] }, back: { aliases: ['store'] } },
    configs: [{ source: 'site', target: '/etc/site.conf' }],
    secrets: [{ source: 'token', target: 'token' }],
  });
  const model = stackModel(STACK, [box], { networks: { default: network(STACK, 'default'), back: network(STACK, 'back') } });
  await d.createNetwork(STACK, 'default', model.networks.default);
  await d.createNetwork(STACK, 'back', model.networks.back);
  const spec = buildContainerSpec({ stack: STACK, model, number: 1, service: { model: box, hash: 'h1', config: {}, files: { site: 'greeting=hi\n', token: 't0k3n' } } });
  const id = await d.createContainer(spec);
  await d.start(id);
  const info = await d.inspect(id);
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks).sort(), [`${STACK}_back`, `${STACK}_default`]);
  assert.ok(info.NetworkSettings.Networks[`${STACK}_back`].Aliases?.includes('store'));
  const site = await execIn(d.docker, id, ['sh', '-c', 'cat /etc/site.conf; stat -c %a /etc/site.conf /run/secrets/token; cat /run/secrets/token']);
  // A secret without a mode is 0444, as compose makes it (a service's non-root user can read it).
  assert.equal(site.output, 'greeting=hi\n444\n444\nt0k3n');

  const o = await d.observe(STACK);
  assert.equal(o.containers.length, 1);
  assert.equal(o.containers[0].name, `${STACK}-box-1`);
  assert.equal(o.containers[0].state, 'running');
  assert.equal(o.containers[0].hash, 'h1');
  assert.deepEqual(o.networks.map((n) => n.name), [`${STACK}_back`, `${STACK}_default`]);
  assert.ok((await d.listStacks()).includes(STACK));

  assert.equal(await d.removeNetwork(`${STACK}_back`), 'in-use');
  await d.stop(id, 1000);
  assert.equal(await d.removeNetwork(`${STACK}_back`), 'in-use', 'a stopped container still counts');
  await d.rename(id, `${STACK}-box-1-old`);
  assert.equal((await d.inspect(id)).Name, `/${STACK}-box-1-old`);
  await d.remove(id);
  await d.remove(id); // already gone: fine
  assert.equal(await d.removeNetwork(`${STACK}_back`), 'removed');
  assert.equal(await d.removeNetwork(`${STACK}_back`), 'absent');
  assert.equal((await d.docker.listVolumes({ filters: JSON.stringify({ name: [`${STACK}_data`] }) })).Volumes.length, 1, 'volumes are never removed with containers');
});

test('logsTail and a failing start leave a readable error', gate.opts, async () => {
  const d = driver();
  const job = service('job', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo out-line; echo err-line >&2; exit 3'], restart: 'no', networks: {} });
  const spec = buildContainerSpec({ stack: STACK, model: stackModel(STACK, [job]), number: 1, service: { model: job, hash: 'h', config: {}, files: {} } });
  const id = await d.createContainer(spec);
  await d.start(id);
  for (let i = 0; i < 50 && (await d.inspect(id)).State.Running; i++) await new Promise((r) => setTimeout(r, 100));
  const logs = await d.logsTail(id, 5);
  assert.match(logs, /out-line/);
  assert.match(logs, /err-line/);
  assert.equal((await d.observe(STACK)).containers.find((c) => c.service === 'job')?.exitCode, 3);
});
