// The serve queue with fake work: coalescing, per-stack exclusivity, the concurrency bound, deadlines, drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReconcileQueue, describeReasons, deliveryIds, type Job, type RunEnd } from '../../controller/queue.ts';

/** Work whose runs stay open until the test releases them. */
function gatedWork() {
  const runs: Job[] = [];
  const releases: Array<() => void> = [];
  let live = new Map<string, number>();
  let maxPerKey = 0;
  let maxTotal = 0;
  const work = (job: Job) => {
    runs.push(job);
    live.set(job.key, (live.get(job.key) ?? 0) + 1);
    maxPerKey = Math.max(maxPerKey, live.get(job.key)!);
    maxTotal = Math.max(maxTotal, [...live.values()].reduce((a, b) => a + b, 0));
    return new Promise<void>((resolve) => releases.push(() => {
      live.set(job.key, live.get(job.key)! - 1);
      resolve();
    }));
  };
  return {
    work, runs, releases,
    get maxPerKey() { return maxPerKey; },
    get maxTotal() { return maxTotal; },
    reset() { live = new Map(); },
  };
}

const tick = () => sleep(5);

test('50 triggers for a busy stack fold into exactly one follow-up run carrying every reason', async () => {
  const g = gatedWork();
  const q = new ReconcileQueue({ work: g.work });
  assert.equal(q.enqueue('shop', { kind: 'push', why: 'push aaaaaaa', deliveryId: 'd0' }), 'queued');
  await tick();
  assert.equal(g.runs.length, 1);
  const answers = Array.from({ length: 50 }, (_, i) => q.enqueue('shop', { kind: 'push', why: 'push bbbbbbb', deliveryId: `d${i + 1}` }));
  assert.equal(answers.filter((a) => a === 'queued').length, 1, 'the first one schedules the follow-up');
  assert.equal(answers.filter((a) => a === 'coalesced').length, 49);
  assert.deepEqual(q.pending(), ['shop']);
  g.releases.shift()!();
  await tick();
  assert.equal(g.runs.length, 2, 'one follow-up');
  const follow = g.runs[1];
  assert.equal(follow.reasons.length, 50);
  assert.equal(describeReasons(follow.reasons), 'push bbbbbbb');
  assert.deepEqual(deliveryIds(follow.reasons), Array.from({ length: 50 }, (_, i) => `d${i + 1}`));
  g.releases.shift()!();
  await tick();
  assert.equal(g.runs.length, 2, 'nothing more');
  assert.deepEqual(q.running(), []);
  assert.deepEqual(q.pending(), []);
});

test('triggers for a stack still waiting for a slot fold into its one pending run', async () => {
  const g = gatedWork();
  const q = new ReconcileQueue({ work: g.work, concurrency: 1 });
  q.enqueue('a', { kind: 'timer', why: 'timer' });
  q.enqueue('b', { kind: 'timer', why: 'timer' });
  assert.equal(q.enqueue('b', { kind: 'merge', why: 'merge ccccccc' }), 'coalesced');
  await tick();
  g.releases.shift()!();
  await tick();
  assert.deepEqual(g.runs.map((r) => r.key), ['a', 'b']);
  assert.equal(describeReasons(g.runs[1].reasons), 'timer, merge ccccccc');
  g.releases.shift()!();
});

test('one run per stack at a time; different stacks run side by side up to the bound', async () => {
  const g = gatedWork();
  const q = new ReconcileQueue({ work: g.work, concurrency: 3 });
  for (let round = 0; round < 5; round++) for (const k of ['a', 'b', 'c', 'd', 'e']) q.enqueue(k, { kind: 'timer', why: `round ${round}` });
  for (let i = 0; i < 40 && (g.releases.length || q.pending().length || q.running().length); i++) {
    await tick();
    assert.ok(q.running().length <= 3);
    g.releases.shift()?.();
  }
  assert.equal(g.maxPerKey, 1, 'never two runs of one stack at once');
  assert.equal(g.maxTotal, 3, 'the bound was used, not exceeded');
  // a, b, c started at once, so rounds 1-4 make one follow-up each; d and e waited for a slot with all five folded.
  assert.equal(g.runs.length, 8);
  for (const k of ['a', 'b', 'c']) assert.deepEqual(g.runs.filter((r) => r.key === k).map((r) => r.reasons.length), [1, 4]);
  for (const k of ['d', 'e']) assert.deepEqual(g.runs.filter((r) => r.key === k).map((r) => r.reasons.length), [5]);
});

