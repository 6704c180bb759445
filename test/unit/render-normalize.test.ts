import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { normalizeCompose, UNSUPPORTED_KEYS } from '../../catalog/normalize.ts';
import { SERVICE_KEYS } from '../../catalog/normalize-service.ts';
import { parseBytes, parseDuration, shellSplit } from '../../catalog/normalize-values.ts';
import { parsePortSpec } from '../../catalog/normalize-ports.ts';
import { modelToCompose, modelToYaml, yamlToModel } from '../../catalog/compose-yaml.ts';
import { validateCompose } from '../../catalog/schema.ts';
import { renderVersion } from '../../catalog/render.ts';
import { ValidationError, type Problem } from '../../lib/errors.ts';
import type { ServiceModel, StackModel } from '../../catalog/model.ts';
import type { Template, TemplateVersion } from '../../catalog/types.ts';

const FILE = 'templates/t/0/docker-compose.yml';

const norm = (doc: unknown): StackModel => normalizeCompose(doc, 'demo', FILE);
const svc = (extra: Record<string, unknown>, top: Record<string, unknown> = {}): ServiceModel =>
  norm({ services: { web: { image: 'nginx', ...extra } }, ...top }).services.web;

function problems(doc: unknown): Problem[] {
  try {
    norm(doc);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.code, 'COMPOSE_INVALID');
    return err.problems;
  }
  return assert.fail('normalization should have failed');
}

const problemsOf = (extra: Record<string, unknown>, top: Record<string, unknown> = {}): Problem[] =>
  problems({ services: { web: { image: 'nginx', ...extra } }, ...top });

function one(list: Problem[], field: string, message: RegExp): void {
  const found = list.filter((p) => p.field === field);
  assert.equal(found.length, 1, `one problem at ${field}: ${JSON.stringify(list)}`);
  assert.match(found[0].message, message);
  assert.equal(found[0].file, FILE);
}

