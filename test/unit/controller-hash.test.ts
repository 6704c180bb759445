import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, diffConfigs, serviceConfig, sha256 } from '../../engines/standalone/hash.ts';
import { LABEL, containerLabels, containerName, networkLabels, parseContainerLabels, volumeLabels } from '../../engines/docker/labels.ts';
import { constraint, network, service, stackModel, volume } from './controller-fixtures.ts';

const api = service('api', {
  image: 'traefik/whoami:v1.10.1',
  environment: { DB_PASSWORD: 's3cret-pw', AMQP_URL: 'amqp://acme:s3cret-pw@rabbitmq:5672/', MSG: 'hello' },
  command: ['--password', 's3cret-pw'],
  volumes: [{ type: 'volume', source: 'data', target: '/data', read_only: false, nocopy: false }],
  configs: [{ source: 'app_conf', target: '/etc/app.conf' }],
});
const model = stackModel('shop', [api], { volumes: { data: volume('shop', 'data') } });
const files = { app_conf: 'listen 80;\n' };

test('canonical JSON sorts keys at every level and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: undefined, x: 2 }], c: 3 } }), '{"a":{"c":3,"d":[{"x":2,"z":1}]},"b":1}');
});

test('the hash is stable and ignores scale, rollout and placement', () => {
  const base = serviceConfig(api, model, files, ['s3cret-pw']).hash;
  assert.match(base, /^[0-9a-f]{64}$/);
  const scaled = service('api', { ...api, deploy: { replicas: 7, placement: { constraints: [constraint('role', '==', 'web')] }, update_config: { parallelism: 3, delay_ms: 5, order: 'start-first', failure_action: 'rollback', monitor_ms: 1 } } });
  assert.equal(serviceConfig(scaled, stackModel('shop', [scaled], model), files, ['s3cret-pw']).hash, base);
  const reordered = { ...api, environment: { MSG: 'hello', AMQP_URL: api.environment.AMQP_URL, DB_PASSWORD: 's3cret-pw' } };
  assert.equal(serviceConfig(reordered, model, files, ['s3cret-pw']).hash, base);
});

test('the hash changes with the config, file contents, secrets and the networks and volumes used', () => {
  const base = serviceConfig(api, model, files, []).hash;
  assert.notEqual(serviceConfig({ ...api, image: 'traefik/whoami:v1.11.0' }, model, files, []).hash, base);
  assert.notEqual(serviceConfig(api, model, { app_conf: 'listen 81;\n' }, []).hash, base);
  assert.notEqual(serviceConfig({ ...api, environment: { ...api.environment, DB_PASSWORD: 'other' } }, model, files, []).hash, base);
  const otherNet = stackModel('shop', [api], { ...model, networks: { default: network('shop', 'default', { internal: true }) } });
  assert.notEqual(serviceConfig(api, otherNet, files, []).hash, base);
  const otherVol = stackModel('shop', [api], { ...model, volumes: { data: volume('shop', 'data', { driver: 'nfs' }) } });
  assert.notEqual(serviceConfig(api, otherVol, files, []).hash, base);
  const unusedVol = stackModel('shop', [api], { ...model, volumes: { ...model.volumes, logs: volume('shop', 'logs') } });
  assert.equal(serviceConfig(api, unusedVol, files, []).hash, base);
});

test('the stored config never holds a secret or a file content', () => {
  const { config } = serviceConfig(api, model, { ...files, db_pw: 's3cret-pw' }, ['s3cret-pw', '']);
  const text = JSON.stringify(config);
  assert.doesNotMatch(text, /s3cret/);
  assert.doesNotMatch(text, /listen 80/);
  const env = config.environment as Record<string, string>;
  assert.equal(env.DB_PASSWORD, `sha256:${sha256('s3cret-pw').slice(0, 12)}`);
  assert.equal(env.AMQP_URL, `sha256:${sha256(api.environment.AMQP_URL).slice(0, 12)}`);
  assert.equal(env.MSG, 'hello');
  assert.deepEqual(config.command, ['--password', `sha256:${sha256('s3cret-pw').slice(0, 12)}`]);
  assert.equal((config.contents as Record<string, string>).app_conf, `sha256:${sha256('listen 80;\n')}`);
  assert.equal((config.deploy as Record<string, unknown>).replicas, undefined);
});