test('a run past its deadline is aborted; one that ignores the abort is abandoned after the grace period', async () => {
  const ends: Array<[string, RunEnd]> = [];
  let sawAbort = false;
  const q = new ReconcileQueue({
    deadlineMs: 30,
    graceMs: 40,
    onSettled: (job, end) => ends.push([job.key, end]),
    work: async (job) => {
      if (job.key === 'polite') {
        await sleep(10_000, undefined, { signal: job.signal }).catch(() => (sawAbort = true));
        return;
      }
      await new Promise(() => {}); // hangs forever, like a stuck engine socket
    },
  });
  q.enqueue('polite', { kind: 'timer', why: 'timer' });
  q.enqueue('stuck', { kind: 'timer', why: 'timer' });
  const started = Date.now();
  await q.drain(5_000);
  assert.ok(Date.now() - started < 2_000, 'nothing waited forever');
  assert.ok(sawAbort, 'the polite run saw its signal abort');
  assert.deepEqual(ends.sort(), [['polite', 'done'], ['stuck', 'abandoned']]);
});

test('the stack is free again after a run that threw or was abandoned', async () => {
  let calls = 0;
  const q = new ReconcileQueue({
    deadlineMs: 20,
    graceMs: 10,
    work: async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      if (calls === 2) await new Promise(() => {});
    },
  });
  q.enqueue('s', { kind: 'timer', why: 'timer' });
  await sleep(20);
  q.enqueue('s', { kind: 'timer', why: 'timer' });
  await sleep(100);
  q.enqueue('s', { kind: 'timer', why: 'timer' });
  await sleep(20);
  assert.equal(calls, 3);
  await q.drain(100);
});

test('drain waits for running work, drops what has not started, aborts past its deadline and refuses new work', async () => {
  const g = gatedWork();
  const q = new ReconcileQueue({ work: g.work, concurrency: 1 });
  q.enqueue('a', { kind: 'timer', why: 'timer' });
  q.enqueue('b', { kind: 'timer', why: 'timer' });
  await tick();
  let drained = false;
  const d = q.drain(10_000).then(() => (drained = true));
  await tick();
  assert.equal(drained, false, 'waits for the running run');
  assert.equal(q.enqueue('c', { kind: 'timer', why: 'timer' }), 'closed');
  g.releases.shift()!();
  await d;
  assert.deepEqual(g.runs.map((r) => r.key), ['a'], 'b never started');

  const q2 = new ReconcileQueue({ graceMs: 1_000, work: (job) => sleep(60_000, undefined, { signal: job.signal }).catch(() => {}) });
  q2.enqueue('slow', { kind: 'timer', why: 'timer' });
  await tick();
  const started = Date.now();
  await q2.drain(50);
  assert.ok(Date.now() - started < 1_000, 'the drain deadline aborted the run');
});

test('a concurrency above 10 runs side by side without a listener-leak warning on the stop signal', async () => {
  const g = gatedWork();
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const q = new ReconcileQueue({ work: g.work, concurrency: 16 });
    for (let i = 0; i < 16; i++) q.enqueue(`s${i}`, { kind: 'timer', why: 'timer' });
    await tick();
    assert.equal(g.maxTotal, 16);
    for (const release of g.releases) release();
    await q.drain(1_000);
    // Node emits 'warning' on the next tick.
    await tick();
    assert.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
  } finally {
    process.off('warning', onWarning);
  }
});