describe('commands and maps', () => {
  test('command and entrypoint strings are split like a shell, respecting quotes', () => {
    const s = svc({ command: `sh -c 'echo "a b"; exit 0' "x y" z\\ w ""`, entrypoint: ['/bin/tini', '--'] });
    assert.deepEqual(s.command, ['sh', '-c', 'echo "a b"; exit 0', 'x y', 'z w', '']);
    assert.deepEqual(s.entrypoint, ['/bin/tini', '--']);
    assert.deepEqual(shellSplit('a "b\\"c" \'d\\e\''), ['a', 'b"c', 'd\\e']);
    one(problemsOf({ command: 'echo "oops' }), 'services.web.command', /unterminated " quote/);
  });

  test('environment: list and map, values as strings, bare names dropped', () => {
    assert.deepEqual(svc({ environment: ['A=1', 'B=x=y', 'BARE', 'E='] }).environment, { A: '1', B: 'x=y', E: '' });
    assert.deepEqual(svc({ environment: { N: 1, T: true, S: 's', NUL: null } }).environment, { N: '1', T: 'true', S: 's' });
  });

  test('labels and sysctls lists become maps', () => {
    const s = svc({ labels: ['a=1', 'b'], sysctls: ['net.core.somaxconn=1024'] });
    assert.deepEqual(s.labels, { a: '1', b: '' });
    assert.deepEqual(s.sysctls, { 'net.core.somaxconn': '1024' });
    assert.deepEqual(svc({ sysctls: { 'net.ipv4.ip_forward': 1 } }).sysctls, { 'net.ipv4.ip_forward': '1' });
  });

  test('extra_hosts as list or map become host:ip', () => {
    assert.deepEqual(svc({ extra_hosts: ['a:10.0.0.1', 'b=10.0.0.2', 'c=::1'] }).extra_hosts, ['a:10.0.0.1', 'b:10.0.0.2', 'c:::1']);
    assert.deepEqual(svc({ extra_hosts: { d: '10.0.0.4', e: ['10.0.0.5', '10.0.0.6'] } }).extra_hosts, ['d:10.0.0.4', 'e:10.0.0.5', 'e:10.0.0.6']);
    one(problemsOf({ extra_hosts: ['nohost'] }), 'services.web.extra_hosts[0]', /HOST:IP/);
  });
});

describe('ports', () => {
  test('short syntax forms', () => {
    const tcp = { protocol: 'tcp', mode: 'ingress' } as const;
    assert.deepEqual(svc({ ports: ['80', 9000, '8080:80', '127.0.0.1:8443:443/udp', '[::1]:53:53/udp', '127.0.0.1::81'] }).ports, [
      { target: 80, published: undefined, ...tcp },
      { target: 9000, published: undefined, ...tcp },
      { target: 80, published: '8080', ...tcp },
      { target: 443, published: '8443', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' },
      { target: 53, published: '53', host_ip: '::1', protocol: 'udp', mode: 'ingress' },
      { target: 81, published: undefined, host_ip: '127.0.0.1', ...tcp },
    ]);
  });

  test('ranges expand into one port per container port', () => {
    assert.deepEqual(svc({ ports: ['8080-8081:80-81'] }).ports.map((p) => [p.published, p.target]), [['8080', 80], ['8081', 81]]);
    assert.deepEqual(svc({ ports: ['8080-8081:80'] }).ports.map((p) => [p.published, p.target]), [['8080-8081', 80]]);
    assert.deepEqual(svc({ ports: ['3000-3001'] }).ports.map((p) => [p.published, p.target]), [[undefined, 3000], [undefined, 3001]]);
    assert.equal(typeof parsePortSpec('8080-8082:80-81'), 'string');
  });

  test('long syntax', () => {
    assert.deepEqual(svc({ ports: [{ target: 80, published: '8080', host_ip: '0.0.0.0', mode: 'host' }, { target: 53, protocol: 'udp' }] }).ports, [
      { target: 80, published: '8080', host_ip: '0.0.0.0', protocol: 'tcp', mode: 'host' },
      { target: 53, published: undefined, protocol: 'udp', mode: 'ingress' },
    ].map((p) => Object.fromEntries(Object.entries(p))) as never);
  });

  test('invalid ports are problems', () => {
    const list = problemsOf({ ports: ['80:80:80:80', '99999:80', '80/quic', { published: 80 }] });
    one(list, 'services.web.ports[0]', /not a valid port mapping/);
    one(list, 'services.web.ports[1]', /between 1 and 65535/);
    one(list, 'services.web.ports[2]', /unknown protocol "quic"/);
    one(list, 'services.web.ports[3].target', /needs a target/);
  });

  test('expose keeps strings', () => {
    assert.deepEqual(svc({ expose: [3000, '8000-8010', '53/udp'] }).expose, ['3000', '8000-8010', '53/udp']);
  });
});

describe('mounts', () => {
  test('short volume syntax', () => {
    const s = svc({ volumes: ['data:/var/lib/data:ro', './site:/usr/share/nginx/html', '/etc/ssl:/etc/ssl:rw', '/cache', 'data:/x:nocopy'] }, { volumes: { data: null } });
    assert.deepEqual(s.volumes, [
      { type: 'volume', source: 'data', target: '/var/lib/data', read_only: true, nocopy: false },
      { type: 'bind', source: './site', target: '/usr/share/nginx/html', read_only: false, create_host_path: true },
      { type: 'bind', source: '/etc/ssl', target: '/etc/ssl', read_only: false, create_host_path: true },
      { type: 'volume', target: '/cache', read_only: false, nocopy: false },
      { type: 'volume', source: 'data', target: '/x', read_only: false, nocopy: true },
    ]);
  });

  test('long volume syntax and tmpfs', () => {
    const s = svc({
      volumes: [
        { type: 'bind', source: './conf', target: '/conf', read_only: true },
        { type: 'volume', source: 'data', target: '/data', volume: { nocopy: true } },
        { type: 'tmpfs', target: '/scratch', tmpfs: { size: '64m' } },
      ],
      tmpfs: ['/run', '/tmp:size=1g,mode=1777'],
    }, { volumes: { data: {} } });
    assert.deepEqual(s.volumes, [
      { type: 'bind', source: './conf', target: '/conf', read_only: true, create_host_path: false },
      { type: 'volume', source: 'data', target: '/data', read_only: false, nocopy: true },
      { type: 'tmpfs', target: '/scratch', size_bytes: 64 * 1024 ** 2 },
      { type: 'tmpfs', target: '/run' },
      { type: 'tmpfs', target: '/tmp', size_bytes: 1024 ** 3, mode: 0o1777 },
    ]);
    assert.deepEqual(svc({ tmpfs: '/run' }).volumes, [{ type: 'tmpfs', target: '/run' }]);
  });

  test('an undeclared named volume, a relative target and options Berth cannot carry are problems', () => {
    const list = problemsOf({ volumes: ['data:/data', 'x:rel', '/a:/b:shared'], tmpfs: ['/t:noexec'] });
    one(list, 'services.web.volumes', /named volume "data" is not declared under the top-level volumes/);
    one(list, 'services.web.volumes[1]', /must be absolute/);
    one(list, 'services.web.volumes[2]', /volume option "shared" is not supported/);
    one(list, 'services.web.tmpfs[0]', /tmpfs option "noexec" is not supported/);
  });

  test('devices', () => {
    assert.deepEqual(svc({ devices: ['/dev/fuse', '/dev/sda:/dev/xvda:r', '/dev/snd:rw'] }).devices, [
      { source: '/dev/fuse', target: '/dev/fuse', permissions: 'rwm' },
      { source: '/dev/sda', target: '/dev/xvda', permissions: 'r' },
      { source: '/dev/snd', target: '/dev/snd', permissions: 'rw' },
    ]);
    one(problemsOf({ devices: ['fuse'] }), 'services.web.devices[0]', /not a device/);
  });
});

describe('networks and dependencies', () => {
  test('no networks means the default network, declared at the top level', () => {
    const m = norm({ services: { web: { image: 'nginx' } } });
    assert.deepEqual(m.services.web.networks, { default: { aliases: [] } });
    assert.deepEqual(m.networks.default, { name: 'demo_default', external: false, driver: 'bridge', driver_opts: {}, internal: false, attachable: false, labels: {} });
  });

  test('network lists become maps; aliases and addresses kept; network_mode means none', () => {
    const m = norm({
      services: {
        web: { image: 'x', networks: ['front', 'back'] },
        api: { image: 'x', networks: { back: { aliases: ['api.local'], ipv4_address: '10.1.0.5' }, front: null } },
        host: { image: 'x', network_mode: 'host' },
      },
      networks: { front: {}, back: { name: 'shared-back' }, ext: { external: true } },
    });
    assert.deepEqual(m.services.web.networks, { front: { aliases: [] }, back: { aliases: [] } });
    assert.deepEqual(m.services.api.networks, { back: { aliases: ['api.local'], ipv4_address: '10.1.0.5' }, front: { aliases: [] } });
    assert.deepEqual(m.services.host.networks, {});
    assert.equal(m.services.host.network_mode, 'host');
    assert.deepEqual(Object.keys(m.networks), ['front', 'back', 'ext']);
    assert.deepEqual([m.networks.front.name, m.networks.back.name, m.networks.ext.name, m.networks.ext.external], ['demo_front', 'shared-back', 'ext', true]);
  });

  test('a service joins its networks in compose\'s order: highest priority first, then by name', () => {
    const m = norm({
      services: {
        web: { image: 'x', networks: ['front', 'back'] },
        api: { image: 'x', networks: { front: { priority: 10 }, back: {}, admin: { priority: -1 } } },
      },
      networks: { front: {}, back: {}, admin: {} },
    });
    assert.deepEqual(Object.keys(m.services.web.networks), ['back', 'front']);
    assert.deepEqual(Object.keys(m.services.api.networks), ['front', 'back', 'admin']);
  });

  test('an undeclared network and networks with network_mode are problems', () => {
    const messages = problemsOf({ networks: ['nope'], network_mode: 'host' }).map((p) => [p.field, p.message]);
    assert.deepEqual(messages, [
      ['services.web.networks', 'service "web": networks: networks and network_mode cannot both be set'],
      ['services.web.networks', 'service "web": networks: network "nope" is not declared under the top-level networks'],
    ]);
  });

  test('depends_on lists become maps with explicit defaults', () => {
    const m = norm({ services: { web: { image: 'x', depends_on: ['db'] }, api: { image: 'x', depends_on: { db: { condition: 'service_healthy', restart: true } } }, db: { image: 'x' } } });
    assert.deepEqual(m.services.web.depends_on, { db: { condition: 'service_started', required: true, restart: false } });
    assert.deepEqual(m.services.api.depends_on, { db: { condition: 'service_healthy', required: true, restart: true } });
  });

  test('an unknown dependency and a cycle are problems', () => {
    const list = problems({ services: { a: { image: 'x', depends_on: ['b', 'ghost'] }, b: { image: 'x', depends_on: ['c'] }, c: { image: 'x', depends_on: ['a'] }, d: { image: 'x', depends_on: ['d'] } } });
    assert.deepEqual(list.map((p) => [p.field, p.message]), [
      ['services.a.depends_on', 'service "a": depends_on: "ghost" is not a service of this document'],
      ['services.a.depends_on', 'service "a": depends_on: forms a cycle: a → b → c → a'],
      ['services.d.depends_on', 'service "d": depends_on: forms a cycle: d → d'],
    ]);
  });
});

describe('durations, sizes and the rest', () => {
  test('durations and sizes', () => {
    assert.deepEqual(['1m30s', '500ms', '10s', '1h', '1.5s', '0', '2h3m'].map(parseDuration), [90_000, 500, 10_000, 3_600_000, 1500, 0, 7_380_000]);
    assert.deepEqual(['10', 's', '1d', '-1s'].map(parseDuration), [undefined, undefined, undefined, undefined]);
    assert.deepEqual(['512m', '1g', 1024, '1024', '1.5GB', '100k', '2MiB'].map(parseBytes), [512 * 1024 ** 2, 1024 ** 3, 1024, 1024, 1.5 * 1024 ** 3, 102_400, 2 * 1024 ** 2]);
    assert.equal(parseBytes('lots'), undefined);
  });

  test('healthcheck forms', () => {
    assert.deepEqual(svc({ healthcheck: { test: 'curl -f http://localhost', interval: '1m30s', timeout: '500ms', retries: 3, start_period: '10s', start_interval: '1s' } }).healthcheck, {
      test: ['CMD-SHELL', 'curl -f http://localhost'], interval_ms: 90_000, timeout_ms: 500, retries: 3, start_period_ms: 10_000, start_interval_ms: 1000,
    });
    assert.deepEqual(svc({ healthcheck: { disable: true } }).healthcheck, { test: ['NONE'] });
    assert.deepEqual(svc({ healthcheck: { test: ['CMD', 'true'] } }).healthcheck, { test: ['CMD', 'true'] });
    assert.deepEqual(svc({ healthcheck: { interval: '5s' } }).healthcheck, { test: [], interval_ms: 5000 });
    const list = problemsOf({ healthcheck: { test: ['curl'], interval: '5 seconds' } });
    one(list, 'services.web.healthcheck.test', /starts with NONE, CMD or CMD-SHELL/);
    one(list, 'services.web.healthcheck.interval', /not a duration/);
  });

  test('defaults are explicit', () => {
    const s = svc({});
    assert.equal(s.restart, 'no');
    assert.equal(s.pull_policy, 'missing');
    assert.deepEqual([s.privileged, s.tty, s.stdin_open, s.init], [false, false, false, false]);
    assert.deepEqual(s.deploy, {
      mode: 'replicated', replicas: 1, placement: { constraints: [] }, labels: {},
      update_config: { parallelism: 1, delay_ms: 0, order: 'stop-first', failure_action: 'rollback', monitor_ms: 60_000 },
    });
  });

  test('memory and cpu limits from either place, agreeing', () => {
    assert.deepEqual([svc({ mem_limit: '512m', cpus: 0.5 }).mem_limit_bytes, svc({ mem_limit: '512m' }).cpus], [512 * 1024 ** 2, undefined]);
    const s = svc({ deploy: { resources: { limits: { memory: '1.5GB', cpus: '2' } } } });
    assert.deepEqual([s.mem_limit_bytes, s.cpus], [1.5 * 1024 ** 3, 2]);
    assert.equal(svc({ mem_limit: 1024 }).mem_limit_bytes, 1024);
    one(problemsOf({ mem_limit: '1g', deploy: { resources: { limits: { memory: '2g' } } } }), 'services.web.mem_limit', /disagree/);
    one(problemsOf({ mem_limit: 'lots' }), 'services.web.mem_limit', /not a size/);
  });

  test('stop_grace_period, ulimits, restart, pull_policy, cap lists', () => {
    const s = svc({ stop_grace_period: '1m', ulimits: { nofile: { soft: 1024, hard: 2048 }, nproc: 512 }, restart: 'on-failure:3', cap_add: ['NET_ADMIN'] });
    assert.equal(s.stop_grace_period_ms, 60_000);
    assert.deepEqual(s.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } });
    assert.equal(s.restart, 'on-failure:3');
    assert.deepEqual([s.cap_add, s.cap_drop], [['NET_ADMIN'], []]);
    one(problemsOf({ restart: 'sometimes' }), 'services.web.restart', /restart must be/);
    one(problemsOf({ pull_policy: 'build' }), 'services.web.pull_policy', /never builds/);
    one(problemsOf({ ulimits: { nofile: { soft: 10, hard: 5 } } }), 'services.web.ulimits.nofile', /above the hard limit/);
  });

  test('deploy.restart_policy maps onto restart', () => {
    assert.equal(svc({ deploy: { restart_policy: { condition: 'any' } } }).restart, 'always');
    assert.equal(svc({ deploy: { restart_policy: { condition: 'none' } } }).restart, 'no');
    assert.equal(svc({ deploy: { restart_policy: { condition: 'on-failure', max_attempts: 5 } } }).restart, 'on-failure:5');
    one(problemsOf({ restart: 'always', deploy: { restart_policy: { condition: 'none' } } }), 'services.web.deploy.restart_policy', /disagree/);
    const timed = svc({ deploy: { restart_policy: { condition: 'any', delay: '5s', window: '1m' } } });
    assert.deepEqual([timed.restart, timed.restart_delay_ms, timed.restart_window_ms], ['always', 5000, 60_000]);
  });

  test('boolean and number strings are read as compose reads them', () => {
    const s = svc({ tty: 'true', init: 'yes', deploy: { replicas: '3', update_config: { parallelism: '2' } } });
    assert.deepEqual([s.tty, s.init, s.deploy.replicas, s.deploy.update_config.parallelism], [true, true, 3, 2]);
    one(problemsOf({ privileged: 'maybe' }), 'services.web.privileged', /true or false/);
  });
});

