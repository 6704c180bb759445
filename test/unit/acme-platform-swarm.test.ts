// The built-in acme-platform (latest version) on both engines: with its defaults it renders nothing Swarm-only, so
// standalone hosts take it and a Swarm gets its defaults (VIP, ingress); answered `endpoint_mode: dnsrr` every
// service says so and the load balancer publishes in host mode (Swarm refuses ingress ports with dnsrr), which a
// Swarm takes and standalone hosts refuse by name. Its named volumes carry the stack label on a Swarm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { renderStack } from '../../catalog/stack.ts';
import { refuseSwarmOnlyKeys } from '../../engines/standalone/swarm-only.ts';
import { serviceSpec, swarmProblems } from '../../engines/swarm/spec.ts';
import { builtinCatalogRoot } from '../../lib/version.ts';

const catalog = await loadCatalogOrThrow(builtinCatalogRoot());
const latest = catalog.templates.get('acme-platform')!.versions.at(-1)!.version;
const ANSWERS = { db_password: 'db-password-1234', db_root_password: 'root-password-1234', rabbitmq_password: 'rabbit-password-1234', redis_password: 'r'.repeat(32) };
const render = (answers: Record<string, unknown> = {}) => renderStack(catalog, { ref: `acme-platform@${latest}`, answers: { ...ANSWERS, ...answers }, stack: 'shop' }).model;
const spec = { name: 'shop', file: 'stacks/shop.yml', template: 'acme-platform', version: latest, answers: {}, hosts: {} };

describe(`acme-platform ${latest} on standalone hosts and on a Swarm`, () => {
  it('renders nothing Swarm-only by default: standalone hosts take it, a Swarm gets VIPs and the ingress mesh', () => {
    const model = render();
    assert.doesNotThrow(() => refuseSwarmOnlyKeys(model, spec));
    for (const svc of Object.values(model.services)) {
      assert.equal(svc.deploy.endpoint_mode, undefined, svc.name);
      assert.deepEqual(swarmProblems(svc), [], svc.name);
      assert.equal((serviceSpec(svc, model, 'shop', {}).EndpointSpec as { Mode: string }).Mode, 'vip');
    }
    assert.deepEqual(model.services.lb.ports.map((p) => [p.published, p.target, p.mode]), [['80', 80, 'ingress']]);
  });

  it('with endpoint_mode dnsrr: every service on DNS round robin, the load balancer\'s ports in host mode', () => {
    const model = render({ endpoint_mode: 'dnsrr', tls_enabled: true, tls_certificate: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----', tls_key: 'k' });
    for (const svc of Object.values(model.services)) {
      assert.equal(svc.deploy.endpoint_mode, 'dnsrr', svc.name);
      assert.deepEqual(swarmProblems(svc), [], svc.name);
    }
    assert.deepEqual(model.services.lb.ports.map((p) => [p.published, p.target, p.mode]), [['80', 80, 'host'], ['443', 443, 'host']]);
    assert.throws(() => refuseSwarmOnlyKeys(model, spec), (e: Error & { problems?: { field: string }[] }) =>
      e.problems!.some((p) => p.field === 'services.lb.deploy.endpoint_mode'));
  });

  it('mounts its named volumes with the stack label (and a volume\'s labels, driver and options) on a Swarm, as docker stack deploy does', () => {
    const model = render();
    const mounts = (serviceSpec(model.services.mysql, model, 'shop', {}).TaskTemplate as { ContainerSpec: { Mounts: unknown[] } }).ContainerSpec.Mounts;
    assert.deepEqual(mounts, [{ Type: 'volume', Source: 'shop_mysql-data', Target: '/var/lib/mysql', VolumeOptions: { Labels: { 'com.docker.stack.namespace': 'shop' } } }]);
    const mountOf = (volume: object) => {
      const m = { ...model, volumes: { ...model.volumes, 'mysql-data': { ...model.volumes['mysql-data'], ...volume } } };
      return (serviceSpec(m.services.mysql, m, 'shop', {}).TaskTemplate as { ContainerSpec: { Mounts: { VolumeOptions?: unknown }[] } }).ContainerSpec.Mounts[0].VolumeOptions;
    };
    assert.deepEqual(mountOf({ driver: 'local', driver_opts: { type: 'nfs' }, labels: { backup: 'daily' } }),
      { Labels: { backup: 'daily', 'com.docker.stack.namespace': 'shop' }, DriverConfig: { Name: 'local', Options: { type: 'nfs' } } });
    assert.equal(mountOf({ external: true, name: 'shared' }), undefined, 'an external volume exists already: nothing to make it with');
  });
});
