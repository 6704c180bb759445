// Golden-text tests of recovery: the state a crash leaves at each step of a rolling update (names and labels as
// rollout.ts writes them), and what the plan decides for it — finish the update or undo it, with the cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNoop, planStack } from '../../engines/standalone/plan.ts';
import { formatPlan, planToJson } from '../../engines/standalone/plan-format.ts';
import type { ObservedContainer } from '../../engines/standalone/types.ts';
import { container, desired, host, observed, observedHost, service, stackModel } from './controller-fixtures.ts';

const v1 = service('web', { image: 'web:1' });
const v2 = service('web', { image: 'web:2' });
const job = service('web', { image: 'web:2', restart: 'no' });
const want = desired(stackModel('shop', [v2]), [host('h1')], 'acme@2.0.0');
const OLD = 'aaaaaaaaaaaa1111';
const NEW = 'bbbbbbbbbbbb2222';

/** The replica's old container, renamed aside by the update. */
const aside = (over: Partial<ObservedContainer> = {}) => container('shop', v1, 1, { id: OLD, name: 'shop-web-1-old-aaaaaaaaaaaa', startedAt: '2024-05-01T00:00:00Z', ...over });
/** Its replacement, labelled with what it replaces. */
const replacement = (over: Partial<ObservedContainer> = {}, svc = v2) =>
  container('shop', svc, 1, { id: NEW, startedAt: '2024-05-02T00:00:00Z', rollout: { replaces: OLD, wasRunning: true }, ...over });

function plan(cs: ObservedContainer[], d = want) {
  return planStack(d, observed('shop', [observedHost('h1', cs, ['shop_default'])]));
}

const text = (lines: string[]) => `${lines.join('\n')}\n`;

test('killed after the rename (stop-first): the old container gets its name back, runs again, and the update is retried', () => {
  const p = plan([aside({ state: 'exited', exitCode: 0 })]);
  assert.equal(formatPlan(p), text([
    'stack shop (acme@2.0.0)',
    '  host h1',
    '    < restore web #1                restore web#1 from shop-web-1-old-aaaaaaaaaaaa: replacement never created',
    '    ~ recreate web #1               config changed: image',
    '        image: web:1 → web:2',
    'Plan: 0 to create, 1 to recreate, 0 to start, 0 to remove, 0 unchanged; 1 interrupted update to settle.',
  ]));
  const ops = planToJson(p).hosts as { operations: Record<string, unknown>[] }[];
  assert.deepEqual(ops[0].operations[0], {
    kind: 'restore', host: 'h1', service: 'web', number: 1, asideId: OLD, asideName: 'shop-web-1-old-aaaaaaaaaaaa', name: 'shop-web-1', removeIds: [], start: true,
    cause: 'restore web#1 from shop-web-1-old-aaaaaaaaaaaa: replacement never created',
  });
  // The recreate acts on the old container, which by then has its own name again.
  assert.equal((ops[0].operations[1] as { containerId: string }).containerId, OLD);
});

test('killed after create: the replacement that never started is removed and the old one restored', () => {
  const p = plan([aside({ state: 'exited' }), replacement({ state: 'created' })]);
  assert.equal(formatPlan(p), text([
    'stack shop (acme@2.0.0)',
    '  host h1',
    '    < restore web #1                restore web#1 from shop-web-1-old-aaaaaaaaaaaa: replacement never started',
    '    ~ recreate web #1               config changed: image',
    '        image: web:1 → web:2',
    'Plan: 0 to create, 1 to recreate, 0 to start, 0 to remove, 0 unchanged; 1 interrupted update to settle.',
  ]));
  const restore = p.hosts[0].operations[0];
  assert.ok(restore.kind === 'restore' && restore.removeIds.join() === NEW && restore.start);
});

