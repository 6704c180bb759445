// The Ledger on a local repository with a fake engine: records and their no-op repeats, a person's revert read
// as a rollback in force, Berth's rollback kept until the sources move, `berth rollback` (revert and --to), and a
// host that could not be read keeping its previous compose.
import { StandaloneEngine } from '../../engines/standalone/engine.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import fs from 'node:fs';
import { readFilesAt, revertCommit, listCommits } from '../../lib/git/index.ts';
import type { EngineDriver } from '../../engines/standalone/driver.ts';
import type { Environment } from '../../environment/environment.ts';
import { Ledger, type RecordContext } from '../../ledger/ledger.ts';
import type { StackOutcome } from '../../controller/reconcile.ts';
import type { DesiredStack, ObservedHost } from '../../engines/standalone/types.ts';
import type { StackSpec } from '../../environment/types.ts';
import { desired, host, service, stackModel } from './controller-fixtures.ts';

const ID = (c: string) => `sha256:${c.repeat(64)}`;
const hosts = [host('h1'), host('h2')];
const env: Environment = { root: '/nonexistent', catalogs: [{ name: 'main', root: '/nonexistent' }], hosts, registries: [], stacks: [] };
const spec: StackSpec = { name: 'shop', file: 'stacks/shop.yml', template: 'acme', version: '1.0.0', answers: {}, hosts: {} };
const S1 = { environment: 'e1'.padEnd(40, '0'), catalogs: {} };
const S2 = { environment: 'e2'.padEnd(40, '0'), catalogs: {} };
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-ledger-unit-'));
  await git.init({ fs, dir, defaultBranch: 'main' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** What the hosts run: host → image ID of web. A host missing from the map is unreachable. */
function drivers(running: Record<string, string>): Record<string, EngineDriver> {
  return Object.fromEntries(hosts.map((h) => [h.name, {
    host: h,
    observe: async (stack: string): Promise<ObservedHost> => {
      if (!running[h.name]) throw new Error(`${h.name} is down`);
      const containers = [{ id: `${h.name}web`, name: `${stack}-web-1`, service: 'web', number: h.name === 'h1' ? 1 : 2, image: 'x', imageId: running[h.name], state: 'running' as const }];
      return { host: h.name, reachable: true, containers, networks: [], volumes: [], images: {} };
    },
    imageDigests: async (refs: string[]) => Object.fromEntries(refs.map((r) => [r, { id: r, repoDigests: [] }])),
  } as unknown as EngineDriver]));
}

function desiredWeb(version: string): DesiredStack {
  const d = desired(stackModel('shop', [service('web', { image: `acme/web:${version}`, environment: { PASSWORD: 'hunter22' }, deploy: { replicas: 2 } })]), hosts, `acme@${version}`);
  return { ...d, secretAnswers: { password: 'hunter22' }, secrets: ['hunter22'] };
}

function outcome(d: DesiredStack, unreachable: string[] = []): StackOutcome {
  const observed = { name: 'shop', hosts: Object.fromEntries(hosts.map((h) => [h.name, { host: h.name, reachable: !unreachable.includes(h.name), containers: [], networks: [], volumes: [] }])) };
  const plan = { stack: 'shop', source: d.source, errors: [], hosts: hosts.map((h) => ({ host: h.name, operations: [], ...(unreachable.includes(h.name) ? { error: 'unreachable: down' } : {}) })) };
  return { stack: 'shop', why: 'test', outcome: 'converged', desired: d, observed, plan, startedAt: '', durationMs: 0 };
}

const ledger = () => new Ledger({ dir });
const ctx = (running: Record<string, string>, over: Partial<RecordContext> = {}): RecordContext => ({ spec, engine: new StandaloneEngine(drivers(running)), sources: S1, trigger: { kind: 'push', why: 'push' }, mode: 'render', catalog: 'main', ...over });
const head = () => git.resolveRef({ fs, dir, ref: 'berth/deployed' });

let first = '';
let second = '';
let partial = '';

test('record: a commit per new state (after a README commit of its own), none for the same state', async () => {
  first = (await ledger().record(outcome(desiredWeb('1')), ctx({ h1: ID('1'), h2: ID('2') })))!;
  assert.ok(first);
  const log = await listCommits(dir, 'berth/deployed');
  assert.deepEqual(log.map((c) => c.subject), ['deploy shop: acme 1 on 2 hosts', 'Start the Berth deploy ledger']);
  const files = await readFilesAt(dir, first, 'stacks/shop');
  assert.deepEqual(Object.keys(files), ['deploy.yml', 'h1.compose.yml', 'h2.compose.yml']);
  assert.match(files['h1.compose.yml'], new RegExp(`image: ${ID('1')}\\n`));
  assert.match(files['h2.compose.yml'], new RegExp(`image: ${ID('2')}\\n`));
  assert.ok(!Object.values(files).join('').includes('hunter22'));
  assert.equal(await ledger().record(outcome(desiredWeb('1')), ctx({ h1: ID('1'), h2: ID('2') }, { trigger: { kind: 'timer', why: 'timer' } })), null);
  second = (await ledger().record(outcome(desiredWeb('2')), ctx({ h1: ID('3'), h2: ID('4') })))!;
  assert.ok(second);
  assert.equal((await ledger().stackState('shop', S1)).rollback, undefined);
});

test("a host that could not be read keeps its previous compose and says it was unreachable", async () => {
  const before = await head();
  partial = (await ledger().record(outcome(desiredWeb('2'), ['h2']), ctx({ h1: ID('3') })))!;
  const files = await readFilesAt(dir, partial, 'stacks/shop');
  assert.match(files['h2.compose.yml'], new RegExp(`image: ${ID('4')}\\n`));
  assert.match(files['deploy.yml'], /h2:\n {4}outcome: unreachable\n {4}error: "unreachable: down"\n/);
  assert.match((await listCommits(dir, 'berth/deployed', { limit: 1 }))[0].subject, /, failed on h2$/);
  // Back to normal: the same state as `second` again.
  await ledger().record(outcome(desiredWeb('2')), ctx({ h1: ID('3'), h2: ID('4') }));
  assert.notEqual(await head(), before);
});

test("a person's revert is a rollback in force; the desired state is the restored one, pinned", async () => {
  const reverted = await head();
  await revertCommit(dir, { branch: 'berth/deployed', commit: reverted, author: { name: 'Ops', email: 'ops@x' } });
  const state = await ledger().stackState('shop', S1);
  assert.ok(state.rollback);
  assert.equal(state.rollback.restoredFrom, partial, 'the state before the reverted commit');
  assert.equal(state.rollback.revertedCommit, reverted);
  assert.equal(state.rollback.record.version, '2');
  const d = await ledger().desiredFromLedger(env, spec, state.rollback.files, { password: 'hunter22' });
  assert.equal(d.hosts.h1.services.web.model.image, ID('3'));
  assert.equal(d.hosts.h2.services.web.model.image, ID('4'));
  assert.deepEqual(d.hosts.h1.replicas, [{ service: 'web', number: 1 }]);
  assert.equal(d.hosts.h1.services.web.model.environment.PASSWORD, 'hunter22');
  assert.deepEqual(d.secrets, ['hunter22']);
  // Pinned to the image ID, hashed as rendered: a container of acme/web:2 that runs ID 3 is not recreated for the pin.
  assert.equal(d.hosts.h1.services.web.hash, desiredWeb('2').hosts.h1.services.web.hash);
  await assert.rejects(ledger().desiredFromLedger(env, spec, state.rollback.files, {}), /needs the secret answer password/);

  const rb = await ledger().record(outcome(d), ctx({ h1: ID('3'), h2: ID('4') }, { mode: 'rollback', sources: S1, rollback: { record: state.rollback.record, restoredFrom: state.rollback.restoredFrom } }));
  assert.ok(rb);
  assert.match((await listCommits(dir, 'berth/deployed', { limit: 1 }))[0].subject, new RegExp(`^roll back shop to ${partial.slice(0, 7)}$`));
  const kept = await ledger().stackState('shop', S1);
  assert.equal(kept.rollback?.restoredFrom, partial, 'in force while the sources are the same');
  assert.equal(kept.rollback?.revertedCommit, reverted);
  assert.equal(await ledger().record(outcome(d), ctx({ h1: ID('3'), h2: ID('4') }, { mode: 'rollback', rollback: { record: kept.rollback!.record, restoredFrom: partial } })), null);
  assert.equal((await ledger().stackState('shop', S2)).rollback, undefined, 'a new environment commit supersedes it');
});

test('berth rollback: refuses to stack a revert on a rollback; --to restores any recorded state', async () => {
  await assert.rejects(ledger().rollback('shop'), /rolled back already/);
  const r = await ledger().rollback('shop', { to: first.slice(0, 10) });
  assert.equal(r.kind, 'restore');
  assert.equal(r.of, first);
  assert.equal(r.pushed, false);
  const state = await ledger().stackState('shop', S2);
  assert.equal(state.rollback?.restoredFrom, first);
  assert.equal(state.rollback?.revertedCommit, first);
  const history = await ledger().history('shop');
  assert.equal(history[0].trigger, 'rollback');
  assert.equal(history[0].template, 'acme@1');
  assert.deepEqual(history.map((h) => h.mode), ['rollback', 'rollback', 'rollback', 'render', 'render', 'render', 'render']);
  await assert.rejects(ledger().rollback('shop', { to: 'deadbeef' }), /no commit deadbeef/);
  await assert.rejects(ledger().rollback('nothing'), /has no deploy of stack nothing/);
});

test('berth rollback without --to reverts the latest deploy; the first deploy has nothing before it', async () => {
  await ledger().record(outcome(desiredWeb('5')), ctx({ h1: ID('5'), h2: ID('6') }, { sources: S2 }));
  const r = await ledger().rollback('shop');
  assert.equal(r.kind, 'revert');
  assert.match((await listCommits(dir, 'berth/deployed', { limit: 1 }))[0].message, new RegExp(`This reverts commit ${r.of}\\.`));
  assert.ok((await ledger().stackState('shop', S2)).rollback);

  const l2 = ledger();
  await l2.record({ ...outcome(desiredWeb('1')), stack: 'solo', desired: { ...desiredWeb('1'), name: 'solo' } }, ctx({ h1: ID('1'), h2: ID('2') }, { spec: { ...spec, name: 'solo' } }));
  await assert.rejects(l2.rollback('solo'), /first deploy of stack solo/);
});