describe('deploy', () => {
  test('replicas, scale, placement and update_config', () => {
    const d = svc({
      deploy: {
        replicas: 3, labels: ['tier=web'],
        placement: { constraints: ['node.labels.role == web', 'node.labels.zone!=b', 'node.hostname == h1'] },
        update_config: { parallelism: 2, delay: '10s', order: 'start-first', failure_action: 'pause', monitor: '30s' },
      },
    }).deploy;
    assert.equal(d.replicas, 3);
    assert.deepEqual(d.labels, { tier: 'web' });
    assert.deepEqual(d.placement.constraints, [
      { label: 'role', op: '==', value: 'web', text: 'node.labels.role == web' },
      { label: 'zone', op: '!=', value: 'b', text: 'node.labels.zone!=b' },
      { label: 'hostname', op: '==', value: 'h1', text: 'node.hostname == h1' },
    ]);
    assert.deepEqual(d.update_config, { parallelism: 2, delay_ms: 10_000, order: 'start-first', failure_action: 'pause', monitor_ms: 30_000 });
    assert.equal(svc({ scale: 4 }).deploy.replicas, 4);
    assert.deepEqual(svc({ deploy: { mode: 'global' } }).deploy.mode, 'global');
  });

  test('unsupported constraints and disagreements are problems', () => {
    one(problemsOf({ deploy: { placement: { constraints: ['node.role == manager'] } } }), 'services.web.deploy.placement.constraints[0]', /constraint "node.role == manager" is not supported/);
    one(problemsOf({ scale: 2, deploy: { replicas: 3 } }), 'services.web.scale', /disagree/);
    one(problemsOf({ deploy: { mode: 'replicated-job' } }), 'services.web.deploy.mode', /replicated" or "global/);
  });

  test('placement preferences and max_replicas_per_node are kept, and absent unless written', () => {
    const p = svc({ deploy: { placement: { preferences: [{ spread: 'node.labels.zone' }, { spread: ' node.labels.rack ' }], max_replicas_per_node: '2' } } }).deploy.placement;
    assert.deepEqual(p, { constraints: [], preferences: [{ spread: 'node.labels.zone' }, { spread: 'node.labels.rack' }], max_replicas_per_node: 2 });
    assert.deepEqual(svc({}).deploy.placement, { constraints: [] });
    // 0 is compose's "no limit".
    assert.deepEqual(svc({ deploy: { placement: { max_replicas_per_node: 0 } } }).deploy.placement, { constraints: [] });
    one(problemsOf({ deploy: { placement: { preferences: [{ spread: 'node.role' }] } } }), 'services.web.deploy.placement.preferences[0]', /preference \{"spread":"node.role"\} is not supported; write \{ spread: node.labels.KEY \}/);
    one(problemsOf({ deploy: { placement: { preferences: 'node.labels.zone' } } }), 'services.web.deploy.placement.preferences', /must be a list/);
    one(problemsOf({ deploy: { placement: { max_replicas_per_node: -1 } } }), 'services.web.deploy.placement.max_replicas_per_node', /cannot be negative/);
    one(problemsOf({ deploy: { mode: 'global', placement: { max_replicas_per_node: 1 } } }), 'services.web.deploy.placement.max_replicas_per_node', /no meaning in global mode/);
  });
});

