// The Controller in-process with a fake per-stack deploy, against the harness git server (no Docker needed): an
// environment and a `url:` catalog synced over HTTP with a token, why each reconcile ran, statuses written
// whatever the deploy does (Ready, Failed, Stalled, DeadlineExceeded), an invalid commit deploying nothing,
// and the last known state staying in force while the git server is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { waitFor } from '../harness/env.ts';
import { Controller } from '../../controller/loop.ts';
import type { DeployContext, DeployFn, DeployTrigger } from '../../controller/deploy.ts';
import type { StackSpec } from '../../environment/types.ts';
import { assertUsable } from '../../environment/environment.ts';
import { UserError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import type { Trigger } from '../../webhooks/types.ts';
import { metric, parseMetrics } from './serve-fixtures.ts';

const TOKEN = 'loop-t0ken-5e6f';
let work: string;
let git: GitServer;
let controller: Controller | undefined;
const logs: Array<Record<string, unknown>> = [];
const calls: Array<{ stack: string; trigger: DeployTrigger; ctx: DeployContext }> = [];
/** What the fake deploy does, per stack. */
const behaviour = new Map<string, 'ok' | 'throw' | 'user' | 'hang'>();

const CATALOG = {
  'templates/web/config.yml': 'name: web\ndescription: one service\n',
  'templates/web/1.0.0/berth.yml': 'version: 1.0.0\ndescription: web\nquestions: []\n',
  'templates/web/1.0.0/docker-compose.yml.hbs': 'services:\n  web:\n    image: berth-test/web:1\n',
};
const stackFile = (n = 1) => stringify({ template: 'web', version: '1.0.0', catalog: 'remote', answers: {}, hosts: { n: String(n) } }).replace(/hosts:.*\n.*\n/, '');

const fakeDeploy: DeployFn = async (ctx, spec: StackSpec, trigger) => {
  assertUsable(spec); // as the real deploy does first: a stack whose own file is broken runs nothing
  calls.push({ stack: spec.name, trigger, ctx });
  const started = new Date().toISOString();
  const base = { stack: spec.name, why: trigger.why, startedAt: started, durationMs: 1, ledgerCommit: null, mode: 'render' as const };
  switch (behaviour.get(spec.name) ?? 'ok') {
    case 'throw':
      throw new Error('engine socket closed');
    case 'user':
      return { ...base, outcome: 'failed', error: new UserError('ANSWERS_INVALID', 'answer "port" must be an integer') };
    case 'hang':
      await new Promise((_, reject) => ctx.signal!.addEventListener('abort', () => reject(ctx.signal!.reason), { once: true }));
      throw new Error('unreachable');
    default:
      return { ...base, outcome: 'unchanged' };
  }
};

function trigger(after: string): Trigger {
  return { kind: 'push', forge: 'github', deliveryId: `d-${after.slice(0, 4)}`, repository: 'berth/env', repoUrls: [git.repoUrl('env')], branch: 'main', ref: 'refs/heads/main', after, receivedAt: new Date().toISOString() };
}

const state = (name: string) => controller!.stack(name)!;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'berth-serve-loop-'));
  git = await startGitServer({ root: path.join(work, 'git'), token: TOKEN });
  git.createBareRepo('catalog');
  git.commitFiles('catalog', CATALOG, { message: 'catalog' });
  git.createBareRepo('env');
  const berth = { catalogs: [{ name: 'remote', url: git.repoUrl('catalog'), branch: 'main' }], hosts: [{ name: 'h1', endpoint: 'unix:///nonexistent/docker.sock' }] };
  git.commitFiles('env', { 'berth.yml': stringify(berth), 'stacks/ok.yml': stackFile(), 'stacks/boom.yml': stackFile(), 'stacks/bad.yml': stackFile(), 'stacks/slow.yml': stackFile() }, { message: 'env' });
  behaviour.set('boom', 'throw').set('bad', 'user').set('slow', 'hang');
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(l)); done(); } });
  controller = new Controller({
    env: { url: git.repoUrl('env'), branch: 'main', token: TOKEN }, cacheDir: path.join(work, 'cache'), intervalMs: 400, deadlineMs: 600,
    log: createLogger({ destination: sink, level: 'debug' }), deploy: fakeDeploy,
  });
  await controller.start();
});

