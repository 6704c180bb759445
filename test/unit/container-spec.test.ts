// container-spec.ts is pure: ServiceModel + stack + replica → the ContainerCreate body. These tests pin the
// mapping field by field, since a silent drift here changes every container Berth makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContainerSpec } from '../../engines/standalone/container-spec.ts';
import tar from 'tar-stream';
import { tarFiles } from '../../engines/docker/tar.ts';
import type { ServiceModel, StackModel } from '../../catalog/model.ts';
import type { DesiredService } from '../../engines/standalone/types.ts';
import { network, service, stackModel, volume } from './controller-fixtures.ts';

function desiredOf(svc: ServiceModel, files: Record<string, string> = {}): DesiredService {
  return { model: svc, hash: 'h123', config: { image: svc.image }, files };
}

function spec(svc: ServiceModel, model: StackModel = stackModel('shop', [svc]), files: Record<string, string> = {}, number = 1) {
  return buildContainerSpec({ stack: 'shop', model, service: desiredOf(svc, files), number });
}

test('name, image, sorted env and Berth + compose labels over the service labels', () => {
  const web = service('web', { image: 'berth-test/web:1', environment: { Z: '1', A: 'x=y' }, labels: { team: 'a', 'berth.stack': 'spoof' } });
  const s = spec(web, undefined, {}, 2);
  assert.equal(s.name, 'shop-web-2');
  assert.equal(s.create.name, 'shop-web-2');
  assert.equal(s.create.Image, 'berth-test/web:1');
  assert.deepEqual(s.create.Env, ['A=x=y', 'Z=1']);
  const labels = s.create.Labels!;
  assert.equal(labels.team, 'a');
  assert.equal(labels['berth.stack'], 'shop');
  assert.equal(labels['com.docker.compose.project'], 'shop');
  assert.equal(labels['com.docker.compose.service'], 'web');
  assert.equal(labels['com.docker.compose.container-number'], '2');
  assert.equal(labels['berth.config-hash'], 'h123');
});

test('first network at create with service name, aliases and container name; the rest connected later', () => {
  const web = service('web', { networks: { front: { aliases: ['www'] }, back: { aliases: [], ipv4_address: '10.9.0.5' } } });
  const model = stackModel('shop', [web], { networks: { front: network('shop', 'front'), back: network('shop', 'back', { name: 'shared-back' }) } });
  const s = spec(web, model);
  assert.equal(s.create.HostConfig!.NetworkMode, 'shop_front');
  assert.deepEqual(s.create.NetworkingConfig, { EndpointsConfig: { shop_front: { Aliases: ['web', 'www', 'shop-web-1'] } } });
  assert.deepEqual(s.extraNetworks, [{ name: 'shared-back', aliases: ['web', 'shop-web-1'], ipv4: '10.9.0.5', ipv6: undefined }]);
});

test('network_mode replaces networks; service:NAME points at that service\'s first container', () => {
  assert.equal(spec(service('a', { network_mode: 'host', networks: {} })).create.HostConfig!.NetworkMode, 'host');
  const s = spec(service('a', { network_mode: 'service:vpn', networks: {} }));
  assert.equal(s.create.HostConfig!.NetworkMode, 'container:shop-vpn-1');
  assert.equal(s.create.NetworkingConfig, undefined);
  assert.equal(s.fixedHostPorts, false);
  assert.equal(spec(service('b', { network_mode: 'host', networks: {} })).fixedHostPorts, true);
});