describe('top-level objects', () => {
  test('volumes, secrets and configs', () => {
    const m = norm({
      services: { web: { image: 'x', secrets: ['db_pw', { source: 'api_key', target: 'key', uid: '1000', mode: 0o440 }], configs: ['site', { source: 'nginx', target: '/etc/nginx/nginx.conf' }] } },
      volumes: { data: null, named: { name: 'keep-me' }, ext: { external: true } },
      secrets: { db_pw: { file: './secrets/db.txt' }, api_key: { environment: 'API_KEY' } },
      configs: { site: { content: 'hello' }, nginx: { file: 'nginx.conf', name: 'fixed' } },
    });
    assert.deepEqual(m.volumes.data, { name: 'demo_data', external: false, driver: 'local', driver_opts: {}, labels: {} });
    assert.deepEqual([m.volumes.named.name, m.volumes.ext.name, m.volumes.ext.external], ['keep-me', 'ext', true]);
    assert.deepEqual(m.services.web.secrets, [{ source: 'db_pw', target: '/run/secrets/db_pw' }, { source: 'api_key', target: '/run/secrets/key', uid: '1000', mode: 0o440 }]);
    assert.deepEqual(m.services.web.configs, [{ source: 'site', target: '/site' }, { source: 'nginx', target: '/etc/nginx/nginx.conf' }]);
    assert.deepEqual(m.secrets.db_pw, { name: 'demo_db_pw', file: './secrets/db.txt', external: false });
    assert.deepEqual(m.secrets.api_key, { name: 'demo_api_key', environment: 'API_KEY', external: false });
    assert.deepEqual(m.configs.site, { name: 'demo_site', content: 'hello', external: false });
    assert.equal(m.configs.nginx.name, 'fixed');
  });

  test('undeclared secrets and configs, and objects without one source, are problems', () => {
    const list = problemsOf({ secrets: ['nope'], configs: ['c'] }, { configs: { c: { file: 'a', content: 'b' } } });
    one(list, 'services.web.secrets', /secret "nope" is not declared/);
    one(list, 'configs.c', /exactly one of file, content, environment or external: true, got file and content/);
  });
});

