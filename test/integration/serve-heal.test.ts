// `berth serve` heals: the timer undoes drift made by hand (a container removed or stopped), counting it, and a
// serve killed with SIGKILL in the middle of a rollout is restarted into a converged stack with no container
// left aside and exactly one container per replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dockerGate, waitFor } from '../harness/env.ts';
import { useHarnessStacks } from './converge-fixtures.ts';
import { metric, ServeWorld, type Serve } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const DRIFT = 'sv-drift';
const CRASH = 'sv-crash';
const worlds: ServeWorld[] = [];
const serves: Serve[] = [];

useHarnessStacks(gate, [DRIFT, CRASH], async () => {
  for (const s of serves) await s.stop();
  for (const w of worlds) await w.dispose();
});

async function world(stack: string, answers: Parameters<typeof ServeWorld.create>[2]): Promise<ServeWorld> {
  const w = await ServeWorld.create(gate, stack, answers);
  worlds.push(w);
  return w;
}

async function serve(w: ServeWorld, opts: Parameters<ServeWorld['serve']>[0] = {}): Promise<Serve> {
  const s = await w.serve(opts);
  serves.push(s);
  return s;
}

test('the timer undoes drift: a removed container comes back, a stopped one is started, and each heal is counted', gate.opts, async () => {
  const w = await world(DRIFT, { web_version: '1', replicas: 2 });
  const s = await serve(w, { intervalSeconds: 2 });
  await w.converged('1', 2);
  await waitFor(async () => (await s.json<StackState>(`/api/stacks/${DRIFT}`)).status === 'Ready', { what: 'Ready after startup' });
  assert.equal(metric(await s.metrics(), 'berth_drift_heals_total', { stack: DRIFT }), 0, 'the startup deploy is not drift');

  const docker = gate.docker('h1');
  const [victim] = await w.containers();
  await docker.getContainer(victim.id).remove({ force: true });
  await waitFor(async () => metric(await s.metrics(), 'berth_drift_heals_total', { stack: DRIFT }) === 1, { timeoutMs: 30_000, what: 'one drift heal counted' });
  await w.converged('1', 2);
  const heal = s.logs.find((l) => l.stack === DRIFT && typeof l.msg === 'string' && l.msg.includes('drift undone'));
  assert.ok(heal, 'the heal is logged');
  assert.match(String(heal.msg), new RegExp(`h1 web#\\d create: not found`));
  let st = await s.json<StackState>(`/api/stacks/${DRIFT}`);
  assert.equal(st.status, 'Ready');

  const [stopped] = await w.containers();
  await docker.getContainer(stopped.id).stop({ t: 0 });
  await waitFor(async () => metric(await s.metrics(), 'berth_drift_heals_total', { stack: DRIFT }) === 2, { timeoutMs: 30_000, what: 'the second heal counted' });
  await w.converged('1', 2);
  assert.ok((await w.containers()).some((c) => c.id === stopped.id), 'the stopped container was started again, not replaced');
  st = await waitFor(async () => {
    const x = await s.json<StackState>(`/api/stacks/${DRIFT}`);
    return x.lastReconcile?.why === 'timer' && x.lastReconcile.outcome === 'unchanged' && x;
  }, { timeoutMs: 20_000, what: 'a quiet tick after the heals' });
  assert.equal(st.status, 'Ready');
  assert.equal(metric(await s.metrics(), 'berth_drift_heals_total', { stack: DRIFT }), 2, 'quiet ticks are not heals');
});

test('SIGKILL in the middle of a rollout, then a restart: converged, nothing left aside, one container per replica', gate.opts, async () => {
  const w = await world(CRASH, { web_version: '1' });
  const cacheDir = path.join(w.catalogDir, '..', 'crash-cache');
  const first = await serve(w, { cacheDir });
  await w.converged('1');
  await waitFor(async () => (await first.json<StackState>(`/api/stacks/${CRASH}`)).status === 'Ready', { what: 'Ready after startup' });

  // The new container's httpd starts 4 s late, so the rollout is still waiting for its healthcheck when killed.
  const sha = w.push({ web_version: '2', start_delay: 4 });
  assert.equal((await first.hook('github', w.githubPush(sha))).status, 202);
  const mid = await waitFor(async () => {
    const cs = await w.containers();
    // Running, not just created: a replacement killed before it started is rolled back, not finished (its own case).
    return cs.some((c) => c.name.includes('-old-')) && cs.some((c) => c.image === 'berth-test/web:2' && c.state === 'running') && cs;
  }, { timeoutMs: 30_000, intervalMs: 50, what: 'the rollout to be under way' });
  await first.kill9();
  assert.equal(mid.length, 2, `old aside and new starting: ${JSON.stringify(mid)}`);
  const interrupted = await w.containers();
  assert.ok(interrupted.some((c) => c.name.includes('-old-')), 'the kill left the old container aside');

  const second = await serve(w, { cacheDir });
  await w.converged('2', 1, 90_000);
  const st = await waitFor(async () => {
    const x = await second.json<StackState>(`/api/stacks/${CRASH}`);
    return x.status !== 'Reconciling' && x;
  }, { what: 'the startup reconcile after the crash' });
  assert.equal(st.status, 'Ready', JSON.stringify(st));
  assert.equal(st.lastReconcile?.why, 'startup');
  assert.equal(st.desiredCommit, sha);
  const cs = await w.containers();
  assert.deepEqual(cs.map((c) => c.name), [`${CRASH}-web-1`], 'no -old- container, exactly one per replica');
  // The plan said what it did: the update the kill interrupted, finished (its new container was starting).
  assert.ok(st.lastReconcile!.changes.some((c) => /web#1 finish: finish interrupted update of web#1: new container (starting|healthy), remove .*-old-/.test(c)), st.lastReconcile!.changes.join('\n'));

  // The ledger: the web:1 deploy, then exactly one record of web:2 (written after the restart), and no more on re-runs.
  const ledger = await w.ledgerUpTo(st.deployedCommit);
  assert.equal(ledger.length, 2, ledger.map((c) => c.message.split('\n')[0]).join('\n'));
  assert.match(ledger[0].message, new RegExp(`^Berth-Environment-Commit: ${sha}$`, 'm'));
  assert.match(ledger[0].message, /^Berth-Outcome: converged$/m);
  assert.equal(st.deployedCommit, ledger[0].sha);
  assert.equal((await second.hook('github', w.githubPush(sha))).status, 202);
  await waitFor(async () => (await second.json<StackState>(`/api/stacks/${CRASH}`)).lastReconcile?.why === `push ${sha.slice(0, 7)}`, { what: 'a re-run' });
  assert.equal((await w.ledger()).length, 2, 'an unchanged state makes no commit');
});
