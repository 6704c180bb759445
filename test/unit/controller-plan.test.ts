// Golden-text tests of the plan: each builds desired and observed states by hand and compares the whole text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNoop, planStack, serviceOrder, summarize } from '../../engines/standalone/plan.ts';
import { formatPlan, planToJson } from '../../engines/standalone/plan-format.ts';
import type { ObservedHost } from '../../engines/standalone/types.ts';
import { constraint, container, desired, host, network, observed, observedHost, service, stackModel, volume } from './controller-fixtures.ts';

const dbData = { type: 'volume' as const, source: 'data', target: '/var/lib/postgresql/data', read_only: false, nocopy: false };
const db = service('db', { image: 'postgres:16', volumes: [dbData] });
const web = service('web', { deploy: { replicas: 3 }, depends_on: { db: { condition: 'service_started', required: true, restart: false } } });
const model = stackModel('shop', [web, db], { volumes: { data: volume('shop', 'data') } });
const h1 = host('h1', { role: 'web' });
const h2 = host('h2', { role: 'web' });
const shop = desired(model, [h1, h2], 'acme@1.0.0');
const current = (svc = web) => ({ from: stackModel('shop', [svc, db], { volumes: { data: volume('shop', 'data') } }) });
const upToDate = (): ObservedHost[] => [
  observedHost('h1', [container('shop', db, 1, current()), container('shop', web, 1, current()), container('shop', web, 3, current())], ['shop_default'], ['shop_data']),
  observedHost('h2', [container('shop', web, 2, current())], ['shop_default']),
];
const unreachable = (name: string): ObservedHost => ({ host: name, reachable: false, error: 'connect ECONNREFUSED /run/x.sock', containers: [], networks: [], volumes: [] });