test('ports: bindings keep ranges and host ip; exposed ports include expose entries; fixed ports noted', () => {
  const web = service('web', {
    ports: [
      { target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' },
      { target: 53, published: '5353-5354', host_ip: '127.0.0.1', protocol: 'udp', mode: 'host' },
      { target: 9000, protocol: 'tcp', mode: 'ingress' },
    ],
    expose: ['3000', '4000-4001/udp'],
  });
  const s = spec(web);
  assert.deepEqual(s.create.HostConfig!.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353-5354' }],
    '9000/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(Object.keys(s.create.ExposedPorts!).sort(), ['3000/tcp', '4000/udp', '4001/udp', '53/udp', '80/tcp', '9000/tcp']);
  assert.equal(s.fixedHostPorts, true);
  const rangeOnly = service('w', { ports: [{ target: 80, published: '8080-8089', protocol: 'tcp', mode: 'ingress' }] });
  assert.equal(spec(rangeOnly).fixedHostPorts, false);
});

test('mounts: volume keys resolve to the stack volume name; binds that may create the host path use Binds', () => {
  const svc = service('db', {
    volumes: [
      { type: 'volume', source: 'data', target: '/data', read_only: false, nocopy: true },
      { type: 'volume', target: '/anon', read_only: false, nocopy: false },
      { type: 'bind', source: '/srv/conf', target: '/conf', read_only: true, create_host_path: false },
      { type: 'bind', source: '/srv/new', target: '/new', read_only: true, create_host_path: true },
      { type: 'tmpfs', target: '/tmp', size_bytes: 1048576, mode: 0o1777 },
    ],
  });
  const model = stackModel('shop', [svc], { volumes: { data: volume('shop', 'data', { name: 'precious' }) } });
  const hc = spec(svc, model).create.HostConfig!;
  assert.deepEqual(hc.Mounts, [
    { Type: 'volume', Source: 'precious', Target: '/data', ReadOnly: false, VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Source: '', Target: '/anon', ReadOnly: false },
    { Type: 'bind', Source: '/srv/conf', Target: '/conf', ReadOnly: true },
    { Type: 'tmpfs', Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
  ]);
  assert.deepEqual(hc.Binds, ['/srv/new:/new:ro']);
});

test('host config: restart, caps, devices, logging, ulimits, sysctls, init, limits, extra hosts', () => {
  const svc = service('w', {
    restart: 'on-failure:3', cap_add: ['NET_ADMIN'], cap_drop: ['ALL'], privileged: true,
    devices: [{ source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' }],
    logging: { driver: 'local', options: { 'max-size': '10m' } },
    ulimits: { nofile: { soft: 1024, hard: 2048 } }, sysctls: { 'net.core.somaxconn': '1024' }, init: true,
    mem_limit_bytes: 268435456, cpus: 0.5, extra_hosts: ['db=10.0.0.2', 'v6:::1'],
  });
  const hc = spec(svc).create.HostConfig!;
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual([hc.CapAdd, hc.CapDrop, hc.Privileged], [['NET_ADMIN'], ['ALL'], true]);
  assert.deepEqual(hc.Devices, [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }]);
  assert.deepEqual(hc.LogConfig, { Type: 'local', Config: { 'max-size': '10m' } });
  assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(hc.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.equal(hc.Init, true);
  assert.equal(hc.Memory, 268435456);
  assert.equal(hc.NanoCpus, 500_000_000);
  assert.deepEqual(hc.ExtraHosts, ['db:10.0.0.2', 'v6:::1']);
  assert.deepEqual(spec(service('x', { restart: 'always' })).create.HostConfig!.RestartPolicy, { Name: 'always' });
});

test('process settings and a healthcheck in nanoseconds', () => {
  const svc = service('w', {
    command: ['httpd', '-f'], entrypoint: ['/bin/sh', '-c'], user: '1000:1000', working_dir: '/app', hostname: 'w1',
    tty: true, stdin_open: true, stop_signal: 'SIGINT', stop_grace_period_ms: 1500,
    healthcheck: { test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1/'], interval_ms: 1000, timeout_ms: 500, retries: 3, start_period_ms: 2000 },
  });
  const c = spec(svc).create;
  assert.deepEqual([c.Cmd, c.Entrypoint, c.User, c.WorkingDir, c.Hostname, c.Tty, c.OpenStdin], [['httpd', '-f'], ['/bin/sh', '-c'], '1000:1000', '/app', 'w1', true, true]);
  assert.equal(c.StopSignal, 'SIGINT');
  assert.equal(c.StopTimeout, 2);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1/'], Interval: 1e9, Timeout: 5e8, Retries: 3, StartPeriod: 2e9 });
  assert.equal(spec(svc).healthcheck, true);
  const off = spec(service('w', { healthcheck: { test: ['NONE'] } }));
  assert.deepEqual(off.create.Healthcheck, { Test: ['NONE'], Interval: undefined, Timeout: undefined, Retries: undefined, StartPeriod: undefined });
  assert.equal(off.healthcheck, false);
});

test('configs and secrets become files with default targets and modes', () => {
  const svc = service('w', {
    configs: [{ source: 'site', target: '/etc/site.conf' }, { source: 'motd', target: '' }],
    secrets: [{ source: 'token', target: 'api-token', uid: '1000', gid: '1000', mode: 0o440 }, { source: 'key', target: '' }],
  });
  const s = spec(svc, undefined, { site: 'a=1', motd: 'hi', token: 's3cret', key: 'k' });
  assert.deepEqual(s.files, [
    { path: '/etc/site.conf', content: 'a=1', mode: 0o444, uid: 0, gid: 0 },
    { path: '/motd', content: 'hi', mode: 0o444, uid: 0, gid: 0 },
    { path: '/run/secrets/api-token', content: 's3cret', mode: 0o440, uid: 1000, gid: 1000 },
    { path: '/run/secrets/key', content: 'k', mode: 0o444, uid: 0, gid: 0 },
  ]);
  assert.throws(() => spec(service('w', { configs: [{ source: 'gone', target: '/x' }] })), /config gone has no content/);
});

test('the same input gives the same body', () => {
  const svc = service('w', { environment: { B: '2', A: '1' } });
  assert.deepEqual(spec(svc), spec(svc));
});

test('tarFiles writes entries with path, mode and owner that tar-stream reads back', async () => {
  const buf = await tarFiles([{ path: '/run/secrets/x', content: 'abc', mode: 0o400, uid: 1, gid: 2 }]);
  const seen: { name: string; mode?: number; uid?: number; gid?: number; body: string }[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (c) => parts.push(c as Buffer));
      stream.on('end', () => { seen.push({ name: h.name, mode: h.mode, uid: h.uid, gid: h.gid, body: Buffer.concat(parts).toString() }); next(); });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(buf);
  await done;
  assert.deepEqual(seen, [{ name: 'run/secrets/x', mode: 0o400, uid: 1, gid: 2, body: 'abc' }]);
});

test('registry of an image ref, and auth from the environment (missing variable named, value never)', async () => {
  const { authFor, registryOf } = await import('../../engines/docker/pull.ts');
  assert.equal(registryOf('nginx:1'), 'docker.io');
  assert.equal(registryOf('library/nginx'), 'docker.io');
  assert.equal(registryOf('ghcr.io/acme/app:2'), 'ghcr.io');
  assert.equal(registryOf('localhost:5000/app'), 'localhost:5000');
  const regs = [{ server: 'https://ghcr.io/', username: 'bot', passwordEnv: 'BT_TEST_GHCR' }];
  assert.equal(authFor('nginx:1', regs), undefined);
  delete process.env.BT_TEST_GHCR;
  assert.throws(() => authFor('ghcr.io/acme/app:2', regs), /environment variable BT_TEST_GHCR is not set/);
  process.env.BT_TEST_GHCR = 'pw';
  assert.deepEqual(authFor('ghcr.io/acme/app:2', regs), { username: 'bot', password: 'pw', serveraddress: 'ghcr.io' });
  delete process.env.BT_TEST_GHCR;
});