after(async () => {
  await controller?.stop(1_000);
  await git.close().catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

test('startup syncs the environment and its url: catalog with the token, then reconciles every stack once, saying why', async () => {
  assert.equal(controller!.started, true);
  await waitFor(() => ['ok', 'boom', 'bad', 'slow'].every((s) => state(s).lastReconcile), { what: 'every stack reconciled' });
  const first = new Map<string, (typeof calls)[number]>();
  for (const c of calls) if (!first.has(c.stack)) first.set(c.stack, c);
  assert.deepEqual([...first.keys()].sort(), ['bad', 'boom', 'ok', 'slow']);
  const ok = first.get('ok')!;
  assert.equal(ok.trigger.why, 'startup');
  assert.equal(ok.trigger.kind, 'timer');
  assert.equal(ok.ctx.sources.environment, git.revParse('env', 'refs/heads/main'));
  assert.deepEqual(ok.ctx.sources.catalogs, { remote: git.revParse('catalog', 'refs/heads/main') });
  const root = ok.ctx.env.catalogs.find((c) => c.name === 'remote')!.root;
  assert.ok(root?.startsWith(path.join(work, 'cache', 'catalogs')), root);
  assert.equal(state('ok').desiredCommit, ok.ctx.sources.environment);
});

test('the status is written whatever the deploy does: Ready, Failed on a throw, Stalled on a user error, DeadlineExceeded', async () => {
  await waitFor(() => state('slow').reason === 'DeadlineExceeded' && state('ok').status === 'Ready', { what: 'verdicts' });
  assert.equal(state('ok').reason, 'ReconciliationSucceeded');
  assert.ok(state('ok').lastSuccessAt);
  assert.deepEqual([state('boom').status, state('boom').reason, state('boom').lastError], ['Failed', 'ReconcileError', 'engine socket closed']);
  assert.deepEqual([state('bad').status, state('bad').reason], ['Stalled', 'ANSWERS_INVALID']);
  assert.equal(state('slow').status, 'Failed');
  assert.equal(state('bad').lastSuccessAt, null);
  const m = parseMetrics(await controller!.metrics.text());
  assert.ok(metric(m, 'berth_reconcile_total', { stack: 'bad', outcome: 'stalled' }) >= 1);
  assert.ok(metric(m, 'berth_reconcile_total', { stack: 'boom', outcome: 'failed' }) >= 1);
  assert.ok(metric(m, 'berth_reconcile_total', { stack: 'ok', outcome: 'unchanged' }) >= 1);
});

test('a webhook fetches at once; a broken stack file stalls only its stack, naming the file; the fix recovers', async () => {
  const broken = git.commitFiles('env', { 'stacks/ok.yml': 'template: [unclosed\n' }, { message: 'typo' });
  controller!.trigger(trigger(broken));
  await waitFor(() => state('ok').desiredCommit === broken && state('ok').status === 'Stalled', { what: 'ok stalled on the broken commit' });
  assert.equal(state('ok').reason, 'STACK_INVALID');
  assert.match(state('ok').lastError!, /stacks\/ok\.yml/);
  const deploysOf = (stack: string) => calls.filter((c) => c.stack === stack).length;
  const [n, others] = [deploysOf('ok'), deploysOf('bad')];
  // A couple of ticks (more time on a busy machine): the others are reconciled again, ok is not.
  await waitFor(() => deploysOf('bad') > others, { timeoutMs: 10_000, what: 'the other stacks keep converging' });
  assert.equal(deploysOf('ok'), n, 'nothing was deployed from a broken stack file');
  assert.equal(controller!.environment().commit, broken);

  const fixed = git.commitFiles('env', { 'stacks/ok.yml': stackFile() }, { message: 'fix' });
  controller!.trigger(trigger(fixed));
  await waitFor(() => state('ok').desiredCommit === fixed && state('ok').status === 'Ready', { what: 'recovered' });
  // The 400 ms timer may fetch the fix first; the webhook's own reconcile (folded in, or the one after) names the push.
  const named = (c: (typeof calls)[number]) => c.stack === 'ok' && c.ctx.sources.environment === fixed && c.trigger.why.includes(`push ${fixed.slice(0, 7)}`);
  await waitFor(() => calls.some(named), { what: `a reconcile of ${fixed.slice(0, 7)} named for the push` });
  const pushed = calls.find(named)!;
  assert.ok(pushed.trigger.why === `push ${fixed.slice(0, 7)}` || pushed.trigger.why.includes(`push ${fixed.slice(0, 7)}`), pushed.trigger.why);
});

test('with the git server down the last known state stays in force, the timer still reconciles, and the failure streak is logged once', async () => {
  const commit = controller!.environment().commit;
  await git.close();
  const n = calls.length;
  await waitFor(() => controller!.environment().stale, { timeoutMs: 10_000, what: 'the environment marked stale' });
  await waitFor(() => calls.length > n + 4, { timeoutMs: 10_000, what: 'timer reconciles while the server is down' });
  assert.equal(controller!.environment().commit, commit);
  assert.equal(calls.at(-1)!.ctx.sources.environment, commit);
  await sleep(2_500); // let the backoff retry at least once more
  const m = parseMetrics(await controller!.metrics.text());
  assert.ok(metric(m, 'berth_source_sync_failures_total') >= 2, `failed attempts are counted: ${metric(m, 'berth_source_sync_failures_total')}`);
  assert.ok(![...m.keys()].some((k) => k.includes(TOKEN)), 'no token in a label');
  const warned = logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot sync') && String(l.repo).includes('/env.git'));
  assert.equal(warned.length, 1, 'one warning per failure streak');
  assert.ok(!JSON.stringify(logs).includes(TOKEN), 'the token is never logged');
});

test('a restart while the git server is down starts from the clone left in the cache', async () => {
  const n = calls.length;
  const again = new Controller({
    env: { url: git.repoUrl('env'), branch: 'main', token: TOKEN }, cacheDir: path.join(work, 'cache'), intervalMs: 60_000,
    log: createLogger({ destination: new Writable({ write: (_c, _e, done) => done() }) }), deploy: fakeDeploy,
  });
  try {
    await again.start();
    assert.equal(again.started, true);
    const env = again.environment();
    assert.equal(env.stale, true);
    assert.equal(env.commit, controller!.environment().commit, 'the last commit synced before the server went down');
    assert.ok(env.catalogs.remote, 'the url: catalog came from the cache too');
    await waitFor(() => again.stack('ok')?.lastReconcile?.why === 'startup', { what: 'the startup reconcile from the cached clone' });
    assert.ok(calls.slice(n).some((c) => c.stack === 'ok' && c.trigger.why === 'startup'));
  } finally {
    await again.stop(1_000);
  }
});
