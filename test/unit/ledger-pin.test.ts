// The ledger's compose files: images pinned to what runs, secrets never in clear (placeholders that compose
// interpolation fills back), and pinned references that recreate a container only when the image differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yamlToModel } from '../../catalog/compose-yaml.ts';
import { serviceConfig, unpinnedRef } from '../../engines/standalone/hash.ts';
import { composeText, modelFor, pinnedRef, repoOf, secretPlaceholders } from '../../ledger/pin.ts';
import { planStack } from '../../engines/standalone/plan.ts';
import { container, desired, host, observedHost, service, stackModel } from './controller-fixtures.ts';

const ID = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;

test('pinnedRef: the repo digest of the same repository, else the image ID', () => {
  assert.deepEqual(pinnedRef('nginx:1.27-alpine', { id: ID, repoDigests: [`nginx@${DIGEST}`] }), { ref: `nginx:1.27-alpine@${DIGEST}`, digest: DIGEST });
  assert.deepEqual(pinnedRef('docker.io/library/nginx:1.27', { id: ID, repoDigests: [`nginx@${DIGEST}`] }).ref, `docker.io/library/nginx:1.27@${DIGEST}`);
  assert.deepEqual(pinnedRef('localhost:5000/app:2', { id: ID, repoDigests: [`localhost:5000/app@${DIGEST}`] }).ref, `localhost:5000/app:2@${DIGEST}`);
  assert.deepEqual(pinnedRef('nginx:1.27', { id: ID, repoDigests: [`mirror.example/nginx@${DIGEST}`] }), { ref: ID });
  assert.deepEqual(pinnedRef('berth-test/web:1', { id: ID, repoDigests: [] }), { ref: ID }, 'a locally loaded image');
  assert.deepEqual(pinnedRef(`nginx:1.27@${OTHER}`, { id: ID, repoDigests: [`nginx@${DIGEST}`] }).ref, `nginx:1.27@${DIGEST}`, 're-pinned to what runs');
  assert.deepEqual(pinnedRef('nginx:1.27', undefined), { ref: 'nginx:1.27' });
  assert.equal(repoOf('localhost:5000/app'), 'localhost:5000/app');
  assert.equal(repoOf(`localhost:5000/app:2@${DIGEST}`), 'localhost:5000/app');
});

const SECRET = 'p@ss $HOME "quoted": {x} #1';
const model = stackModel('shop', [
  service('web', { image: ID, environment: { DB_URL: `postgres://app:${SECRET}@db/app`, PRICE: 'costs $5', PLAIN: 'hello' }, command: ['sh', '-c', `echo ${SECRET}`] }),
  service('db', { image: 'postgres:16', environment: { POSTGRES_PASSWORD: SECRET } }),
]);

test('composeText: every secret becomes ${BERTH_SECRET_<variable>}, other dollars are escaped, nothing else moves', () => {
  const text = composeText(model, { db_password: SECRET });
  assert.ok(!text.includes(SECRET), 'the clear value is absent');
  assert.ok(!text.includes('p@ss'), 'no part of it either');
  assert.match(text, /DB_URL: postgres:\/\/app:\$\{BERTH_SECRET_db_password\}@db\/app\n/);
  assert.match(text, /POSTGRES_PASSWORD: \$\{BERTH_SECRET_db_password\}\n/);
  assert.match(text, /PRICE: costs \$\$5\n/);
  assert.doesNotMatch(text, /BERTHSECRET/, 'no marker left behind');
  assert.deepEqual(secretPlaceholders(text), ['db_password']);
  assert.equal(composeText(model, { db_password: SECRET }), text, 'deterministic despite the random markers');
  const back = yamlToModel(text, 'shop', 'h1.compose.yml', { BERTH_SECRET_db_password: SECRET });
  assert.deepEqual(back, model);
  assert.throws(() => yamlToModel(text, 'shop', 'h1.compose.yml'), /BERTH_SECRET_db_password/);
});

