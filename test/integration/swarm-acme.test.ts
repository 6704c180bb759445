// The built-in acme-platform template (its latest version, from the built-in catalog) deployed to the real
// three-node test Swarm through deployStack as serve and `berth apply` run it: placed by role through Swarm node
// labels (the database tier on bsw1, the web tier on bsw2 and bsw3), its web tier reaching its database, Redis and
// RabbitMQ by name across nodes with the credentials the template gave each side, the load balancer answering on
// its node's published port, `berth status` (the CLI, text and JSON) showing each service's tasks by node and that
// port's address, and a reconcile with nothing changed moving no version index. The images are the
// busybox stand-ins of test/harness/standins-acme.ts, copied to every node. The kernel here has no IPVS, so the
// stack answers `endpoint_mode: dnsrr` (the template then publishes in host mode); Swarm's default is vip.
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import path from 'node:path';
import assert from 'node:assert/strict';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { renderStack } from '../../catalog/stack.ts';
import type { StackStatus } from '../../engines/engine.ts';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { builtinCatalogRoot } from '../../lib/version.ts';
import { httpGet, waitFor } from '../harness/env.ts';
import { acmeStandIn } from '../harness/standins-acme.ts';
import { swarmGate, testSwarm, type TestSwarm } from '../harness/swarm.ts';
import { SwarmWorld, useSwarmWorld } from './swarm-fixtures.ts';

const BIN = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'bin', 'berth.js');
const STACK = 'bt-acme';
const PORT = 18480;
const ROLE = { web: 'bt-acme-web', db: 'bt-acme-db' };
/** Which test node carries which role. */
const NODES: Record<string, string> = { bsw1: ROLE.db, bsw2: ROLE.web, bsw3: ROLE.web };
const ANSWERS = {
  endpoint_mode: 'dnsrr', http_port: PORT, web_role: ROLE.web, db_role: ROLE.db, web_replicas: 2, api_replicas: 2,
  database_name: 'shop_db', db_password: 'db-password-0451', db_root_password: 'root-password-0451',
  rabbitmq_password: 'rabbit-password-0451', redis_password: 'RedisPassword0451abcdefghijklmnop',
};

const catalog = await loadCatalogOrThrow(builtinCatalogRoot());
const acme = catalog.templates.get('acme-platform')!;
const latest = acme.versions.at(-1)!.version;
const rendered = renderStack(catalog, { ref: `acme-platform@${latest}`, answers: ANSWERS, stack: STACK });
const images = [...new Set(Object.values(rendered.model.services).map((s) => s.image))].map(acmeStandIn);

const found = await testSwarm(images);
const worldOf = useSwarmWorld(found, STACK, undefined, (swarm) => new SwarmWorld(swarm, { template: 'acme-platform', version: latest }, true));

/** The `role` label on each node for the test, and off again after it (only where it is still the test's). */
async function labelNodes(swarm: TestSwarm, on: boolean): Promise<void> {
  const docker = swarm.nodes[0].docker;
  for (const [name, role] of Object.entries(NODES)) {
    const node = docker.getNode(name);
    const info = await node.inspect();
    const labels = { ...(info.Spec.Labels ?? {}) };
    if (on) labels.role = role;
    else if (labels.role === role) delete labels.role;
    else continue;
    await node.update({ version: info.Version.Index, ...info.Spec, Labels: labels });
  }
}
before(async () => found.swarm && labelNodes(found.swarm, true));
after(async () => found.swarm && labelNodes(found.swarm, false));

type Outcome = Awaited<ReturnType<SwarmWorld['deploy']>>;
const why = (o: Outcome) => `${o.outcome}: ${o.error?.message ?? JSON.stringify(o.result)}\n${o.plan ? formatPlan(o.plan, { verbose: true }) : ''}\n${o.events.join('\n')}`;

