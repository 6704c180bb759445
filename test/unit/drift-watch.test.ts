// How drift events become reconciles: Berth's own apply explains the events about what it touched (and nothing
// else); a burst is one run once it settles; a stack that keeps drifting waits longer each time; a lost stream is
// said once and, when back, its target's stacks are checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { DriftWatch } from '../../controller/drift-watch.ts';
import { Metrics } from '../../controller/metrics.ts';
import { describeDrift, driftOf, OwnChanges, stackOfObject, type DriftEvent } from '../../engines/drift.ts';
import { createLogger } from '../../lib/log.ts';
import { metric, parseMetrics } from '../integration/serve-fixtures.ts';

function world() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, done) => (lines.push(JSON.parse(String(c))), done()) }) });
  const queued: Array<[string, string]> = [];
  const resyncs: string[] = [];
  const invalidated: string[] = [];
  const metrics = new Metrics({ processMetrics: false });
  const watch = new DriftWatch({
    log, metrics, stacks: () => ['shop', 'shop_x', 'blog'], quietMs: 40,
    enqueue: (stack, why) => void queued.push([stack, why]),
    invalidate: (stack) => void invalidated.push(stack), resync: (target) => void resyncs.push(target),
  });
  const msgs = () => lines.map((l) => String(l.msg));
  return { watch, queued, resyncs, invalidated, metrics, msgs };
}

const ev = (over: Partial<DriftEvent> = {}): DriftEvent => ({ target: 'h1', stack: 'shop', kind: 'container', action: 'die', name: 'shop-web-1', id: 'c1', own: false, ...over });

test('Berth\'s own apply explains the events about what it touched, not a person\'s act on another container of the stack', async () => {
  const own = new OwnChanges({ precise: true, graceMs: 200 });
  let inside = false;
  await own.during('shop', async (touch) => {
    touch('old-id');
    touch('shop_default');
    inside = own.explains({ stack: 'shop', name: 'shop-web-1', id: 'old-id' });
    assert.equal(own.explains({ stack: 'shop', name: 'shop-web-2', id: 'other' }), false, 'another container of the stack: drift');
  });
  assert.ok(inside);
  assert.ok(own.explains({ name: 'shop_default', id: 'n1' }), 'a network it removed, known by name (its events carry no label)');
  assert.ok(own.explains({ stack: 'shop', name: 'x', id: 'old-id' }), 'late events within the grace');
  await sleep(250);
  assert.equal(own.explains({ stack: 'shop', name: 'x', id: 'old-id' }), false, 'after the grace: drift again');

  const coarse = new OwnChanges({ precise: false });
  await coarse.during('shop', async () => assert.ok(coarse.explains({ name: 'shop_web', id: 's1' }), 'a Swarm apply: any service of the stack'));
  assert.equal(coarse.explains({ name: 'blog_web', id: 's2' }), false);
});

test('Docker events become drift of the stack they name; others are not Berth\'s', () => {
  const container = { Type: 'container', Action: 'die', time: 1, Actor: { ID: 'c1', Attributes: { 'berth.stack': 'shop', name: 'shop-web-1' } } };
  assert.deepEqual(driftOf('h1', container), { target: 'h1', action: 'die', id: 'c1', name: 'shop-web-1', kind: 'container', stack: 'shop' });
  assert.equal(driftOf('h1', { ...container, Actor: { ID: 'c2', Attributes: { name: 'someone-else' } } }), undefined, 'no Berth label');
  assert.equal(driftOf('h1', { ...container, Action: 'start' }), undefined);
  const net = driftOf('h1', { Type: 'network', Action: 'destroy', time: 1, Actor: { ID: 'n1', Attributes: { name: 'shop_x_default' } } })!;
  assert.equal(stackOfObject(net, ['shop', 'shop_x']), 'shop_x', 'the longest stack name the object is named after');
  assert.equal(describeDrift({ kind: 'container', name: 'shop-web-1', action: 'die' }), 'drift: container shop-web-1 died (event)');
  assert.equal(describeDrift({ kind: 'service', name: 'shop_web', action: 'update' }), 'drift: service shop_web was updated (event)');
});

test('a burst is one run once it settles, named for its first event; own events and strangers queue nothing', async () => {
  const w = world();
  w.watch.event(ev({ action: 'kill' }));
  w.watch.event(ev({ action: 'die' }));
  await sleep(25);
  w.watch.event(ev({ action: 'destroy' }));
  w.watch.event(ev({ stack: 'blog', name: 'blog-app-1', id: 'c9', own: true }));
  w.watch.event(ev({ stack: 'elsewhere', name: 'elsewhere-1', id: 'c8' }));
  await sleep(25);
  assert.deepEqual(w.queued, [], 'not while events keep coming: the run must see the container gone, not just killed');
  await sleep(40);
  assert.deepEqual(w.queued, [['shop', 'drift: container shop-web-1 was killed (event)']]);
  assert.deepEqual(w.invalidated, ['shop', 'shop', 'shop'], 'each event tells the engine the stack changed');
  const m = parseMetrics(await w.metrics.text());
  assert.equal(metric(m, 'berth_engine_events_total', { target: 'h1', cause: 'other' }), 3);
  assert.equal(metric(m, 'berth_engine_events_total', { cause: 'berth' }), 1);
  assert.ok(w.msgs().includes('stack shop: drift: container shop-web-1 was killed (event)'));
});

test('a stack that keeps drifting waits longer each time', async () => {
  const w = world();
  for (let i = 1; i <= 4; i++) {
    w.watch.event(ev({ id: `c${i}` }));
    await sleep(60);
  }
  assert.equal(w.queued.length, 3, 'three at once, the fourth waits');
  assert.ok(w.msgs().some((m) => /^stack shop keeps drifting \(4 times, each within a minute of the last\); its next drift check waits 2 s$/.test(m)));
  w.watch.stop();
});

test('a lost stream is said once, each timer pass says it stands in, and the stream back checks its stacks', async () => {
  const w = world();
  w.watch.stream('h1', true);
  assert.ok(w.msgs().includes('following events from h1'));
  w.watch.stream('h1', false, 'socket hang up');
  assert.ok(w.msgs().includes('events from h1 lost (socket hang up); until they are back, drift there is found by the timer'));
  w.watch.timerPass();
  assert.ok(w.msgs().some((m) => /^timer pass: events from h1 have been down since .*; this pass is what finds drift there$/.test(m)));
  assert.deepEqual(w.watch.downTargets(), ['h1']);
  w.watch.stream('h1', true);
  assert.deepEqual(w.resyncs, ['h1']);
  assert.ok(w.msgs().some((m) => /^events from h1 are back after \d+ s; checking its stacks for what they missed$/.test(m)));
  w.watch.timerPass();
  assert.ok(w.msgs().some((m) => /^timer pass: events from h1 were down from .* to .*; this pass checks what they missed$/.test(m)));
  const m = parseMetrics(await w.metrics.text());
  assert.equal(metric(m, 'berth_event_stream_reconnects_total', { target: 'h1' }), 1);
  assert.equal(metric(m, 'berth_event_stream_up', { target: 'h1' }), 1);
});
