// Compose fidelity (#10) without an engine: the single-host keys from YAML to the create body, same-file extends,
// profiles, implicit start order of shared namespaces, placement refusals and the plan following a replaced peer.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeCompose } from '../../catalog/normalize.ts';
import { activateProfiles } from '../../catalog/profiles.ts';
import { ValidationError } from '../../lib/errors.ts';
import { buildContainerSpec } from '../../engines/standalone/container-spec.ts';
import { planStack } from '../../engines/standalone/plan.ts';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { placeStack } from '../../engines/standalone/placement.ts';
import { resolveBindSource } from '../../engines/standalone/host-inputs.ts';
import type { StackModel } from '../../catalog/model.ts';
import { readFileSync } from 'node:fs';
import { DOC_FILE, withCurrentTable } from '../../catalog/compose-keys-doc.ts';
import { container, desired, host, observed, observedHost } from './controller-fixtures.ts';

const norm = (doc: unknown): StackModel => normalizeCompose(doc, 'shop', 'docker-compose.yml');

function problems(doc: unknown): string[] {
  try {
    norm(doc);
  } catch (e) {
    assert.ok(e instanceof ValidationError);
    return e.problems.map((p) => `${p.field}: ${p.message}`);
  }
  return assert.fail('should have failed');
}

function create(model: StackModel, service: string) {
  const d = desired(model, [host('h1')]);
  return buildContainerSpec({ stack: 'shop', model, service: d.hosts.h1.services[service], number: 1, hostReplicas: d.hosts.h1.replicas }).create;
}