test(`acme-platform ${latest} deploys to the Swarm placed by role, and its web tier reaches its database`, swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const world = worldOf();
  world.writeStack(STACK, ANSWERS);
  const first = await world.deploy(STACK);
  assert.equal(first.outcome, 'converged', why(first));

  const engine = await world.engine();
  const status = engine.status(first.desired!, await engine.observe(STACK));
  assert.equal(status.converged, true, JSON.stringify(status, null, 2));
  const running = (service: string) => status.hosts[0].services.find((s) => s.service === service)!.tasks!.filter((t) => t.state === 'running').map((t) => t.node).sort();
  for (const db of ['mysql', 'redis', 'rabbitmq']) assert.deepEqual(running(db), ['bsw1'], `${db} runs where role is ${ROLE.db}`);
  for (const web of ['web', 'api']) {
    assert.equal(running(web).length, 2, `${web}: two replicas`);
    assert.ok(running(web).every((n) => NODES[n] === ROLE.web), `${web} runs where role is ${ROLE.web}: ${running(web)}`);
  }
  assert.deepEqual(running('memcached'), ['bsw2', 'bsw3'], 'memcached is global: one per web node');
  const [lbNode] = running('lb');
  assert.equal(NODES[lbNode], ROLE.web);

  // The API (on a web node) logs in to MySQL and Redis (on bsw1) with what the template gave it, by service name.
  const apiNode = running('api')[0];
  const login = await world.exec(apiNode, `${STACK}_api`, ['sh', '-c', 'printf "LOGIN %s %s\\n" "$DB_USER" "$DB_PASSWORD" | timeout 5 nc "$DB_HOST" 3306']);
  assert.equal(login, `mysql 8.4 (stand-in) database ${ANSWERS.database_name}\nOK\n`);
  const redisPassword = (await world.exec(apiNode, `${STACK}_api`, ['sh', '-c', 'echo "$REDIS_URL"'])).replace(/^redis:\/\/:([^@]*)@redis:6379\/0\n$/, '$1');
  const pong = await world.exec(apiNode, `${STACK}_api`, ['sh', '-c', `printf 'AUTH %s\\r\\nPING\\r\\n' '${redisPassword}' | timeout 5 nc redis 6379`]);
  assert.equal(pong, '+OK\r\n+PONG\r\n');
  const amqp = await world.exec(apiNode, `${STACK}_api`, ['sh', '-c', 'timeout 5 nc rabbitmq 5672 </dev/null']);
  assert.equal(amqp, 'AMQP 0-9-1 (rabbitmq stand-in) user acme\n');

  // The load balancer answers on its node's published port (host mode), with the page of a web replica behind it.
  const ip = found.swarm.node(lbNode).ip;
  const page = await waitFor(async () => {
    const r = await httpGet(`http://${ip}:${PORT}/`).catch(() => undefined);
    return r?.status === 200 ? r.body : undefined;
  }, { what: `the load balancer on ${lbNode}:${PORT}` });
  assert.match(page, /Welcome to nginx \(stand-in\)/);
});

/** `berth status` as a person runs it: the CLI in its own process, against the world's environment. */
async function berthStatus(world: SwarmWorld, ...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'status', '--env', world.envDir, ...args], { encoding: 'utf8', timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout: stdout + (e ? `\n(stderr) ${stderr}` : '') }));
  });
}

test('berth status (the CLI) shows each service\'s tasks by node, and the load balancer where its host-mode port answers', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const world = worldOf();
  const json = await berthStatus(world, STACK, '--json');
  assert.equal(json.code, 0, json.stdout);
  const [status] = JSON.parse(json.stdout) as StackStatus[];
  assert.equal(status.engine, 'swarm');
  assert.equal(status.converged, true);
  const target = status.hosts[0];
  assert.equal(target.host, 'test');
  assert.deepEqual(target.nodes!.map((n) => `${n.name} ${n.state}`).sort(), ['bsw1 ready', 'bsw2 ready', 'bsw3 ready']);
  const service = (name: string) => target.services.find((x) => x.service === name)!;
  assert.deepEqual(target.services.map((x) => x.service).sort(), ['api', 'lb', 'memcached', 'mysql', 'rabbitmq', 'redis', 'web']);
  assert.deepEqual(service('mysql').tasks!.map((t) => `${t.node} ${t.state}`), ['bsw1 running']);
  assert.deepEqual(service('memcached').tasks!.map((t) => t.node).sort(), ['bsw2', 'bsw3']);
  assert.equal(service('web').running, 2);
  assert.equal(service('web').desired, 2);
  const lbNode = service('lb').tasks!.find((t) => t.state === 'running')!.node;
  assert.deepEqual(status.endpoints, [{ service: 'lb', host: 'test', url: `http://${found.swarm.node(lbNode).ip}:${PORT}/` }]);

  const text = await berthStatus(world, STACK);
  assert.equal(text.code, 0, text.stdout);
  assert.match(text.stdout, new RegExp(`^stack ${STACK} \\(acme-platform@${latest.replace(/\./g, '\\.')}\\): converged$`, 'm'));
  assert.match(text.stdout, /^ {2}swarm test$/m);
  assert.match(text.stdout, /^ {4}mysql +1\/1 running\n {6}#1 bsw1: running$/m);
  assert.match(text.stdout, /^ {4}memcached +2\/2 running\n {6}bsw[23]: running\n {6}bsw[23]: running$/m);
  assert.match(text.stdout, new RegExp(`^  open http://${found.swarm.node(lbNode).ip.replace(/\./g, '\\.')}:${PORT}/  \\(lb on test\\)$`, 'm'));
  assert.doesNotMatch(text.stdout, /nodes:/, 'no node is down');
});

test('a reconcile of acme-platform with nothing changed calls no update: every version index stays', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  const world = worldOf();
  const before = await world.versions(STACK);
  assert.equal(Object.keys(before).length, 7);
  const again = await world.deploy(STACK, 'timer');
  assert.equal(again.outcome, 'unchanged', why(again));
  assert.deepEqual(await world.versions(STACK), before);
});
