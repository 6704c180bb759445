// `berth serve` as a child process, webhooks end to end: it converges at startup, deploys a push announced by a
// signed GitHub or GitLab webhook, refuses forged, oversized and malformed deliveries without queueing anything,
// folds 50 deliveries of one push into one deploy, and serves /healthz, /metrics and /api/stacks. The timer is
// an hour here, so every reconcile after startup comes from a webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dockerGate, waitFor } from '../harness/env.ts';
import { useHarnessStacks } from './converge-fixtures.ts';
import { metric, ServeWorld, sign, type Serve } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const STACK = 'sv-hook';
let world: ServeWorld | undefined;
let serve: Serve | undefined;

/** Started by the first test that needs it, so a missing harness fails inside a test, never at load. */
async function running(): Promise<{ w: ServeWorld; s: Serve }> {
  world ??= await ServeWorld.create(gate, STACK, { web_version: '1' });
  serve ??= await world.serve();
  return { w: world, s: serve };
}

useHarnessStacks(gate, [STACK], async () => {
  await serve?.stop();
  await world?.dispose();
});

const stackState = (s: Serve) => s.json<StackState>(`/api/stacks/${STACK}`);

/** Waits until the stack's last reconcile is a finished one for `commit`. */
function settled(s: Serve, commit: string, what: string): Promise<StackState> {
  return waitFor(async () => {
    const st = await stackState(s);
    return st.desiredCommit === commit && st.status !== 'Reconciling' && st;
  }, { timeoutMs: 60_000, what });
}

