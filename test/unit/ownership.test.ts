// Ownership: containers carry their environment's identity; a stack another environment owns on a host is not
// touched there, and the plan says whose it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planStack } from '../../engines/standalone/plan.ts';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { buildContainerSpec } from '../../engines/standalone/container-spec.ts';
import { parseContainerLabels } from '../../engines/docker/labels.ts';
import { environmentIdentity, normalizeRemote } from '../../environment/identity.ts';
import { container, desired, host, observed, observedHost, service, stackModel } from './controller-fixtures.ts';

const web = service('web', { image: 'web:2', deploy: { replicas: 2 } });
const old = service('web', { image: 'web:1', deploy: { replicas: 2 } });
const model = stackModel('shop', [web]);
const mine = { ...desired(model, [host('h1'), host('h2')], 'acme@2.0.0'), owner: 'https://git.example.com/ops/prod' };

test('a stack another environment owns on a host is left alone there, and the plan names the owner', () => {
  const plan = planStack(mine, observed('shop', [
    observedHost('h1', [container('shop', old, 1, { owner: 'https://git.example.com/ops/staging' })], ['shop_default']),
    observedHost('h2', [container('shop', old, 2, { owner: mine.owner })], ['shop_default']),
  ]));
  assert.equal(formatPlan(plan), [
    'stack shop (acme@2.0.0)',
    '  host h1: stack shop here is owned by environment https://git.example.com/ops/staging: not touched',
    '  host h2',
    '    ~ recreate web #2               config changed: image',
    '        image: web:1 → web:2',
    'Plan: 0 to create, 1 to recreate, 0 to start, 0 to remove, 0 unchanged; 1 host not planned.',
    '',
  ].join('\n'));
  assert.equal(plan.hosts[0].ownedBy, 'https://git.example.com/ops/staging');
  assert.deepEqual(plan.hosts[0].operations, []);
});

test('containers without an owner (made before owners were labelled, or by compose) are adopted', () => {
  const plan = planStack(mine, observed('shop', [observedHost('h1', [container('shop', web, 1)], ['shop_default']), observedHost('h2', [], ['shop_default'])]));
  assert.equal(plan.hosts[0].error, undefined);
  assert.deepEqual(plan.hosts.flatMap((h) => h.operations.map((o) => o.kind)), ['keep', 'create']);
});

test('new containers carry the owner label, read back as the owner', () => {
  const svc = mine.hosts.h1.services.web;
  const spec = buildContainerSpec({ stack: 'shop', model, service: svc, number: 1, owner: mine.owner });
  assert.equal(spec.create.Labels!['berth.owner'], mine.owner);
  assert.equal(parseContainerLabels(spec.create.Labels)!.owner, mine.owner);
});

test('the identity: berth.yml name, else the origin without credentials, else machine and path', async () => {
  assert.equal(normalizeRemote('https://oauth2:tok@Git.Example.com/ops/env.git/'), 'https://git.example.com/ops/env');
  assert.equal(normalizeRemote('http://127.0.0.1:8080/env.git'), 'http://127.0.0.1:8080/env');
  assert.equal(await environmentIdentity({ root: '/nowhere', name: 'prod' }), 'prod');
  assert.match(await environmentIdentity({ root: '/nowhere/at/all' }), /^[^:]+:\/nowhere\/at\/all$/);
});
