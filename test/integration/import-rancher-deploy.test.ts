// Rancher templates imported by `berth catalog import rancher`, linted, rendered with their defaults and deployed
// by Berth on the harness hosts: a sidekick shares its primary's network, an lb-service-haproxy load balancer
// routes by host name and path to the right service, and a health check converted from rancher-compose.yml gates
// a rolling update. The source catalog is written here in Rancher's documented format (copied from no catalog);
// the load balancer runs the HAProxy stand-in (test/harness/standins.ts), which reads the generated haproxy.cfg.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { rm } from 'node:fs/promises';
import { importRancher } from '../../importers/rancher/import.ts';
import { lintCatalog } from '../../catalog/lint.ts';
import type { ImportReport } from '../../importers/rancher/report-types.ts';
import { containerIp, dockerGate, httpGet } from '../harness/env.ts';
import { ensureImages, webImage, type ImageSpec } from '../harness/images.ts';
import { RANCHER_LB_IMAGES } from '../harness/standins.ts';
import { failures, HARNESS_HOSTS, layout, useHarnessStacks, World, type Replica } from './converge-fixtures.ts';
import { writeTree } from '../unit/import-rancher-fixtures.ts';

const gate = await dockerGate();
const STACKS = ['rk-side', 'rk-lb', 'rk-roll'];
const LB_PORT = 18481;

/** The services' images: each serves its name at / (and the API a page under /api/); rk-web:3 has no /ready. */
const IMAGES: ImageSpec[] = [
  webImage('shop', { tag: 'berth-test/rk-shop:1' }),
  webImage('api', { tag: 'berth-test/rk-api:1', files: { '/www/api/index.html': 'api under /api' } }),
  webImage('1', { tag: 'berth-test/rk-web:1', files: { '/www/ready': 'ok' } }),
  webImage('2', { tag: 'berth-test/rk-web:2', files: { '/www/ready': 'ok' } }),
  webImage('3', { tag: 'berth-test/rk-web:3' }),
  ...RANCHER_LB_IMAGES,
];

const RANCHER: Record<string, string> = {
  // Compose v1 with a sidekick, both placed by host-label affinity.
  'templates/rk-sidekick/config.yml': 'name: Sidekick\ndescription: a web server and a sidekick in its network\nversion: 1.0.0\n',
  'templates/rk-sidekick/0/rancher-compose.yml': '.catalog:\n  version: 1.0.0\nweb:\n  scale: 1\n',
  'templates/rk-sidekick/0/docker-compose.yml': `web:
  image: berth-test/web:1
  stop_grace_period: 1s
  labels:
    io.rancher.sidekicks: probe
    io.rancher.scheduler.affinity:host_label: role=db
probe:
  image: berth-test/busybox:1
  command: sleep 3600
  stop_grace_period: 1s
`,
  // A Go template with an HAProxy load balancer: port rules by host name, one by path with a priority.
  'templates/rk-lb/config.yml': 'name: Load balanced\ndescription: two services behind a Rancher load balancer\n',
  'templates/rk-lb/0/rancher-compose.yml': `version: '2'
.catalog:
  version: 1.0.0
  questions:
    - variable: PUBLIC_PORT
      label: Public port
      type: int
      required: true
      default: ${LB_PORT}
    - variable: HOST_LABEL
      label: Host label
      type: string
      default: role=db
services:
  lb:
    scale: 1
    lb_config:
      port_rules:
        - source_port: 80
          target_port: 80
          service: shop
          hostname: shop.example.com
        - source_port: 80
          target_port: 80
          service: api
          hostname: shop.example.com
          path: /api
          priority: 1
        - source_port: 80
          target_port: 80
          service: api
          hostname: api.example.com
  shop:
    scale: 1
  api:
    scale: 1
`,
  'templates/rk-lb/0/docker-compose.yml.tpl': `version: '2'
services:
  lb:
    image: rancher/lb-service-haproxy:v0.7.15
    ports:
      - \${PUBLIC_PORT}:80
    labels:
      io.rancher.container.agent.role: environmentAdmin
      io.rancher.container.create_agent: 'true'
{{- if .Values.HOST_LABEL }}
      io.rancher.scheduler.affinity:host_label: \${HOST_LABEL}
{{- end }}
  shop:
    image: berth-test/rk-shop:1
    stop_grace_period: 1s
    labels:
      io.rancher.scheduler.affinity:host_label: {{ .Values.HOST_LABEL }}
  api:
    image: berth-test/rk-api:1
    stop_grace_period: 1s
    labels:
      io.rancher.scheduler.affinity:host_label: {{ .Values.HOST_LABEL }}
`,
  // A health check and an upgrade strategy in rancher-compose.yml.
  'templates/rk-rolling/config.yml': 'name: Rolling\ndescription: a health-checked service updated in batches\n',
  'templates/rk-rolling/0/rancher-compose.yml': `.catalog:
  version: 1.0.0
  questions:
    - variable: VERSION
      label: Version
      type: string
      default: "1"
web:
  scale: 2
  health_check:
    port: 80
    request_line: GET /ready HTTP/1.0
    interval: 500
    response_timeout: 1000
    unhealthy_threshold: 2
    healthy_threshold: 1
    initializing_timeout: 1000
  upgrade_strategy:
    start_first: true
    batch_size: 1
    interval_millis: 200
`,
  'templates/rk-rolling/0/docker-compose.yml': `web:
  image: berth-test/rk-web:\${VERSION}
  stop_grace_period: 1s
  labels:
    io.rancher.scheduler.affinity:host_label: role=web
`,
};

