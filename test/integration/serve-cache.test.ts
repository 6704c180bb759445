// serve's cache clone is disposable and its status truthful: a clone damaged while serve was down (torn pack,
// torn index) is cloned again at the restart, said once, and the deploy it makes is recorded; a deploy the ledger
// cannot record leaves the stack Failed (LedgerWriteFailed) with the reason served, until a reconcile records it;
// with the git server gone, /api/environment says why it is stale. Real serve, real h1, real git server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { dockerGate, waitFor } from '../harness/env.ts';
import { useHarnessStacks } from './converge-fixtures.ts';
import { ServeWorld, type Serve } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const STACK = 'sv-cache';
const worlds: ServeWorld[] = [];
const serves: Serve[] = [];

useHarnessStacks(gate, [STACK], async () => {
  for (const s of serves) await s.stop();
  for (const w of worlds) await w.dispose();
});

async function serve(w: ServeWorld, cacheDir: string): Promise<Serve> {
  const s = await w.serve({ cacheDir });
  serves.push(s);
  return s;
}

/** The environment's clone in serve's cache (one repository, one branch). */
function cloneDir(cacheDir: string): string {
  const envDir = path.join(cacheDir, 'env');
  const [name] = fs.readdirSync(envDir).filter((n) => !n.includes('.tmp-'));
  return path.join(envDir, name!);
}

/** Zeroes the middle of every pack of the clone and garbles its index: what a torn write or a bad disk leaves. */
function damage(dir: string): void {
  const packDir = path.join(dir, '.git/objects/pack');
  for (const p of fs.readdirSync(packDir).filter((f) => f.endsWith('.pack'))) {
    const file = path.join(packDir, p);
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(size - 64), 0, size - 64, 32);
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(dir, '.git/index'), 'DIRC\0\0\0\x02torn');
}

async function settled(s: Serve, what: string, pred: (st: StackState) => boolean = () => true): Promise<StackState> {
  return waitFor(async () => {
    const st = await s.json<StackState>(`/api/stacks/${STACK}`);
    return !st.reconciling && st.status !== 'Reconciling' && pred(st) && st;
  }, { timeoutMs: 60_000, what });
}

test('a damaged cache clone is rebuilt at restart and its deploy recorded; an unrecordable deploy is not Ready; a stale environment says why', gate.opts, async () => {
  const w = await ServeWorld.create(gate, STACK, { web_version: '1' });
  worlds.push(w);
  const cacheDir = path.join(w.catalogDir, '..', 'serve-cache');
  const first = await serve(w, cacheDir);
  await w.converged('1');
  const st1 = await settled(first, 'Ready after startup', (st) => st.status === 'Ready');
  await w.ledgerUpTo(st1.deployedCommit);
  await first.stop();

  damage(cloneDir(cacheDir));
  const sha2 = w.push({ web_version: '2' });
  const second = await serve(w, cacheDir);
  await w.converged('2');
  const st2 = await settled(second, 'the deploy after the rebuild', (st) => st.desiredCommit === sha2);
  assert.equal(st2.status, 'Ready', JSON.stringify(st2));
  const rebuilt = second.logs.filter((l) => /cache clone .* was damaged/.test(String(l.msg)));
  assert.equal(rebuilt.length, 1, 'the rebuild is said once');
  assert.match(String(rebuilt[0]!.msg), /packfile|index/i, 'it says what was damaged');
  assert.equal(rebuilt[0]!.level, 40);
  const ledger = await w.ledgerUpTo(st2.deployedCommit);
  assert.match(ledger[0]!.message, new RegExp(`^Berth-Environment-Commit: ${sha2}$`, 'm'), 'the deploy after the rebuild is recorded');

  // The ledger branch's ref made unwritable (a folder where its file goes): the deploy runs, the record cannot.
  const ref = path.join(cloneDir(cacheDir), '.git/refs/heads/berth/deployed');
  fs.rmSync(ref, { force: true });
  fs.mkdirSync(path.join(ref, 'blocked'), { recursive: true });
  const sha3 = w.push({ web_version: '1' });
  assert.equal((await second.hook('github', w.githubPush(sha3))).status, 202);
  await w.converged('1');
  const st3 = await settled(second, 'the unrecorded deploy', (st) => st.desiredCommit === sha3);
  assert.equal(st3.status, 'Failed', JSON.stringify(st3));
  assert.equal(st3.reason, 'LedgerWriteFailed');
  assert.match(st3.lastError ?? '', /^deployed, but the ledger could not record it: .+; the next reconcile records it$/);
  assert.equal(st3.lastReconcile?.outcome, 'converged', 'what runs is what was asked for');

  // The ref can be written again: the next reconcile records the deploy, and the stack is Ready.
  fs.rmSync(ref, { recursive: true, force: true });
  assert.equal((await second.hook('github', w.githubPush(sha3))).status, 202);
  const st4 = await settled(second, 'the deploy recorded', (st) => st.status === 'Ready');
  const recorded = await w.ledgerUpTo(st4.deployedCommit);
  assert.match(recorded[0]!.message, new RegExp(`^Berth-Environment-Commit: ${sha3}$`, 'm'));

  // The git server gone: the environment is stale, and says why.
  await w.git.close();
  assert.equal((await second.hook('github', w.githubPush(sha3))).status, 202);
  const env = await waitFor(async () => {
    const e = await second.json<{ stale: boolean; syncError?: string }>('/api/environment');
    return e.stale && e;
  }, { timeoutMs: 30_000, what: '/api/environment to say stale' });
  assert.match(env.syncError ?? '', /REPO_UNREACHABLE|unreachable|ECONNREFUSED|fetching/i, JSON.stringify(env));
});