test('environment variables named as secret are masked whatever their value', () => {
  const svc = { ...api, environment: { ...api.environment, TOKEN: '1' } };
  const env = serviceConfig(svc, model, files, [], { secretEnv: ['TOKEN'] }).config.environment as Record<string, string>;
  assert.equal(env.TOKEN, `sha256:${sha256('1').slice(0, 12)}`);
  assert.equal(env.MSG, 'hello');
});

test('diffConfigs names the changed fields with dotted paths and short values', () => {
  const old = serviceConfig(api, model, files, []).config;
  const changed = { ...api, image: 'traefik/whoami:v1.11.0', environment: { ...api.environment, MSG: 'x'.repeat(100) }, ports: [{ target: 80, published: '8080', protocol: 'tcp' as const, mode: 'ingress' as const }] };
  const next = serviceConfig(changed, model, files, []);
  const changes = diffConfigs(old, next.config, next.hash);
  assert.deepEqual(changes.map((c) => c.field), ['environment.MSG', 'image', 'ports[0]']);
  assert.deepEqual(changes[1], { field: 'image', from: 'traefik/whoami:v1.10.1', to: 'traefik/whoami:v1.11.0' });
  assert.equal(changes[0].to, `${'x'.repeat(57)}...`);
  assert.equal(changes[2].from, '(none)');
  const republished = serviceConfig({ ...changed, ports: [{ ...changed.ports[0], published: '9090' }] }, model, files, []).config;
  assert.deepEqual(diffConfigs(next.config, republished), [{ field: 'ports[0].published', from: '8080', to: '9090' }]);
  assert.deepEqual(diffConfigs(next.config, next.config), []);
});

test('without a stored config the diff says the previous config is unknown', () => {
  const next = serviceConfig(api, model, files, []);
  assert.deepEqual(diffConfigs(undefined, next.config, next.hash), [{ field: 'config', from: 'unknown', to: `hash ${next.hash.slice(0, 12)}` }]);
});

test('labels: compose-compatible names and labels, parsed back', () => {
  const { hash, config } = serviceConfig(api, model, files, []);
  assert.equal(containerName('shop', 'api', 2), 'shop-api-2');
  const labels = containerLabels('shop', 'api', 2, hash, config);
  assert.equal(labels[LABEL.composeProject], 'shop');
  assert.equal(labels[LABEL.composeOneoff], 'False');
  assert.equal(labels[LABEL.managed], 'true');
  assert.deepEqual(parseContainerLabels(labels), { stack: 'shop', service: 'api', number: 2, hash, config });
  assert.equal(networkLabels('shop', 'default')[LABEL.composeNetwork], 'default');
  assert.equal(volumeLabels('shop', 'data')[LABEL.composeVolume], 'data');
  const byCompose = { [LABEL.composeProject]: 'shop', [LABEL.composeService]: 'web', [LABEL.composeNumber]: '1', [LABEL.composeOneoff]: 'False', [LABEL.composeConfigHash]: 'abc' };
  assert.deepEqual(parseContainerLabels(byCompose), { stack: 'shop', service: 'web', number: 1 });
  assert.equal(parseContainerLabels({ ...byCompose, [LABEL.composeOneoff]: 'True' }), undefined);
  assert.equal(parseContainerLabels({ ...labels, [LABEL.number]: '0' }), undefined);
  assert.equal(parseContainerLabels({ ...labels, [LABEL.config]: '{broken' })?.config, undefined);
});