function text(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

test('from nothing: networks and volumes first, then containers in dependency order', () => {
  const plan = planStack(shop, observed('shop', [observedHost('h1', []), observedHost('h2', [])]));
  assert.equal(formatPlan(plan), text([
    'stack shop (acme@1.0.0)',
    '  host h1',
    '    + network shop_default          not found',
    '    + volume  shop_data             not found',
    '    + create  db #1                 not found',
    '    + create  web #1                not found',
    '    + create  web #3                not found',
    '  host h2',
    '    + network shop_default          not found',
    '    + create  web #2                not found',
    'Plan: 4 to create, 0 to recreate, 0 to start, 0 to remove, 0 unchanged; 2 networks to create, 1 volume to create.',
  ]));
  assert.equal(isNoop(plan), false);
});

test('no-op: everything kept, listed only when verbose', () => {
  const plan = planStack(shop, observed('shop', upToDate()));
  assert.equal(isNoop(plan), true);
  assert.equal(formatPlan(plan), text(['stack shop (acme@1.0.0)', '  host h1: no changes', '  host h2: no changes', 'No changes: 4 unchanged.']));
  assert.equal(formatPlan(plan, { verbose: true }), text([
    'stack shop (acme@1.0.0)',
    '  host h1',
    '    = keep    db #1                 up to date',
    '    = keep    web #1                up to date',
    '    = keep    web #3                up to date',
    '  host h2',
    '    = keep    web #2                up to date',
    'No changes: 4 unchanged.',
  ]));
});

test('recreate on image and environment changes, naming each field', () => {
  const old = service('web', { ...web, image: 'nginx:1.26-alpine', environment: { MSG: 'hello', GONE: 'x' } });
  const next = desired(stackModel('shop', [service('web', { ...web, environment: { MSG: 'bonjour' } }), db], { volumes: model.volumes }), [h1, h2], 'acme@1.1.0');
  const [o1, o2] = upToDate();
  o1.containers[1] = container('shop', web, 1, current(old));
  o2.containers[0] = container('shop', web, 2, current(service('web', { ...web, environment: { MSG: 'hello' } })));
  const plan = planStack(next, observed('shop', [o1, o2]));
  assert.equal(formatPlan(plan), text([
    'stack shop (acme@1.1.0)',
    '  host h1',
    '    ~ recreate web #1               config changed: environment.GONE, environment.MSG, image',
    '        environment.GONE: x → (none)',
    '        environment.MSG: hello → bonjour',
    '        image: nginx:1.26-alpine → nginx:1.27-alpine',
    '    ~ recreate web #3               config changed: environment.MSG',
    '        environment.MSG: (none) → bonjour',
    '  host h2',
    '    ~ recreate web #2               config changed: environment.MSG',
    '        environment.MSG: hello → bonjour',
    'Plan: 0 to create, 3 to recreate, 0 to start, 0 to remove, 1 unchanged.',
  ]));
});

test('a tag that now names another image recreates its containers; a vanished image changes nothing', () => {
  const hosts = upToDate();
  hosts[0].images = { 'postgres:16': 'sha256:img', [web.image]: 'sha256:0123456789abcdef' };
  hosts[1].images = {};
  const plan = planStack(shop, observed('shop', hosts));
  assert.equal(formatPlan(plan), text([
    'stack shop (acme@1.0.0)',
    '  host h1',
    `    ~ recreate web #1               image changed: ${web.image} is now 0123456789ab`,
    `        image: ${web.image} (img) → ${web.image} (0123456789ab)`,
    `    ~ recreate web #3               image changed: ${web.image} is now 0123456789ab`,
    `        image: ${web.image} (img) → ${web.image} (0123456789ab)`,
    '  host h2: no changes',
    'Plan: 0 to create, 2 to recreate, 0 to start, 0 to remove, 2 unchanged.',
  ]));
});

test('a container without a stored config is recreated and says so', () => {
  const [o1, o2] = upToDate();
  o2.containers[0] = { ...o2.containers[0], hash: undefined, config: undefined };
  const plan = planStack(shop, observed('shop', [o1, o2]));
  const recreate = plan.hosts[1].operations[0];
  assert.equal(recreate.kind, 'recreate');
  assert.equal(recreate.cause, 'config changed: no record of the previous config');
  assert.match(formatPlan(plan), /\n {8}config: unknown → hash [0-9a-f]{12}\n/);
});

test('scale up adds the next numbers; scale down removes the highest and nothing else', () => {
  const five = desired(stackModel('shop', [service('web', { ...web, deploy: { replicas: 5 } }), db], { volumes: model.volumes }), [h1, h2]);
  assert.equal(formatPlan(planStack(five, observed('shop', upToDate()))), text([
    'stack shop (demo@1.0.0)',
    '  host h1',
    '    + create  web #5                not found',
    '  host h2',
    '    + create  web #4                not found',
    'Plan: 2 to create, 0 to recreate, 0 to start, 0 to remove, 4 unchanged.',
  ]));
  const two = desired(stackModel('shop', [service('web', { ...web, deploy: { replicas: 2 } }), db], { volumes: model.volumes }), [h1, h2]);
  assert.equal(formatPlan(planStack(two, observed('shop', upToDate()))), text([
    'stack shop (demo@1.0.0)',
    '  host h1',
    '    - remove  web #3                scale 3 → 2',
    '  host h2: no changes',
    'Plan: 0 to create, 0 to recreate, 0 to start, 1 to remove, 3 unchanged.',
  ]));
});

test('a service gone from the stack is removed as an orphan, and its unused network after it', () => {
  const [o1, o2] = upToDate();
  o1.containers.push(container('shop', service('worker', { networks: { jobs: { aliases: [] } } }), 1));
  o1.networks.push({ name: 'shop_jobs', id: 'id-jobs' });
  o1.volumes.push({ name: 'shop_jobdata' });
  assert.equal(formatPlan(planStack(shop, observed('shop', [o1, o2]))), text([
    'stack shop (acme@1.0.0)',
    '  host h1',
    '    - remove  worker #1             orphan: service worker is no longer in the stack',
    '    - network shop_jobs             no longer used',
    '  host h2: no changes',
    'Plan: 0 to create, 0 to recreate, 0 to start, 1 to remove, 4 unchanged; 1 network to remove.',
  ]));
});

test('a replica whose host no longer fits moves: created on the new host, removed from the old', () => {
  const pinned = service('web', { ...web, deploy: { replicas: 2, placement: { constraints: [constraint('hostname', '!=', 'h1')] } } });
  const moved = desired(stackModel('shop', [pinned, db], { volumes: model.volumes }), [h1, h2]);
  const [o1, o2] = upToDate();
  o1.containers.pop();
  const plan = planStack(moved, observed('shop', [o1, o2]));
  assert.equal(formatPlan(plan), text([
    'stack shop (demo@1.0.0)',
    '  host h1',
    '    - remove  web #1                moved to host h2',
    '  host h2',
    '    + create  web #1                not found',
    'Plan: 1 to create, 0 to recreate, 0 to start, 1 to remove, 2 unchanged.',
  ]));
  // Until the new host answers, the old replica stays: removing it would only lose capacity.
  const later = planStack(moved, observed('shop', [o1, unreachable('h2')]));
  assert.equal(formatPlan(later, { verbose: true }), text([
    'stack shop (demo@1.0.0)',
    '  host h1',
    '    = keep    db #1                 up to date',
    '    = keep    web #1                to move to host h2 once it is reachable',
    '  host h2: unreachable: connect ECONNREFUSED /run/x.sock',
    'No changes: 2 unchanged; 1 host not planned.',
  ]));
});

test('stopped containers are started with the reason; a completed one-shot job is left alone', () => {
  const job = service('migrate', { restart: 'no', networks: {} });
  const m = stackModel('shop', [web, db, job], { volumes: model.volumes });
  const d = desired(m, [h1, h2]);
  const from = { from: m };
  const o1 = observedHost('h1', [
    container('shop', db, 1, { ...from, state: 'created' }),
    container('shop', job, 1, { ...from, state: 'exited', exitCode: 0 }),
    container('shop', web, 1, { ...from, state: 'exited', exitCode: 137 }),
    container('shop', web, 3, { ...from, state: 'paused' }),
  ], ['shop_default'], ['shop_data']);
  const o2 = observedHost('h2', [container('shop', web, 2, { ...from, state: 'dead', exitCode: 255 })], ['shop_default']);
  assert.equal(formatPlan(planStack(d, observed('shop', [o1, o2])), { verbose: true }), text([
    'stack shop (demo@1.0.0)',
    '  host h1',
    '    > start   db #1                 created but not started',
    '    = keep    migrate #1            completed',
    '    > start   web #1                exited with code 137',
    '    > start   web #3                paused',
    '  host h2',
    '    ~ recreate web #2               dead: Docker cannot start it again',
    'Plan: 0 to create, 1 to recreate, 3 to start, 0 to remove, 1 unchanged.',
  ]));
  o1.containers[1] = container('shop', job, 1, { ...from, state: 'exited', exitCode: 1 });
  const failed = planStack(d, observed('shop', [o1, o2])).hosts[0].operations[1];
  assert.deepEqual([failed.kind, failed.cause], ['start', 'exited with code 1']);
});

test('duplicates of one replica: the running one stays, the others go', () => {
  const [o1, o2] = upToDate();
  o2.containers.unshift(
    container('shop', web, 2, { ...current(), id: 'aaa000000000', name: 'web-copy', state: 'exited', exitCode: 0, startedAt: '2025-01-01T00:00:00Z' }),
    container('shop', web, 2, { ...current(), id: 'bbb000000000', name: 'web-old', state: 'running', hash: 'stale' }),
  );
  assert.equal(formatPlan(planStack(shop, observed('shop', [o1, o2]))), text([
    'stack shop (acme@1.0.0)',
    '  host h1: no changes',
    '  host h2',
    '    - remove  web #2                duplicate of shop-web-2',
    '    - remove  web #2                duplicate of shop-web-2',
    'Plan: 0 to create, 0 to recreate, 0 to start, 2 to remove, 4 unchanged.',
  ]));
});

test('an unreachable host is planned with its error and no operations; the others go on', () => {
  const [o1] = upToDate();
  o1.containers.pop();
  const plan = planStack(shop, observed('shop', [o1, unreachable('h2')]));
  assert.equal(formatPlan(plan), text([
    'stack shop (acme@1.0.0)',
    '  host h1',
    '    + create  web #3                not found',
    '  host h2: unreachable: connect ECONNREFUSED /run/x.sock',
    'Plan: 1 to create, 0 to recreate, 0 to start, 0 to remove, 2 unchanged; 1 host not planned.',
  ]));
  assert.equal(planStack(shop, observed('shop', [o1])).hosts[1].error, 'not observed');
});

test('a host the stack no longer selects has everything removed but its volumes', () => {
  const onlyH1 = desired(model, [h1]);
  const [o1, o2] = upToDate();
  o2.volumes.push({ name: 'shop_data' });
  assert.equal(formatPlan(planStack(onlyH1, observed('shop', [o1, o2]))), text([
    'stack shop (demo@1.0.0)',
    '  host h1',
    '    + create  web #2                not found',
    '  host h2',
    '    - remove  web #2                moved to host h1',
    '    - network shop_default          no longer used',
    'Plan: 1 to create, 0 to recreate, 0 to start, 1 to remove, 3 unchanged; 1 network to remove.',
  ]));
});

test('external networks and volumes are neither created nor removed', () => {
  const ext = service('web', { ...web, networks: { default: { aliases: [] }, proxy: { aliases: [] } }, volumes: [{ ...dbData, source: 'shared' }] });
  const m = stackModel('shop', [ext, db], {
    networks: { default: network('shop', 'default'), proxy: network('shop', 'proxy', { name: 'proxy', external: true }) },
    volumes: { data: volume('shop', 'data'), shared: volume('shop', 'shared', { name: 'shared', external: true }) },
  });
  const plan = planStack(desired(m, [h1, h2]), observed('shop', [observedHost('h1', [], ['shop_default'], ['shop_data']), observedHost('h2', [], ['shop_default'])]));
  const kinds = plan.hosts.flatMap((h) => h.operations.map((op) => op.kind));
  assert.deepEqual(kinds, ['create', 'create', 'create', 'create']);
});

test('summary counts, no-op detection and JSON are plain data', () => {
  const [o1, o2] = upToDate();
  o2.containers = [];
  const plan = planStack(shop, observed('shop', [o1, o2]));
  assert.deepEqual(summarize(plan), {
    'create-network': 0, 'create-volume': 0, finish: 0, restore: 0, create: 1, recreate: 0, start: 0, remove: 0, 'remove-network': 0, keep: 3,
    'create-service': 0, 'update-service': 0, 'remove-service': 0, 'keep-service': 0, 'create-object': 0, 'remove-object': 0,
  });
  const json = planToJson(planStack(shop, observed('shop', [observedHost('h1', []), observedHost('h2', [])])));
  assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
  const hosts = json.hosts as { operations: Record<string, unknown>[] }[];
  assert.deepEqual(hosts[0].operations[0], { kind: 'create-network', host: 'h1', network: 'shop_default', cause: 'not found' });
  assert.deepEqual(hosts[0].operations[2], { kind: 'create', host: 'h1', service: 'db', number: 1, cause: 'not found' });
});

test('service order: dependencies first, ties by name, cycles do not hang', () => {
  const a = service('a', { depends_on: { c: { condition: 'service_started', required: true, restart: false } } });
  assert.deepEqual(serviceOrder(stackModel('s', [a, service('b'), service('c')])), ['b', 'c', 'a']);
  const x = service('x', { depends_on: { y: { condition: 'service_started', required: true, restart: false } } });
  const y = service('y', { depends_on: { x: { condition: 'service_started', required: true, restart: false } } });
  assert.deepEqual(serviceOrder(stackModel('s', [y, x])), ['x', 'y']);
});

test('color wraps the operation in ANSI codes and leaves the cause plain', () => {
  const plan = planStack(shop, observed('shop', [observedHost('h1', []), observedHost('h2', [])]));
  assert.match(formatPlan(plan, { color: true }), /\[32m\+ create  db #1 +\[0mnot found/);
});
