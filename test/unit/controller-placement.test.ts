import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeStack } from '../../engines/standalone/placement.ts';
import { refuseSwarmOnlyKeys } from '../../engines/standalone/swarm-only.ts';
import { constraint, host, service, stackModel } from './controller-fixtures.ts';

const hosts = [host('h1', { role: 'web' }), host('h2', { role: 'db', hostname: 'db-1' }), host('h3', { role: 'web' })];

function place(...services: ReturnType<typeof service>[]) {
  return placeStack(stackModel('s', services), hosts);
}

test('replicas spread round-robin over the matching hosts in host order', () => {
  const { placement, errors } = place(service('web', { deploy: { replicas: 5 } }));
  assert.deepEqual(errors, []);
  assert.deepEqual(placement.web, [
    { host: 'h1', number: 1 }, { host: 'h2', number: 2 }, { host: 'h3', number: 3 }, { host: 'h1', number: 4 }, { host: 'h2', number: 5 },
  ]);
});

test('scaling down removes the highest numbers and moves nothing', () => {
  const three = place(service('web', { deploy: { replicas: 3 } })).placement.web;
  const two = place(service('web', { deploy: { replicas: 2 } })).placement.web;
  assert.deepEqual(two, three.slice(0, 2));
});

test('global mode: one replica per matching host, numbered in host order', () => {
  const { placement } = place(service('agent', { deploy: { mode: 'global', replicas: 1, placement: { constraints: [constraint('role', '==', 'web')] } } }));
  assert.deepEqual(placement.agent, [{ host: 'h1', number: 1 }, { host: 'h3', number: 2 }]);
});

test('== and != constraints; a host without the label satisfies != only', () => {
  const eq = service('a', { deploy: { replicas: 2, placement: { constraints: [constraint('role', '==', 'web')] } } });
  const ne = service('b', { deploy: { replicas: 2, placement: { constraints: [constraint('role', '!=', 'web')] } } });
  const absent = service('c', { deploy: { replicas: 3, placement: { constraints: [constraint('zone', '!=', 'eu')] } } });
  const { placement } = place(eq, ne, absent);
  assert.deepEqual(placement.a.map((p) => p.host), ['h1', 'h3']);
  assert.deepEqual(placement.b.map((p) => p.host), ['h2', 'h2']);
  assert.deepEqual(placement.c.map((p) => p.host), ['h1', 'h2', 'h3']);
});

test('node.hostname matches the hostname label, else the host name', () => {
  const byName = service('a', { deploy: { placement: { constraints: [constraint('hostname', '==', 'h3')] } } });
  const byLabel = service('b', { deploy: { placement: { constraints: [constraint('hostname', '==', 'db-1')] } } });
  const labelWins = service('c', { deploy: { placement: { constraints: [constraint('hostname', '==', 'h2')] } } });
  const { placement, errors } = place(byName, byLabel, labelWins);
  assert.deepEqual(placement.a, [{ host: 'h3', number: 1 }]);
  assert.deepEqual(placement.b, [{ host: 'h2', number: 1 }]);
  assert.deepEqual(placement.c, []);
  assert.equal(errors.length, 1);
});

test('zero replicas place nothing and are not an error, even with unsatisfiable constraints', () => {
  const { placement, errors } = place(service('off', { deploy: { replicas: 0, placement: { constraints: [constraint('role', '==', 'gpu')] } } }));
  assert.deepEqual(placement.off, []);
  assert.deepEqual(errors, []);
});

test('a constraint no host satisfies names the service, the constraint and every host with its labels', () => {
  const mysql = service('mysql', { deploy: { placement: { constraints: [constraint('role', '==', 'db'), constraint('disk', '==', 'ssd')] } } });
  const { placement, errors } = place(mysql, service('web'));
  assert.deepEqual(placement.mysql, []);
  assert.deepEqual(placement.web, [{ host: 'h1', number: 1 }]);
  assert.deepEqual(errors, [
    'service "mysql": no host satisfies node.labels.role == db and node.labels.disk == ssd (hosts: h1 {role=web}, h2 {hostname=db-1, role=db}, h3 {role=web})',
  ]);
  assert.deepEqual(placeStack(stackModel('s', [service('web')]), []).errors, ['service "web": the stack selects no host (hosts: none selected)']);
});

test('max_replicas_per_node: round-robin keeps within the limit, and more replicas than the hosts allow is an error naming them', () => {
  const fits = place(service('web', { deploy: { replicas: 4, placement: { constraints: [], max_replicas_per_node: 2 } } }));
  assert.deepEqual(fits.errors, []);
  assert.deepEqual(fits.placement.web.map((p) => p.host), ['h1', 'h2', 'h3', 'h1']);
  const web = constraint('role', '==', 'web');
  const over = place(service('web', { deploy: { replicas: 3, placement: { constraints: [web], max_replicas_per_node: 1 } } }));
  assert.deepEqual(over.errors, ['service "web": 3 replicas do not fit max_replicas_per_node 1 on the 2 matching hosts (h1, h3): at most 2 do; add hosts, raise the limit or lower replicas']);
});

test('placement preferences on standalone hosts are refused by name, saying a Swarm honours them', () => {
  const model = stackModel('s', [service('web', { deploy: { replicas: 2, placement: { constraints: [], preferences: [{ spread: 'node.labels.zone' }] } } })]);
  const spec = { name: 's', file: 'stacks/s.yml', template: 't', version: '1', answers: {}, hosts: {} };
  assert.throws(() => refuseSwarmOnlyKeys(model, spec), (e: Error & { problems?: { field: string; message: string }[] }) =>
    e.problems!.length === 1 && e.problems![0].field === 'services.web.deploy.placement.preferences' && /only a Swarm does.*deploy the stack to a Swarm \(swarm:\)/.test(e.problems![0].message));
  const limited = stackModel('s', [service('web', { deploy: { replicas: 2, placement: { constraints: [], max_replicas_per_node: 1 } } })]);
  assert.doesNotThrow(() => refuseSwarmOnlyKeys(limited, spec));
});
