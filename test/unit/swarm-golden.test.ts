// Golden files of the Swarm engine's pure parts: the compose → service-spec mapping (engines/swarm/spec.ts) and the
// plan (engines/swarm/plan.ts) with every operation's cause and changed fields. A change of either shows as a diff
// of test/unit/golden/swarm-*.txt; after reviewing it, regenerate with UPDATE_GOLDEN=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { planSwarm } from '../../engines/swarm/plan.ts';
import { serviceSpec } from '../../engines/swarm/spec.ts';
import type { DesiredStack } from '../../engines/standalone/types.ts';
import type { SwarmObserved } from '../../engines/swarm/types.ts';
import { constraint, network, service, stackModel } from './controller-fixtures.ts';

function golden(name: string, actual: string): void {
  const file = new URL(`./golden/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.ok(existsSync(file), `${name} missing: make it with UPDATE_GOLDEN=1 and review it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `${name} differs; review, then UPDATE_GOLDEN=1 to accept`);
}

const web = (image: string, replicas: number) => service('web', {
  image, ports: [{ target: 80, published: '8080', protocol: 'tcp', mode: 'host' }, { target: 443, published: '8443', protocol: 'tcp', mode: 'ingress' }],
  healthcheck: { test: ['CMD', 'true'], interval_ms: 1000, retries: 3 }, cpus: 0.5, mem_limit_bytes: 64 * 1024 * 1024,
  configs: [{ source: 'site', target: '/site' }], secrets: [{ source: 'pw', target: '/run/secrets/pw' }],
  deploy: { replicas, endpoint_mode: 'dnsrr', placement: { constraints: [constraint('role', '==', 'web')], preferences: [{ spread: 'node.labels.zone' }], max_replicas_per_node: 2 },
    update_config: { parallelism: 1, delay_ms: 0, order: 'start-first', failure_action: 'rollback', monitor_ms: 3000 } },
});
const db = service('db', { image: 'db:1' });

function desired(svcs: ReturnType<typeof service>[], files: Record<string, string>): DesiredStack {
  const model = stackModel('shop', svcs, { networks: { default: network('shop', 'default', { driver: 'overlay' }) } });
  return { name: 'shop', model, source: 'shop@1.0.0', secrets: [], hosts: { prod: { services: Object.fromEntries(svcs.map((s) => [s.name, { model: s, files }])) } } } as unknown as DesiredStack;
}

test('golden: compose → Swarm service spec (ports host/ingress, healthcheck, resources, placement, update config, configs and secrets by content hash)', () => {
  const d = desired([web('web:1', 3)], { site: 'hello', pw: 's3cret' });
  golden('swarm-spec.json', `${JSON.stringify(serviceSpec(d.model.services.web, d.model, 'shop', { site: 'hello', pw: 's3cret' }), null, 2)}\n`);
});

test('golden: the Swarm plan — create, update (fields named), keep, remove services; configs by content; networks', () => {
  const before = desired([web('web:1', 3), db], { site: 'hello', pw: 's3cret' });
  const spec = (s: ReturnType<typeof service>, files: Record<string, string>) => serviceSpec(s, before.model, 'shop', files);
  const observed: SwarmObserved = {
    engine: 'swarm', stack: 'shop', swarm: 'prod', reachable: true, tasks: [], nodes: [], images: {},
    services: [
      { id: 'w1', name: 'shop_web', service: 'web', version: 7, hash: (spec(web('web:1', 3), { site: 'hello', pw: 's3cret' }).Labels as Record<string, string>)['berth.spec-hash'], spec: spec(web('web:1', 3), { site: 'hello', pw: 's3cret' }) },
      { id: 'o1', name: 'shop_old', service: 'old', version: 3, spec: spec(service('old'), {}) },
    ],
    networks: [{ id: 'n1', name: 'shop_gone', labels: { 'com.docker.stack.namespace': 'shop' } }],
    configs: [{ id: 'c1', name: `shop_site-${'x'.repeat(10)}`, labels: { 'com.docker.stack.namespace': 'shop' } }],
    secrets: [],
  };
  // web: new image, 4 replicas, a new config content; db: not there yet; old: no longer in the stack.
  const after = desired([web('web:2', 4), db], { site: 'hello again', pw: 's3cret' });
  const plan = planSwarm(after, observed);
  golden('swarm-plan.txt', `${formatPlan(plan, { verbose: true })}\n`);
  const same = planSwarm(before, { ...observed, services: [observed.services[0]], networks: [{ id: 'n0', name: 'shop_default', labels: {} }] });
  assert.ok(same.hosts[0].operations.some((o) => o.kind === 'keep-service' && o.cause === 'up to date'), formatPlan(same, { verbose: true }));
});
