// A removed stack file's plan: every container and network of the stack goes with the cause "stack file removed"
// — volumes never — and only where everything of the stack carries this environment's owner label.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planStack } from '../../engines/standalone/plan.ts';
import { formatPlan } from '../../engines/standalone/plan-format.ts';
import { REMOVED_CAUSE } from '../../controller/prune.ts';
import { container, observed, observedHost, service } from './controller-fixtures.ts';
import type { DesiredStack } from '../../engines/standalone/types.ts';

const OWNER = 'https://git.example.com/ops/prod';
const web = service('web', { image: 'web:1', deploy: { replicas: 2 } });
const removal: DesiredStack = {
  name: 'shop', model: { name: 'shop', services: {}, networks: {}, volumes: {}, secrets: {}, configs: {} },
  source: 'removed', hosts: {}, secrets: [], owner: OWNER, removed: REMOVED_CAUSE,
};

test('the removal plan removes the containers and networks this environment deployed, with the cause', () => {
  const plan = planStack(removal, observed('shop', [
    observedHost('h1', [container('shop', web, 1, { owner: OWNER })], ['shop_default']),
    observedHost('h2', [container('shop', web, 2, { owner: OWNER })], ['shop_default']),
    observedHost('h3', [], []),
  ]));
  assert.deepEqual(plan.hosts.map((h) => h.host), ['h1', 'h2'], 'a host holding nothing of the stack is not in the plan');
  assert.deepEqual(plan.hosts.flatMap((h) => h.operations.map((o) => `${o.host} ${o.kind}: ${o.cause}`)), [
    `h1 remove: ${REMOVED_CAUSE}`, `h1 remove-network: ${REMOVED_CAUSE}`, `h2 remove: ${REMOVED_CAUSE}`, `h2 remove-network: ${REMOVED_CAUSE}`,
  ]);
  assert.ok(!plan.hosts.some((h) => h.operations.some((o) => o.kind.includes('volume'))), 'volumes are never removed');
  assert.match(formatPlan(plan), /stack file removed/);
});

test('a host holding a container without this owner label (another environment, compose, a legacy deploy) is not touched', () => {
  for (const owner of ['https://git.example.com/ops/staging', undefined]) {
    const plan = planStack(removal, observed('shop', [
      observedHost('h1', [container('shop', web, 1, { owner: OWNER }), container('shop', web, 2, owner ? { owner } : {})], ['shop_default']),
    ]));
    assert.deepEqual(plan.hosts[0].operations, [], String(owner));
    assert.ok(plan.hosts[0].error, String(owner));
  }
});

test('a network a container outside the stack is attached to is kept, and the plan says so instead of removing it', () => {
  const h1 = observedHost('h1', [container('shop', web, 1, { owner: OWNER })], ['shop_default', 'shop_debug']);
  h1.networks[1] = { ...h1.networks[1]!, users: ['toolbox', 'netshoot'] };
  const plan = planStack(removal, observed('shop', [h1]));
  assert.deepEqual(plan.hosts[0].operations.map((o) => `${o.kind} ${'network' in o ? o.network : ''}`.trim()), ['remove', 'remove-network shop_default']);
  assert.deepEqual(plan.hosts[0].notes, [`network shop_debug kept: ${REMOVED_CAUSE}, but toolbox, netshoot outside the stack are attached to it`]);
  assert.match(formatPlan(plan), /note: network shop_debug kept: .*toolbox, netshoot/);
});
