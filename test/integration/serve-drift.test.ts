// Drift seen as it happens: `berth serve` (a child process, timer an hour away) follows h1's event stream, so a
// container removed or stopped by hand is back within seconds, the log names the event, and Berth's own apply
// does not set off another run. With the event stream lost (a proxy in front of h1's socket cuts every /events
// request while other calls pass) the timer finds the drift instead and says why; when the stream is back, events
// heal again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerGate, waitFor } from '../harness/env.ts';
import { proxySocket, type SocketProxy } from '../harness/socket-proxy.ts';
import { useHarnessStacks } from './converge-fixtures.ts';
import { metric, ServeWorld, type Serve } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const EVENTS = 'sv-events';
const LOST = 'sv-lost';
const worlds: ServeWorld[] = [];
const serves: Serve[] = [];
const proxies: SocketProxy[] = [];

useHarnessStacks(gate, [EVENTS, LOST], async () => {
  for (const s of serves) await s.stop();
  for (const w of worlds) await w.dispose();
  for (const p of proxies) await p.close();
});

async function start(stack: string, opts: { endpoint?: string; intervalSeconds: number }): Promise<{ w: ServeWorld; s: Serve }> {
  const w = await ServeWorld.create(gate, stack, { web_version: '1' }, { endpoint: opts.endpoint });
  worlds.push(w);
  const s = await w.serve({ intervalSeconds: opts.intervalSeconds });
  serves.push(s);
  await w.converged('1');
  await waitFor(async () => (await s.json<StackState>(`/api/stacks/${stack}`)).status === 'Ready', { what: `${stack} Ready` });
  await waitFor(() => s.logs.some((l) => l.msg === 'following events from h1'), { what: 'serve following h1\'s events' });
  return { w, s };
}

const logged = (s: Serve, re: RegExp, from = 0) => s.logs.slice(from).find((l) => typeof l.msg === 'string' && re.test(l.msg));
/** The log line of the run that healed the stack (its outcome line), once there is one after `from`. */
const healed = (s: Serve, stack: string, from: number) => waitFor(() => s.logs.slice(from).find((l) => l.stack === stack && l.outcome === 'converged'), { what: `${stack}'s heal logged` });
const reconciles = async (s: Serve, stack: string) => metric(await s.metrics(), 'berth_reconcile_total', { stack });

/** Polls h1 every 100 ms until the stack runs one container that is not `gone`; the seconds it took. */
async function backWithin(w: ServeWorld, gone: string, from: number, timeoutMs: number): Promise<number> {
  await waitFor(async () => {
    const cs = await w.containers();
    return cs.length === 1 && cs[0].state === 'running' && (cs[0].id !== gone || undefined);
  }, { timeoutMs, intervalMs: 100, what: `${w.stack} running again (${JSON.stringify(await w.containers())})` });
  return (Date.now() - from) / 1000;
}

test('a container removed by hand is recreated at once from the event, not by the timer; Berth\'s own events start nothing', gate.opts, async () => {
  const { w, s } = await start(EVENTS, { intervalSeconds: 3600 });
  const docker = gate.docker('h1');
  const mark = s.logs.length;
  const [victim] = await w.containers();
  const t0 = Date.now();
  await docker.getContainer(victim.id).remove({ force: true });
  const seconds = await backWithin(w, victim.id, t0, 30_000);
  assert.ok(seconds < 15, `back in ${seconds} s`);

  const heal = await healed(s, EVENTS, mark);
  assert.match(String(heal.why), new RegExp(`^drift: container ${EVENTS}-web-1 (was killed|died|was removed) \\(event\\)$`));
  assert.ok(logged(s, new RegExp(`^stack ${EVENTS}: drift: container ${EVENTS}-web-1 .* \\(event\\)$`), mark), 'the log names the event');
  assert.ok(logged(s, new RegExp(`^stack ${EVENTS}: drift undone: h1 web#1 create: not found$`), mark), 'and the heal');
  const m = await s.metrics();
  assert.equal(metric(m, 'berth_drift_heals_total', { stack: EVENTS }), 1);
  assert.ok(metric(m, 'berth_engine_events_total', { target: 'h1', type: 'container', cause: 'other' }) >= 1);

  // Berth's own apply stops and removes containers too: those events are its own and queue nothing.
  const n = await reconciles(s, EVENTS);
  await sleep(6_000);
  assert.equal(await reconciles(s, EVENTS), n, 'no reconcile after the heal: no loop');

  // Stopped by hand: started again (the same container), again from the event.
  const [stopped] = await w.containers();
  const t1 = Date.now();
  await docker.getContainer(stopped.id).stop({ t: 0 });
  await waitFor(async () => (await w.containers()).some((c) => c.id === stopped.id && c.state === 'running'), { timeoutMs: 30_000, intervalMs: 100, what: 'started again' });
  assert.ok((Date.now() - t1) / 1000 < 15);
  await waitFor(async () => metric(await s.metrics(), 'berth_drift_heals_total', { stack: EVENTS }) === 2, { what: 'the second heal counted' });
});

test('with the event stream lost, the timer finds the drift and the log says why; once it is back, events heal again', gate.opts, async () => {
  const proxy = await proxySocket(gate.host('h1').socket);
  proxies.push(proxy);
  const { w, s } = await start(LOST, { endpoint: `unix://${proxy.path}`, intervalSeconds: 4 });
  const docker = gate.docker('h1');

  proxy.block(/^\/(v[\d.]+\/)?events/);
  await waitFor(() => logged(s, /^events from h1 lost \(/), { what: 'the loss logged' });
  const mark = s.logs.length;
  const [victim] = await w.containers();
  await docker.getContainer(victim.id).remove({ force: true });
  await backWithin(w, victim.id, Date.now(), 30_000);
  assert.equal((await healed(s, LOST, mark)).why, 'timer', 'the timer found it, not an event');
  assert.ok(logged(s, /^timer pass: events from h1 have been down since .*; this pass is what finds drift there$/, mark), 'the timer pass says it stands in for the events');
  assert.equal(metric(await s.metrics(), 'berth_event_stream_up', { target: 'h1' }), 0);

  proxy.block(undefined);
  await waitFor(() => logged(s, /^events from h1 are back after \d+ s; checking its stacks for what they missed$/), { timeoutMs: 60_000, what: 'the stream back' });
  await waitFor(async () => metric(await s.metrics(), 'berth_event_stream_reconnects_total', { target: 'h1' }) >= 1, { what: 'the reconnect counted' });
  const [again] = await w.containers();
  const from = s.logs.length;
  await docker.getContainer(again.id).remove({ force: true });
  await backWithin(w, again.id, Date.now(), 30_000);
  assert.ok(logged(s, new RegExp(`^stack ${LOST}: drift: container ${LOST}-web-1 .* \\(event\\)$`), from), 'healed from the event again');
});