test('serve starts, converges the environment, and answers /healthz, /metrics and /api/stacks', gate.opts, async () => {
  const { w, s } = await running();
  await w.converged('1');
  const head = w.git.revParse('env', 'refs/heads/main')!;
  const st = await settled(s, head, 'the startup reconcile');
  assert.equal(st.status, 'Ready', JSON.stringify(st));
  assert.equal(st.reason, 'ReconciliationSucceeded');
  assert.equal(st.lastError, null);
  assert.equal(st.lastReconcile?.why, 'startup');
  assert.equal(st.lastReconcile?.outcome, 'converged');
  assert.ok(st.lastReconcile!.changes.some((c) => /h1 web#1 create: /.test(c)), st.lastReconcile!.changes.join('\n'));
  assert.ok(st.lastSuccessAt && Date.parse(st.lastSuccessAt) > 0);
  const ledger = await w.ledgerUpTo(st.deployedCommit);
  assert.equal(ledger.length, 1, 'the startup deploy is recorded on the ledger branch, pushed to the server');
  assert.equal(st.deployedCommit, ledger[0].sha);
  assert.match(ledger[0].message, /^Trigger: timer \(startup\)$/m);
  assert.match(ledger[0].message, new RegExp(`^Berth-Environment-Commit: ${head}$`, 'm'));

  const health = await s.get('/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { ok: true });
  const list = await s.json<StackState[]>('/api/stacks');
  assert.deepEqual(list.map((x) => x.stack), [STACK]);
  assert.equal((await s.get('/api/stacks/nope')).status, 404);
  const env = await s.json<{ commit: string; stale: boolean }>('/api/environment');
  assert.equal(env.commit, head);
  assert.equal(env.stale, false);

  const m = await s.metrics();
  assert.equal(metric(m, 'berth_reconcile_total', { stack: STACK, outcome: 'converged' }), 1);
  assert.equal(metric(m, 'berth_reconcile_duration_seconds_count', { stack: STACK }), 1);
  assert.ok(metric(m, 'berth_last_success_timestamp_seconds', { stack: STACK }) > Date.now() / 1000 - 120);
  assert.ok(metric(m, 'process_resident_memory_bytes') > 0, 'default process metrics are there');
  const text = await (await s.get('/metrics')).text();
  for (const secret of ['serve-t0ken', 'gh-hook-secret', 'gl-hook-secret']) assert.ok(!text.includes(secret), `${secret} leaked into /metrics`);
});

test('a push announced by a signed GitHub webhook is deployed: web:1 → web:2', gate.opts, async () => {
  const { w, s } = await running();
  await w.converged('1');
  const sha = w.push({ web_version: '2' });
  const hook = w.githubPush(sha);
  const res = await s.hook('github', hook);
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { accepted: true, deliveryId: hook.headers['x-github-delivery'] });
  await w.converged('2');
  const st = await settled(s, sha, 'the push reconcile');
  assert.equal(st.status, 'Ready', JSON.stringify(st));
  assert.equal(st.lastReconcile?.why, `push ${sha.slice(0, 7)}`);
  assert.deepEqual(st.lastReconcile?.deliveryIds, [hook.headers['x-github-delivery']]);
  assert.ok(st.lastReconcile!.changes.some((c) => /web#1 recreate: config changed: image/.test(c)), st.lastReconcile!.changes.join('\n'));
  assert.equal(metric(await s.metrics(), 'berth_webhooks_total', { forge: 'github', result: 'accepted' }), 1);
  const [latest] = await w.ledgerUpTo(st.deployedCommit);
  assert.equal(st.deployedCommit, latest.sha);
  assert.match(latest.message, new RegExp(`^Trigger: push \\(push ${sha.slice(0, 7)}\\)$`, 'm'));
  assert.match(latest.message, new RegExp(`^Berth-Delivery: ${hook.headers['x-github-delivery']}$`, 'm'));
  assert.match(latest.message, new RegExp(`^Berth-Environment-Commit: ${sha}$`, 'm'));
});

test('a push announced by a GitLab webhook is deployed: web:2 → web:1', gate.opts, async () => {
  const { w, s } = await running();
  await w.converged('2');
  const sha = w.push({ web_version: '1' });
  const res = await s.hook('gitlab', w.gitlabPush(sha));
  assert.equal(res.status, 202);
  await w.converged('1');
  const st = await settled(s, sha, 'the GitLab push reconcile');
  assert.equal(st.status, 'Ready', JSON.stringify(st));
  assert.equal(metric(await s.metrics(), 'berth_webhooks_total', { forge: 'gitlab', result: 'accepted' }), 1);
});

test('forged, oversized and malformed deliveries are refused and queue nothing', gate.opts, async () => {
  const { w, s } = await running();
  await w.converged('1');
  const sha = w.push({ web_version: '2' }, 'a push nobody may announce with a bad signature');
  const before = await s.metrics();
  const reconciles = metric(before, 'berth_reconcile_total');

  const forged = w.githubPush(sha);
  forged.headers['x-hub-signature-256'] = sign(forged.body, 'not-the-secret');
  assert.equal((await s.hook('github', forged)).status, 401);
  const wrongToken = w.gitlabPush(sha);
  wrongToken.headers['x-gitlab-token'] = 'nope';
  assert.equal((await s.hook('gitlab', wrongToken)).status, 401);

  const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
  assert.equal((await s.hook('github', { headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sign(big.toString()) }, body: big })).status, 413);

  const junk = '{"ref": "refs/heads/main", ';
  assert.equal((await s.hook('github', { headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': sign(junk) }, body: junk })).status, 400);

  await sleep(1_500);
  const m = await s.metrics();
  assert.equal(metric(m, 'berth_webhooks_total', { forge: 'github', result: 'unauthorized' }), 1);
  assert.equal(metric(m, 'berth_webhooks_total', { forge: 'gitlab', result: 'unauthorized' }), 1);
  assert.equal(metric(m, 'berth_webhooks_total', { forge: 'github', result: 'too_large' }), 1);
  assert.equal(metric(m, 'berth_webhooks_total', { forge: 'github', result: 'invalid' }), 1);
  assert.equal(metric(m, 'berth_reconcile_total'), reconciles, 'no reconcile ran');
  assert.notEqual((await stackState(s)).desiredCommit, sha, 'the commit was never fetched');
  await w.converged('1');
});

test('50 concurrent deliveries of one push make exactly one deploy', gate.opts, async () => {
  const { w, s } = await running();
  // The previous test left a web:2 commit on main that was never announced; this push supersedes it.
  const sha = w.push({ web_version: '2', replicas: 1 }, 'the push announced 50 times');
  const before = await w.containers();
  const converged = metric(await s.metrics(), 'berth_reconcile_total', { stack: STACK, outcome: 'converged' });
  const logged = s.logs.length;
  const recorded = (await w.ledgerUpTo((await stackState(s)).deployedCommit)).length;
  const answers = await Promise.all(Array.from({ length: 50 }, () => s.hook('github', w.githubPush(sha))));
  assert.deepEqual([...new Set(answers.map((r) => r.status))], [202]);
  await w.converged('2');
  await settled(s, sha, 'the push reconcile');
  await sleep(2_000); // let any follow-up run finish
  const st = await stackState(s);
  assert.equal(st.status, 'Ready', JSON.stringify(st));
  assert.equal(st.lastReconcile?.outcome, 'unchanged', 'the folded follow-up had nothing left to do');
  const m = await s.metrics();
  assert.equal(metric(m, 'berth_reconcile_total', { stack: STACK, outcome: 'converged' }) - converged, 1, 'one reconcile changed something');
  assert.equal(metric(m, 'berth_webhooks_total', { forge: 'github', result: 'accepted' }), 51);
  const after = await w.containers();
  assert.equal(after.length, 1);
  assert.notEqual(after[0].id, before[0].id, 'recreated …');
  const recreates = s.logs.slice(logged).filter((l) => l.stack === STACK && l.action === 'recreate' && l.status === 'done');
  assert.equal(recreates.length, 1, '… once');
  const ledger = await w.ledgerUpTo(st.deployedCommit);
  assert.equal(ledger.length - recorded, 1, 'one ledger commit for the push');
  assert.match(ledger[0].message, new RegExp(`^Berth-Environment-Commit: ${sha}$`, 'm'));
});