test('composeText: the longer of two overlapping secrets wins; an empty secret is ignored', () => {
  const m = stackModel('s', [service('a', { environment: { A: 'abc', B: 'abcdef', C: 'x' } })]);
  const text = composeText(m, { short: 'abc', long: 'abcdef', empty: '' });
  assert.match(text, /A: \$\{BERTH_SECRET_short\}\n/);
  assert.match(text, /B: \$\{BERTH_SECRET_long\}\n/);
  assert.match(text, /C: x\n/);
  assert.deepEqual(yamlToModel(text, 's', 'f', { BERTH_SECRET_short: 'abc', BERTH_SECRET_long: 'abcdef' }), m);
});

test('modelFor keeps only the services named and what they use', () => {
  const m = stackModel('s', [service('a', { networks: { back: { aliases: [] } } }), service('b')], { networks: { default: { name: 's_default' } as never, back: { name: 's_back' } as never } });
  const only = modelFor(m, ['a']);
  assert.deepEqual(Object.keys(only.services), ['a']);
  assert.deepEqual(Object.keys(only.networks), ['back']);
});

test('the config hash ignores a pin: a pinned reference or the rendered one give the same hash', () => {
  const web = service('web', { image: 'nginx:1.27-alpine' });
  const m = stackModel('shop', [web]);
  const plain = serviceConfig(web, m, {}, []);
  assert.equal(unpinnedRef(`nginx:1.27-alpine@${DIGEST}`), 'nginx:1.27-alpine');
  assert.equal(serviceConfig({ ...web, image: `nginx:1.27-alpine@${DIGEST}` }, m, {}, []).hash, plain.hash);
  assert.equal(serviceConfig({ ...web, image: ID }, m, {}, [], { hashAs: { image: 'nginx:1.27-alpine' } }).hash, plain.hash);
  assert.notEqual(serviceConfig({ ...web, image: ID }, m, {}, []).hash, plain.hash);
  assert.notEqual(serviceConfig({ ...web, image: 'nginx:1.28-alpine' }, m, {}, []).hash, plain.hash);
});

function planFor(ref: string, running: string, images: Record<string, string>) {
  const web = service('web', { image: ref });
  const d = desired(stackModel('shop', [web]), [host('h1')]);
  d.hosts.h1.services.web = { ...d.hosts.h1.services.web, ...serviceConfig(web, d.model, {}, [], { hashAs: { image: 'nginx:1.27-alpine' } }) };
  const c = container('shop', service('web', { image: 'nginx:1.27-alpine' }), 1, { imageId: running });
  return planStack(d, { name: 'shop', hosts: { h1: { ...observedHost('h1', [c], ['shop_default']), images } } }).hosts[0].operations[0];
}

test('plan: a pinned reference to the running image keeps the container; to another image, or one not on the host, recreates it', () => {
  assert.equal(planFor(ID, ID, { [ID]: ID, 'nginx:1.27-alpine': ID }).kind, 'keep');
  assert.equal(planFor(`nginx:1.27-alpine@${DIGEST}`, ID, { [`nginx:1.27-alpine@${DIGEST}`]: ID }).kind, 'keep');
  const other = planFor(OTHER, ID, { [OTHER]: OTHER, 'nginx:1.27-alpine': ID });
  assert.equal(other.kind, 'recreate');
  assert.match(other.cause, /image changed: sha256:b{64} is now bbbbbbbbbbbb/);
  const missing = planFor(`nginx:1.27-alpine@${DIGEST}`, ID, { 'nginx:1.27-alpine': ID });
  assert.equal(missing.kind, 'recreate');
  assert.match(missing.cause, /is not on the host yet/);
  // Back to the rendered reference after a rollback: still the same image, nothing to do.
  assert.equal(planFor('nginx:1.27-alpine', ID, { 'nginx:1.27-alpine': ID }).kind, 'keep');
});