describe('unsupported keys', () => {
  test('are reported with the key and the reason, never dropped', () => {
    const list = problemsOf({ post_start: [{ command: 'x' }], extends: { file: 'other.yml', service: 'x' }, deploy: { rollback_config: { parallelism: 1 } }, volumes: [{ type: 'bind', source: '.', target: '/x', consistency: 'cached' }] }, { networks: { n: { enable_ipv6: true } } });
    one(list, 'services.web.post_start', /^service "web": "post_start" is not supported: lifecycle hooks/);
    one(list, 'services.web.extends.file', /"extends.file" is not supported/);
    one(list, 'services.web.deploy.rollback_config', /"deploy.rollback_config" is not supported/);
    one(list, 'services.web.volumes[0].consistency', /"volumes\[0\].consistency" is not supported/);
    one(list, 'networks.n.enable_ipv6', /^"networks.n.enable_ipv6" is not supported/);
  });

  test('every service key of the Compose schema is either read or listed as unsupported', () => {
    const schema = JSON.parse(readFileSync(new URL('../../catalog/schema/compose-spec.json', import.meta.url), 'utf8'));
    const unsupported = new Set(UNSUPPORTED_KEYS.map((u) => u.key));
    const missing = Object.keys(schema.definitions.service.properties).filter((k) => !(SERVICE_KEYS as readonly string[]).includes(k) && !unsupported.has(`services.*.${k}`));
    assert.deepEqual(missing, []);
    for (const u of UNSUPPORTED_KEYS) assert.ok(u.reason.length > 10, u.key);
  });
});