let world: World | undefined;
let report: ImportReport | undefined;
const w = () => (world ??= new World(gate, undefined, {}));

useHarnessStacks(gate, STACKS, () => world?.dispose());

before(async () => {
  if (!gate.ok) return;
  await Promise.all(HARNESS_HOSTS.map((h) => ensureImages(gate.docker(h), IMAGES)));
});

/** The catalog imported once into the world's catalog folder, which its environment already names. */
async function imported(): Promise<ImportReport> {
  if (report) return report;
  const src = await writeTree(RANCHER);
  try {
    report = await importRancher({ src, dest: w().catalogDir });
  } finally {
    await rm(src, { recursive: true, force: true });
  }
  return report;
}

async function deploy(stack: string, template: string, answers: Record<string, unknown> = {}): Promise<Replica[]> {
  await imported();
  w().writeStack(stack, { template, version: '1.0.0', answers });
  const o = await w().reconcile(stack);
  assert.equal(o.outcome, 'converged', failures(o));
  return w().replicas(stack);
}

function dockerCli(host: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', ['-H', gate.host(host).dockerHost, ...args], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** GET with a Host header, as a browser for that name would send it. */
function getAs(hostHeader: string, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Host: hostHeader }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} as ${hostHeader} timed out`)));
    req.on('error', reject);
  });
}

test('the imported catalog lints, and every template renders with its defaults', gate.opts, async () => {
  const r = await imported();
  assert.deepEqual(r.totals, { templates: 3, versions: 3, converted: 0, approximated: 3, skipped: 0 });
  const { problems, checked } = await lintCatalog(w().catalogDir);
  assert.deepEqual(problems, []);
  assert.equal(checked.length, 3);
});

test('a sidekick runs in its primary\'s network namespace, on the same host', gate.opts, async () => {
  const rs = await deploy('rk-side', 'rk-sidekick');
  assert.deepEqual(layout(rs), { h3: ['probe#1', 'web#1'] }, 'both placed by the host-label affinity role=db');
  const web = rs.find((r) => r.service === 'web')!;
  const probe = rs.find((r) => r.service === 'probe')!;
  assert.equal(probe.state, 'running');
  assert.equal(probe.info.HostConfig.NetworkMode, `container:${web.id}`);
  // The sidekick reaches its primary's server at localhost, as Rancher's sidekicks in one network did.
  assert.equal(await dockerCli('h3', ['exec', probe.id, 'wget', '-q', '-O', '-', 'http://127.0.0.1/']), '1');
});

test('the load balancer routes each request by host name and path to the service its port rule names', gate.opts, async () => {
  const rs = await deploy('rk-lb', 'rk-lb');
  assert.deepEqual(layout(rs), { h3: ['api#1', 'lb#1', 'shop#1'] });
  const lb = rs.find((r) => r.service === 'lb')!;
  assert.equal(lb.info.Config.Image, 'haproxy:2.6');
  const url = (path: string) => `http://127.0.0.1:${LB_PORT}${path}`;
  assert.deepEqual(await getAs('shop.example.com', url('/')), { status: 200, body: 'shop' });
  assert.deepEqual(await getAs('api.example.com', url('/')), { status: 200, body: 'api' });
  assert.deepEqual(await getAs('shop.example.com', url('/api/')), { status: 200, body: 'api under /api' }, 'the path rule has priority 1');
  assert.deepEqual(await getAs('api.example.com', url('/api/')), { status: 200, body: 'api under /api' });
  assert.equal((await getAs('other.example.com', url('/'))).status, 503, 'no rule for this host name');
});

test('the converted health check gates a rolling update: a version that never gets ready is undone, a ready one rolls out', gate.opts, async () => {
  const first = await deploy('rk-roll', 'rk-rolling');
  assert.deepEqual(layout(first), { h1: ['web#1'], h2: ['web#2'] });
  assert.ok(first.every((r) => r.info.State.Health?.Status === 'healthy'));
  const served = async (rs: Replica[]) => Promise.all(rs.map(async (r) => (await httpGet(`http://${await containerIp(gate.docker(r.host), r.id)}/`, 3000)).body));
  assert.deepEqual(await served(first), ['1', '1']);

  w().writeStack('rk-roll', { template: 'rk-rolling', version: '1.0.0', answers: { VERSION: '3' } });
  const broken = await w().reconcile('rk-roll');
  assert.notEqual(broken.outcome, 'converged');
  assert.match(failures(broken), /unhealthy/);
  const after = await w().replicas('rk-roll');
  assert.deepEqual(after.filter((r) => r.state === 'running').map((r) => r.info.Config.Image), ['berth-test/rk-web:1', 'berth-test/rk-web:1'], 'the old containers are back');
  assert.deepEqual(await served(after.filter((r) => r.state === 'running')), ['1', '1']);

  const rs = await deploy('rk-roll', 'rk-rolling', { VERSION: '2' });
  assert.deepEqual(rs.map((r) => `${r.info.Config.Image} ${r.info.State.Health?.Status}`), ['berth-test/rk-web:2 healthy', 'berth-test/rk-web:2 healthy']);
  assert.deepEqual(await served(rs), ['2', '2']);
});