describe('single-host keys', () => {
  const model = norm({
    services: {
      vpn: { image: 'vpn:1', cap_add: ['NET_ADMIN'], dns: '10.0.0.53', dns_search: ['corp'], dns_opt: ['ndots:2'] },
      app: {
        image: 'app:1', network_mode: 'service:vpn', ipc: 'service:vpn', pid: 'host', volumes_from: ['vpn:ro', 'container:legacy'],
        security_opt: ['no-new-privileges:true'], read_only: true, shm_size: '64m', pids_limit: 100, uts: 'host',
        mem_reservation: '32m', mem_swappiness: 10, group_add: ['audio', 1001], cgroup_parent: 'berth.slice', device_cgroup_rules: ['c 1:3 mr'],
        storage_opt: { size: '1G' }, domainname: 'corp.example', platform: 'linux/amd64', volumes: ['./logs:/logs:z,ro'],
      },
      web: { image: 'web:1', container_name: 'shop-frontend', links: ['vpn:gateway', 'vpn'], external_links: ['legacy-db:db'], mac_address: '02:42:ac:11:00:99' },
    },
  });

  test('each key reaches the create body', () => {
    const app = create(model, 'app');
    const hc = app.HostConfig!;
    assert.equal(hc.NetworkMode, 'container:shop-vpn-1');
    assert.equal(hc.IpcMode, 'container:shop-vpn-1');
    assert.equal(hc.PidMode, 'host');
    assert.deepEqual(hc.VolumesFrom, ['shop-vpn-1:ro', 'legacy:rw']);
    assert.deepEqual(hc.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(hc.ReadonlyRootfs, true);
    assert.equal(hc.ShmSize, 64 * 1024 ** 2);
    assert.equal(hc.PidsLimit, 100);
    assert.equal(hc.UTSMode, 'host');
    assert.equal(hc.MemoryReservation, 32 * 1024 ** 2);
    assert.equal(hc.MemorySwappiness, 10);
    assert.deepEqual(hc.GroupAdd, ['audio', '1001']);
    assert.equal(hc.CgroupParent, 'berth.slice');
    assert.deepEqual(hc.DeviceCgroupRules, ['c 1:3 mr']);
    assert.deepEqual(hc.StorageOpt, { size: '1G' });
    assert.deepEqual(hc.Binds, ['./logs:/logs:ro,z']);
    assert.equal(app.Domainname, 'corp.example');
    assert.equal((app as { platform?: string }).platform, 'linux/amd64');
    const vpn = create(model, 'vpn').HostConfig!;
    assert.deepEqual([vpn.Dns, vpn.DnsSearch, vpn.DnsOptions], [['10.0.0.53'], ['corp'], ['ndots:2']]);
  });

  test('container_name names the container; links become per-network links to the peer\'s container', () => {
    const web = create(model, 'web');
    assert.equal(web.name, 'shop-frontend');
    assert.equal(web.MacAddress, '02:42:ac:11:00:99');
    const ep = web.NetworkingConfig!.EndpointsConfig!.shop_default as { Links?: string[]; Aliases?: string[] };
    assert.deepEqual(ep.Links, ['shop-vpn-1:gateway', 'shop-vpn-1:vpn', 'legacy-db:db']);
    assert.deepEqual(ep.Aliases, ['web', 'shop-frontend']);
  });

  test('a shared namespace, volumes_from and links start after their peer, without being written in depends_on', () => {
    assert.deepEqual(model.services.app.depends_on, { vpn: { condition: 'service_started', required: true, restart: true } });
    assert.deepEqual(model.services.web.depends_on, { vpn: { condition: 'service_started', required: true, restart: false } });
  });

  test('unset keys leave the create body as before', () => {
    const plain = create(norm({ services: { a: { image: 'a:1' } } }), 'a');
    for (const k of ['Dns', 'SecurityOpt', 'ShmSize', 'PidMode', 'IpcMode', 'VolumesFrom', 'GroupAdd']) assert.ok(!(k in plain.HostConfig!), k);
  });

  test('bad values are problems naming the service and key', () => {
    const list = problems({ services: { a: { image: 'a', ipc: 'bogus', uts: 'private', mem_swappiness: 200, mac_address: 'nope', volumes_from: ['x:rx'], container_name: '-bad' } } });
    for (const key of ['ipc', 'uts', 'mem_swappiness', 'mac_address', 'volumes_from[0]', 'container_name']) {
      assert.ok(list.some((p) => p.startsWith(`services.a.${key}:`)), `${key} in ${list.join('\n')}`);
    }
    assert.match(problems({ services: { a: { image: 'a', network_mode: 'service:ghost' } } }).join(), /network_mode names unknown service "ghost"/);
  });
});

describe('same-file extends', () => {
  test('merges mappings, replaces commands, merges volumes by target, and chains', () => {
    const m = norm({
      services: {
        base: { image: 'base:1', command: ['a'], environment: ['A=1', 'B=2'], labels: { x: '1' }, volumes: ['/srv/a:/data', '/srv/c:/c'], dns: ['1.1.1.1'] },
        mid: { extends: 'base', environment: { B: '3' }, volumes: ['/srv/b:/data'] },
        top: { extends: { service: 'mid' }, command: 'b c', dns: ['8.8.8.8'] },
      },
    });
    const top = m.services.top;
    assert.equal(top.image, 'base:1');
    assert.deepEqual(top.command, ['b', 'c']);
    assert.deepEqual(top.environment, { A: '1', B: '3' });
    assert.deepEqual(top.volumes.map((v) => (v.type === 'bind' ? `${v.source}:${v.target}` : v.target)), ['/srv/b:/data', '/srv/c:/c']);
    assert.deepEqual(top.dns, ['1.1.1.1', '8.8.8.8']);
  });

  test('cycles and unknown bases are problems', () => {
    assert.match(problems({ services: { a: { image: 'a', extends: 'b' }, b: { image: 'b', extends: 'a' } } }).join(), /forms a cycle/);
    assert.match(problems({ services: { a: { image: 'a', extends: 'nope' } } }).join(), /"nope" is not a service/);
  });
});

describe('value-less environment keys', () => {
  test('are kept as keys to fill, not dropped', () => {
    const m = norm({ services: { a: { image: 'a', environment: ['TOKEN', 'SET=1'] }, b: { image: 'b', environment: { TOKEN: null, X: '' } } } });
    assert.deepEqual(m.services.a.environment_from_dotenv, ['TOKEN']);
    assert.deepEqual(m.services.a.environment, { SET: '1' });
    assert.deepEqual(m.services.b.environment_from_dotenv, ['TOKEN']);
    assert.deepEqual(m.services.b.environment, { X: '' });
  });
});

describe('depends_on service_healthy', () => {
  test('on a service whose healthcheck is disabled is refused naming both', () => {
    const list = problems({ services: { web: { image: 'w', depends_on: { db: { condition: 'service_healthy' } } }, db: { image: 'd', healthcheck: { disable: true } } } });
    assert.match(list.join(), /services\.web\.depends_on\.db: service "web": .*"db" to be healthy, but service "db" disables its healthcheck/);
  });
});

describe('profiles', () => {
  const m = norm({
    services: {
      app: { image: 'a' },
      debug: { image: 'd', profiles: ['debug'], depends_on: ['app'] },
      needsTools: { image: 'n', profiles: ['ops'], depends_on: ['tools'] },
      tools: { image: 't', profiles: ['tools'] },
    },
  });
  test('services with profiles run only when one is active', () => {
    assert.deepEqual(Object.keys(activateProfiles(m, [], 's.yml').services).sort(), ['app']);
    assert.deepEqual(Object.keys(activateProfiles(m, ['debug'], 's.yml').services).sort(), ['app', 'debug']);
    assert.deepEqual(Object.keys(activateProfiles(m, ['*'], 's.yml').services).sort(), ['app', 'debug', 'needsTools', 'tools']);
  });
  test('a running service needing one left out is an error naming both', () => {
    assert.throws(() => activateProfiles(m, ['ops'], 's.yml'), /service "needsTools" needs service "tools", which runs only with profile tools/);
  });
});

describe('placement of services that must share a host', () => {
  const h1 = host('h1', { role: 'vpn' });
  const h2 = host('h2', { role: 'app' });
  test('a shared namespace across hosts is a plan error naming both services and hosts', () => {
    const m = norm({
      services: {
        vpn: { image: 'v', deploy: { placement: { constraints: ['node.labels.role == vpn'] } } },
        app: { image: 'a', network_mode: 'service:vpn', deploy: { placement: { constraints: ['node.labels.role == app'] } } },
      },
    });
    assert.deepEqual(placeStack(m, [h1, h2]).errors, [
      'service "app" (network_mode: service:vpn) is placed on host h2, but service "vpn" runs on h1; both must share a host: give them the same placement constraints',
    ]);
  });
  test('container_name with more than one replica is refused', () => {
    const m = norm({ services: { a: { image: 'a', container_name: 'fixed', deploy: { replicas: 2 } } } });
    assert.match(placeStack(m, [h1, h2]).errors.join(), /container_name "fixed" names one container, but the service has 2 replicas \(on h1, h2\)/);
  });
});

describe('plan', () => {
  test('a service sharing a replaced peer\'s network namespace is recreated after it', () => {
    const before = norm({ services: { vpn: { image: 'vpn:1' }, app: { image: 'app:1', network_mode: 'service:vpn' } } });
    const after = norm({ services: { vpn: { image: 'vpn:2' }, app: { image: 'app:1', network_mode: 'service:vpn' } } });
    const h1 = host('h1');
    const o = observed('shop', [observedHost('h1', [container('shop', before.services.vpn, 1, { from: before }), container('shop', before.services.app, 1, { from: before })], ['shop_default'])]);
    const ops = planStack(desired(after, [h1]), o).hosts[0].operations.map((op) => `${op.kind} ${'service' in op ? op.service : ''}: ${op.cause}`);
    assert.deepEqual(ops, ['recreate vpn: config changed: image', 'recreate app: joins vpn, which is replaced: it must join the new container']);
  });
});

test('relative bind sources resolve against the environment root; absolute ones stay', () => {
  assert.equal(resolveBindSource('/env', './data'), '/env/data');
  assert.equal(resolveBindSource('/env', '../shared/x'), '/shared/x');
  assert.equal(resolveBindSource('/env', '/abs'), '/abs');
});

test('docs/compose.md lists every key as the code reads or refuses it (npm run docs:compose rewrites it)', () => {
  const doc = readFileSync(DOC_FILE, 'utf8');
  assert.equal(doc, withCurrentTable(doc), 'docs/compose.md is out of date: run npm run docs:compose');
  assert.match(doc, /\| `services\.\*\.container_name` \| supported: one replica/);
  assert.match(doc, /\| `services\.\*\.extends\.file` \| refused: /);
});

test('the plan shows what apply decides: pulls, start-first falling back to stop-first', () => {
  const before = norm({ services: { web: { image: 'web:1', ports: ['8080:80'], deploy: { update_config: { order: 'start-first' } } } } });
  const after = norm({ services: { web: { image: 'web:2', ports: ['8080:80'], deploy: { update_config: { order: 'start-first' } } } } });
  const h = observedHost('h1', [container('shop', before.services.web, 1, { from: before })], ['shop_default']);
  const plan = planStack(desired(after, [host('h1')]), observed('shop', [{ ...h, images: { 'web:1': 'sha256:aaa' } }]));
  assert.deepEqual(plan.hosts[0].notes, [
    'pull web:2 for web: not on the host',
    'web: start-first is impossible (fixed host ports, host network or container_name): the old container stops first',
  ]);
  assert.match(formatPlan(plan), /\n {4}note: pull web:2 for web: not on the host\n/);
});