describe('model → compose YAML', () => {
  const rich = {
    services: {
      web: {
        image: 'nginx:1.27', command: 'nginx -g "daemon off;"', entrypoint: ['/docker-entrypoint.sh'], environment: ['A=1', 'B=no'],
        env_file: ['./web.env'], labels: { 'com.example.tier': 'web' }, ports: ['127.0.0.1:8080-8081:80-81', { target: 443, published: '8443-8444' }],
        expose: [3000], volumes: ['data:/data:ro', './html:/usr/share/nginx/html', '/cache'], tmpfs: ['/run:size=64m,mode=1777'],
        networks: { front: { aliases: ['www'] }, default: null }, depends_on: { api: { condition: 'service_healthy' } },
        healthcheck: { test: 'curl -f localhost', interval: '1m30s', retries: 3 }, restart: 'unless-stopped', user: '101', working_dir: '/srv',
        hostname: 'web', extra_hosts: ['db:10.0.0.2'], cap_add: ['NET_BIND_SERVICE'], cap_drop: ['ALL'], privileged: false,
        devices: ['/dev/fuse'], tty: true, stdin_open: false, logging: { driver: 'json-file', options: { 'max-size': '10m' } },
        stop_signal: 'SIGQUIT', stop_grace_period: '45s', ulimits: { nofile: 1024 }, sysctls: { 'net.core.somaxconn': 1024 }, init: true,
        mem_limit: '512m', cpus: 1.5, pull_policy: 'always', secrets: [{ source: 'pw', mode: 0o400 }], configs: ['conf'],
        deploy: { replicas: 2, labels: { a: 'b' }, placement: { constraints: ['node.labels.role == web'], preferences: [{ spread: 'node.labels.zone' }], max_replicas_per_node: 1 }, update_config: { order: 'start-first', delay: '1s500ms' } },
      },
      api: { image: 'api:1', healthcheck: { test: ['CMD', 'true'] }, deploy: { mode: 'global', endpoint_mode: 'dnsrr' }, network_mode: 'bridge' },
      off: { image: 'off:1', healthcheck: { disable: true }, environment: { FROM_DOTENV: null, SET: 'x' } },
      side: {
        image: 'side:1', network_mode: 'service:off', ipc: 'service:off', pid: 'host', container_name: 'the-side', profiles: ['debug'],
        volumes_from: ['off:ro', 'container:legacy'], dns: ['10.0.0.53'], dns_search: ['corp'], dns_opt: ['ndots:2'], domainname: 'corp',
        security_opt: ['no-new-privileges:true'], read_only: true, shm_size: '64m', pids_limit: 100, uts: 'host', mem_reservation: '32m',
        mem_swappiness: 0, group_add: ['audio'], cgroup_parent: 'berth', device_cgroup_rules: ['c 1:3 mr'], storage_opt: { size: '1G' },
        label_file: ['./side.labels'], platform: 'linux/amd64', volumes: ['./logs:/logs:z'],
        deploy: { resources: { reservations: { cpus: 0.5 } }, restart_policy: { condition: 'on-failure', max_attempts: 3, delay: '5s', window: '1m' } },
      },
      linker: { image: 'l:1', links: ['api:backend', 'job'], external_links: ['other-db:db'], mac_address: '02:42:ac:11:00:02' },
      job: { image: 'job:1', healthcheck: {}, logging: {}, restart: 'no' },
    },
    networks: { front: { driver_opts: { mtu: 1400 }, ipam: { config: [{ subnet: '10.5.0.0/16' }] } }, outside: { external: true, name: 'corp' } },
    volumes: { data: { labels: ['keep=1'] }, old: { external: { name: 'legacy' } } },
    secrets: { pw: { file: './pw.txt' } },
    configs: { conf: { content: 'x: 1\n' } },
  };

  test('the YAML validates against the schema and normalizes back to an equal model', () => {
    const model = norm(rich);
    const yaml = modelToYaml(model);
    const doc = parse(yaml);
    assert.deepEqual(validateCompose(doc, 'out.yml'), []);
    assert.deepEqual(yamlToModel(yaml, model.name, 'out.yml'), model);
    assert.deepEqual(modelToCompose(norm(doc)), modelToCompose(model));
  });

  test('a literal $ is written $$ so compose reads it literally, and reads back as $', () => {
    const model = norm({ services: { web: { image: 'web:1', command: ['sh', '-c', 'echo $HOME $$'], environment: { PRICE: '$5' } } } });
    const yaml = modelToYaml(model);
    assert.match(yaml, /echo \$\$HOME \$\$\$\$/);
    assert.match(yaml, /PRICE: \$\$5/);
    assert.deepEqual(yamlToModel(yaml, 'demo', 'out.yml'), model);
  });

  test('long forms are written out', () => {
    const doc = modelToCompose(norm(rich)) as { services: Record<string, Record<string, unknown>> };
    const web = doc.services.web;
    assert.deepEqual(web.command, ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(web.ports, [
      { target: 80, published: 8080, host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' },
      { target: 81, published: 8081, host_ip: '127.0.0.1', protocol: 'tcp', mode: 'ingress' },
      { target: 443, published: '8443-8444', protocol: 'tcp', mode: 'ingress' },
    ]);
    assert.deepEqual((web.healthcheck as Record<string, unknown>).interval, '1m30s');
    assert.equal(doc.services.api.deploy && (doc.services.api.deploy as Record<string, unknown>).replicas, undefined);
    assert.match(modelToYaml(norm(rich)), /restart: "no"/);
  });
});

describe('through renderVersion', () => {
  test('normalization problems carry the template line', () => {
    const source = 'services:\n  web:\n    image: nginx\n    depends_on:\n      - db\n    links:\n      - cache\n';
    const version: TemplateVersion = { folder: '0', version: '1', questions: [], compose: { file: FILE, kind: 'interpolate', source } };
    const template: Template = { name: 't', dir: 'templates/t', config: { name: 't', description: 't' }, versions: [version] };
    try {
      renderVersion({ template, version, catalogRoot: '/c', values: {}, context: { stack: 'demo', template: { name: 't', version: '1' } } });
      assert.fail('should fail');
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.code, 'COMPOSE_INVALID');
      assert.deepEqual(err.problems.map((p) => [p.field, p.line]).sort(), [['services.web.depends_on', 4], ['services.web.links', 6]]);
    }
  });
});