test('killed while the replacement proves itself (start-first: the old one still runs aside): finish, waiting for it', () => {
  const p = plan([aside({ state: 'running' }), replacement({ health: 'starting' })]);
  assert.equal(formatPlan(p, { verbose: true }), text([
    'stack shop (acme@2.0.0)',
    '  host h1',
    '    ~ finish  web #1                finish interrupted update of web#1: new container starting, remove shop-web-1-old-aaaaaaaaaaaa',
    '    = keep    web #1                up to date',
    'Plan: 0 to create, 0 to recreate, 0 to start, 0 to remove, 1 unchanged; 1 interrupted update to settle.',
  ]));
  assert.equal(isNoop(p), false);
});

test('killed before the old container was removed: the healthy replacement stays, the old one goes', () => {
  const p = plan([aside({ state: 'exited' }), replacement({ health: 'healthy' })]);
  assert.deepEqual(p.hosts[0].operations.map((o) => `${o.kind}: ${o.cause}`), [
    'finish: finish interrupted update of web#1: new container healthy, remove shop-web-1-old-aaaaaaaaaaaa',
    'keep: up to date',
  ]);
  const finish = p.hosts[0].operations[0];
  assert.ok(finish.kind === 'finish' && finish.containerId === NEW && finish.asideId === OLD);
});

test('a replacement that exited or is unhealthy is undone; the old one runs again only if it ran before', () => {
  const exited = plan([aside({ state: 'exited' }), replacement({ state: 'exited', exitCode: 1 })]);
  assert.equal(exited.hosts[0].operations[0].cause, 'restore web#1 from shop-web-1-old-aaaaaaaaaaaa: replacement exited with code 1');
  const stopped = plan([aside({ state: 'exited', exitCode: 0 }), replacement({ health: 'unhealthy', rollout: { replaces: OLD, wasRunning: false } })]);
  const [restore, next] = stopped.hosts[0].operations;
  assert.equal(restore.cause, 'restore web#1 from shop-web-1-old-aaaaaaaaaaaa: replacement unhealthy');
  assert.ok(restore.kind === 'restore' && !restore.start);
  assert.equal(next.kind, 'recreate');
});

test('a one-shot job put back is not started again', () => {
  const d = desired(stackModel('shop', [job]), [host('h1')], 'acme@2.0.0');
  const p = plan([aside({ state: 'exited', exitCode: 0 })], d);
  const restore = p.hosts[0].operations[0];
  assert.ok(restore.kind === 'restore' && !restore.start);
});

test('the desired state went back to the old version meanwhile: restore and keep, nothing recreated', () => {
  const back = desired(stackModel('shop', [v1]), [host('h1')], 'acme@1.0.0');
  const p = plan([aside({ state: 'running' }), replacement({ state: 'created' })], back);
  assert.deepEqual(p.hosts[0].operations.map((o) => o.kind), ['restore', 'keep']);
});

test('old containers piled up by earlier failed recoveries: the newest is restored, the others removed', () => {
  const older = aside({ id: 'cccccccccccc3333', name: 'shop-web-1-old-cccccccccccc', startedAt: '2024-04-01T00:00:00Z', state: 'exited' });
  const p = plan([older, aside({ state: 'exited' })]);
  assert.deepEqual(p.hosts[0].operations.map((o) => `${o.kind}: ${o.cause}`), [
    'restore: restore web#1 from shop-web-1-old-aaaaaaaaaaaa: replacement never created',
    'recreate: config changed: image',
    'remove: left over from an interrupted update (shop-web-1-old-cccccccccccc)',
  ]);
});

test('the old container paired by the label wins over a newer one', () => {
  const other = aside({ id: 'dddddddddddd4444', name: 'shop-web-1-old-dddddddddddd', startedAt: '2024-06-01T00:00:00Z', state: 'exited' });
  const p = plan([other, aside({ state: 'exited' }), replacement({ health: 'healthy' })]);
  const ops = p.hosts[0].operations;
  assert.ok(ops[0].kind === 'finish' && ops[0].asideId === OLD);
  assert.deepEqual(ops.map((o) => o.kind), ['finish', 'keep', 'remove']);
});

test('a name that only looks like an old container is a container like any other', () => {
  const p = plan([container('shop', v2, 1, { name: 'shop-web-1-old-not-hex' })]);
  assert.deepEqual(p.hosts[0].operations.map((o) => o.kind), ['keep']);
});
