// What serve's memo keys a stack's desired state by: its own inputs and nothing else (another stack's change, a
// new environment commit that left its files alone do not move it), the environment files its render read, and a
// folder catalog's files. Real renders of a real environment folder; no Docker needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { catalogKeys, inputsKey, readRecorder, StackMemo, type MemoEntry } from '../../controller/memo.ts';
import { desiredStack } from '../../engines/standalone/desired.ts';
import { loadEnvironment, type Environment } from '../../environment/environment.ts';

const COMPOSE = 'services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "3600"]\n    env_file: [{{env_file}}]\n';

function world(): { root: string; env: string; catalog: string; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-memo-'));
  const catalog = path.join(root, 'catalog');
  mkdirSync(path.join(catalog, 'templates', 'app', '1.0.0'), { recursive: true });
  writeFileSync(path.join(catalog, 'templates', 'app', 'config.yml'), 'name: app\ndescription: one sleeper\n');
  writeFileSync(path.join(catalog, 'templates', 'app', '1.0.0', 'berth.yml'), "version: 1.0.0\nquestions:\n  - variable: env_file\n    type: string\n    default: app.env\n");
  writeFileSync(path.join(catalog, 'templates', 'app', '1.0.0', 'docker-compose.yml.hbs'), COMPOSE);
  const env = path.join(root, 'env');
  mkdirSync(path.join(env, 'stacks'), { recursive: true });
  writeFileSync(path.join(env, 'berth.yml'), `catalogs:\n  - name: main\n    path: ${catalog}\nhosts:\n  - name: h1\n    endpoint: unix:///nonexistent.sock\n`);
  writeFileSync(path.join(env, 'stacks', 'a.yml'), 'template: app\nversion: 1.0.0\nanswers:\n  env_file: a.env\n');
  writeFileSync(path.join(env, 'stacks', 'b.yml'), 'template: app\nversion: 1.0.0\nanswers:\n  env_file: b.env\n');
  writeFileSync(path.join(env, 'a.env'), 'GREETING=hello\n');
  writeFileSync(path.join(env, 'b.env'), 'GREETING=hi\n');
  return { root, env, catalog, remove: () => rmSync(root, { recursive: true, force: true }) };
}

const key = (env: Environment, name: string, over: { catalog?: string; ledgerFolder?: string | null } = {}) =>
  inputsKey({ env, spec: env.stacks.find((s) => s.name === name)!, catalog: over.catalog ?? 'cat-1', ledgerFolder: over.ledgerFolder ?? null, processEnv: {} });

test('a stack is keyed by its own inputs: its file, the ledger folder, its catalog; not by another stack', async () => {
  const w = world();
  try {
    const before = await loadEnvironment(w.env);
    writeFileSync(path.join(w.env, 'stacks', 'b.yml'), 'template: app\nversion: 1.0.0\nanswers:\n  env_file: other.env\n');
    const after = await loadEnvironment(w.env);
    assert.equal(key(before, 'a'), key(after, 'a'), 'b changed, a did not');
    assert.notEqual(key(before, 'b'), key(after, 'b'));
    assert.notEqual(key(after, 'a'), key(after, 'a', { ledgerFolder: 'f00d' }), 'a revert on the ledger is an input');
    assert.notEqual(key(after, 'a'), key(after, 'a', { catalog: 'cat-2' }), 'a new catalog version is an input');
    writeFileSync(path.join(w.env, 'berth.yml'), `catalogs:\n  - name: main\n    path: ${w.catalog}\nhosts:\n  - name: h1\n    endpoint: unix:///nonexistent.sock\n    labels: { zone: a }\n`);
    assert.notEqual(key(after, 'a'), key(await loadEnvironment(w.env), 'a'), 'what berth.yml says of the hosts is an input');
    assert.equal(inputsKey({ env: after, spec: after.stacks[0], catalog: undefined, ledgerFolder: null }), undefined, 'a catalog that cannot be keyed is never memoised');
  } finally {
    w.remove();
  }
});

test('the files a render reads are remembered as hashes and checked again once the commit moved', async () => {
  const w = world();
  try {
    const env = await loadEnvironment(w.env);
    const rec = readRecorder();
    await desiredStack(env, env.stacks.find((s) => s.name === 'a')!, { onRead: rec.onRead });
    assert.deepEqual(Object.keys(rec.reads), ['a.env'], 'the env file the stack names, and nothing of b');
    assert.match(rec.reads['a.env']!, /^[0-9a-f]{64}$/, 'a hash, not the text');

    const memo = new StackMemo();
    const entry: MemoEntry = { inputs: 'k', commit: 'c1', reads: rec.reads, images: [], observed: 'o' };
    memo.set('a', entry);
    assert.ok(await memo.valid('a', 'k', env, 'c1'));
    assert.equal(await memo.valid('a', 'other', env, 'c1'), undefined, 'other inputs');
    writeFileSync(path.join(w.env, 'a.env'), 'GREETING=changed\n');
    assert.ok(await memo.valid('a', 'k', env, 'c1'), 'the same commit: the files are not read again');
    assert.equal(await memo.valid('a', 'k', env, 'c2'), undefined, 'a new commit with a changed file');
    assert.equal(memo.size, 0, 'and the entry is dropped');

    memo.set('a', { ...entry, reads: { 'a.env': rec.reads['a.env'] } });
    writeFileSync(path.join(w.env, 'a.env'), 'GREETING=hello\n');
    assert.ok(await memo.valid('a', 'k', env, 'c3'), 'a new commit that left the file as it was');
    assert.ok(await memo.valid('a', 'k', env, 'working-tree'), 'a folder outside git: the files are read, and still the same');
    writeFileSync(path.join(w.env, 'a.env'), 'GREETING=edited\n');
    assert.equal(await memo.valid('a', 'k', env, 'working-tree'), undefined);
  } finally {
    w.remove();
  }
});

test('a folder catalog is versioned by its files; a synced url: catalog and the built-in one by their labels', async () => {
  const w = world();
  try {
    const env = await loadEnvironment(w.env);
    const opts = { cacheDir: path.join(w.root, 'cache'), builtinRoot: path.join(w.root, 'builtin') };
    const first = (await catalogKeys(env, {}, opts)).get('main');
    assert.ok(first);
    assert.equal((await catalogKeys(env, {}, opts)).get('main'), first, 'nothing changed');
    const file = path.join(w.catalog, 'templates', 'app', '1.0.0', 'docker-compose.yml.hbs');
    writeFileSync(file, COMPOSE.replace('3600', '7200'));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    assert.notEqual((await catalogKeys(env, {}, opts)).get('main'), first, 'an edit without a commit is seen');
    const synced = { ...env, catalogs: [{ name: 'main', root: path.join(opts.cacheDir, 'catalogs', 'x') }] };
    assert.equal((await catalogKeys(synced, { main: 'a'.repeat(40) }, opts)).get('main'), 'a'.repeat(40));
  } finally {
    w.remove();
  }
});
