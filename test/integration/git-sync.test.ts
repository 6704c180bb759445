// syncRepo and RepoWatcher against the real smart-HTTP git server (git http-backend), token auth included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer, git, type GitServer } from '../harness/git-server.ts';
import { syncRepo } from '../../lib/git/sync.ts';
import { RepoWatcher, backoffDelay } from '../../lib/git/watcher.ts';
import { BerthError } from '../../lib/errors.ts';

const TOKEN = 's3cr3t-t0ken-value';
let server: GitServer;
let work: string;
const read = (dir: string, p: string) => fs.readFileSync(join(dir, p), 'utf8');

before(async () => {
  work = fs.mkdtempSync(join(tmpdir(), 'berth-git-sync-'));
  server = await startGitServer({ root: join(work, 'server'), token: TOKEN });
  server.createBareRepo('catalog');
  server.commitFiles('catalog', { 'a.txt': 'one\n', 'dir/b.txt': 'two\n' }, { message: 'first' });
});

after(async () => {
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function assertCode(code: string, secret?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.code, code, err.message);
    if (secret) assert.ok(!JSON.stringify({ m: err.message, d: err.data, h: err.hint }).includes(secret), `secret leaked: ${err.message}`);
    return true;
  };
}

test('clones over HTTP with a token, then fetches incrementally', async () => {
  const cacheDir = join(work, 'cache1');
  const source = { url: server.repoUrl('catalog'), branch: 'main', token: TOKEN };
  const first = await syncRepo(source, { cacheDir });
  assert.equal(first.commit, server.revParse('catalog', 'main'));
  assert.equal(first.changed, true);
  assert.equal(read(first.dir, 'dir/b.txt'), 'two\n');
  assert.ok(first.dir.startsWith(cacheDir));
  assert.deepEqual(fs.readdirSync(cacheDir), [fs.readdirSync(cacheDir)[0]], 'no temp folders left behind');
  assert.ok(!fs.readFileSync(join(first.dir, '.git/config'), 'utf8').includes(TOKEN));

  const again = await syncRepo(source, { cacheDir });
  assert.deepEqual(again, { ...first, changed: false });

  const next = server.commitFiles('catalog', { 'a.txt': null, 'dir/b.txt': 'three\n', 'c.txt': 'new\n' }, { message: 'second' });
  const moved = await syncRepo(source, { cacheDir });
  assert.equal(moved.commit, next);
  assert.equal(moved.changed, true);
  assert.equal(fs.existsSync(join(moved.dir, 'a.txt')), false, 'deleted upstream, deleted here');
  assert.equal(read(moved.dir, 'dir/b.txt'), 'three\n');
  assert.equal(read(moved.dir, 'c.txt'), 'new\n');
  assert.equal(git(['rev-list', '--count', 'HEAD'], moved.dir).trim(), '2', 'full history, not shallow');

  fs.writeFileSync(join(moved.dir, 'c.txt'), 'stray edit\n');
  const reset = await syncRepo(source, { cacheDir });
  assert.equal(reset.changed, false);
  assert.equal(read(reset.dir, 'c.txt'), 'new\n', 'the work tree is forced back to the branch head');

  // A poll by the process that checked this very commit out does not walk the work tree again (nothing else writes it).
  fs.writeFileSync(join(moved.dir, 'c.txt'), 'not looked at\n');
  const idle = await syncRepo(source, { cacheDir, checkedOut: reset.commit });
  assert.equal(idle.changed, false);
  assert.equal(read(idle.dir, 'c.txt'), 'not looked at\n', 'no checkout while the branch stays where this process left it');
  const other = await syncRepo(source, { cacheDir, checkedOut: '0'.repeat(40) });
  assert.equal(read(other.dir, 'c.txt'), 'new\n', 'a cache this process did not check out is forced back');
});

test('a shallow clone (depth) for catalogs still fetches incrementally', async () => {
  const cacheDir = join(work, 'cache-shallow');
  const source = { url: server.repoUrl('catalog'), branch: 'main', token: TOKEN };
  const first = await syncRepo(source, { cacheDir, depth: 1 });
  assert.equal(git(['rev-list', '--count', 'HEAD'], first.dir).trim(), '1');
  const next = server.commitFiles('catalog', { 'shallow.txt': 's\n' }, { message: 'for shallow' });
  const moved = await syncRepo(source, { cacheDir, depth: 1 });
  assert.deepEqual([moved.commit, moved.changed, read(moved.dir, 'shallow.txt')], [next, true, 's\n']);
});

test('a missing or wrong token is REPO_AUTH_FAILED, and the token never shows', async () => {
  const cacheDir = join(work, 'cache-auth');
  await assert.rejects(syncRepo({ url: server.repoUrl('catalog'), branch: 'main' }, { cacheDir }), assertCode('REPO_AUTH_FAILED'));
  await assert.rejects(syncRepo({ url: server.repoUrl('catalog'), branch: 'main', token: 'wrong-token-xyz' }, { cacheDir }), assertCode('REPO_AUTH_FAILED', 'wrong-token-xyz'));
  assert.deepEqual(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : [], [], 'no half-cloned folder');
});

test('credentials embedded in the URL work and are scrubbed from errors', async () => {
  const cacheDir = join(work, 'cache-userinfo');
  const ok = await syncRepo({ url: server.authedUrl('catalog'), branch: 'main' }, { cacheDir });
  assert.equal(ok.commit, server.revParse('catalog', 'main'));
  const port = await closedPort();
  const url = `http://berth:${TOKEN}@127.0.0.1:${port}/catalog.git`;
  await assert.rejects(syncRepo({ url, branch: 'main' }, { cacheDir }), assertCode('REPO_UNREACHABLE', TOKEN));
});

test('an unknown branch is BRANCH_NOT_FOUND', async () => {
  await assert.rejects(syncRepo({ url: server.repoUrl('catalog'), branch: 'nope', token: TOKEN }, { cacheDir: join(work, 'cache-nb') }), assertCode('BRANCH_NOT_FOUND'));
});

test('unreachable server: REPO_UNREACHABLE, cached copy kept, watcher serves it stale', async () => {
  const other = await startGitServer({ root: join(work, 'server2'), token: TOKEN });
  other.createBareRepo('env');
  const sha = other.commitFiles('env', { 'x.yaml': 'x: 1\n' });
  const cacheDir = join(work, 'cache2');
  const source = { url: other.repoUrl('env'), branch: 'main', token: TOKEN };
  const watcher = new RepoWatcher(source, { cacheDir, backoff: { random: () => 0 } });
  const good = await watcher.refresh();
  assert.equal(good.stale, false);
  assert.equal(good.commit, sha);
  await other.close();

  await assert.rejects(syncRepo(source, { cacheDir }), assertCode('REPO_UNREACHABLE', TOKEN));
  assert.equal(read(good.dir, 'x.yaml'), 'x: 1\n');
  assert.equal(git(['rev-parse', 'HEAD'], good.dir).trim(), sha);

  const stale = await watcher.refresh();
  assert.equal(stale.stale, true);
  assert.equal(stale.commit, sha);
  assert.equal(stale.changed, false);
  assert.equal(stale.stale && stale.error.code, 'REPO_UNREACHABLE');
  assert.ok(watcher.retryInMs() > 0 && watcher.retryInMs() <= 1000);
  assert.equal((await watcher.refresh()).stale, true, 'within the backoff window: no network, same answer');
  assert.equal(watcher.current()?.stale, true);
});

test('a server that never answers times out as REPO_UNREACHABLE', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const started = Date.now();
    await assert.rejects(syncRepo({ url: `http://127.0.0.1:${port}/x.git`, branch: 'main' }, { cacheDir: join(work, 'cache3'), timeoutMs: 300 }), assertCode('REPO_UNREACHABLE'));
    assert.ok(Date.now() - started < 5000);
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('local sources: a work tree in place, a bare repository mirrored, a plain folder as-is', async () => {
  const cacheDir = join(work, 'cache-local');
  const tree = join(work, 'local-tree');
  // From the bare folder, not over HTTP: spawnSync would block the in-process server and deadlock.
  git(['clone', '--quiet', join(server.root, 'catalog.git'), tree]);
  const head = git(['rev-parse', 'HEAD'], tree).trim();
  assert.deepEqual(await syncRepo({ path: tree, branch: 'main' }, { cacheDir }), { dir: tree, commit: head, changed: true });
  assert.equal((await syncRepo({ path: tree, branch: 'main' }, { cacheDir })).changed, false);

  const bare = join(server.root, 'catalog.git');
  const mirrored = await syncRepo({ path: bare }, { cacheDir });
  assert.equal(mirrored.commit, server.revParse('catalog', 'main'));
  assert.equal(read(mirrored.dir, 'c.txt'), 'new\n');
  assert.equal((await syncRepo({ path: bare }, { cacheDir })).changed, false);
  const next = server.commitFiles('catalog', { 'c.txt': 'newer\n' });
  const moved = await syncRepo({ path: bare }, { cacheDir });
  assert.deepEqual([moved.commit, moved.changed, read(moved.dir, 'c.txt')], [next, true, 'newer\n']);

  const plain = join(work, 'plain');
  fs.mkdirSync(plain);
  assert.deepEqual(await syncRepo({ path: plain }, { cacheDir }), { dir: plain, commit: 'working-tree', changed: true });
  await assert.rejects(syncRepo({ path: join(work, 'missing') }, { cacheDir }), assertCode('REPO_PATH_NOT_FOUND'));
});

test('watcher: backoff doubles from 1 s to a 5 min cap, with jitter; recovery resets it', async () => {
  assert.equal(backoffDelay(1, { random: () => 1 }), 1000);
  assert.equal(backoffDelay(1, { random: () => 0 }), 500);
  assert.equal(backoffDelay(4, { random: () => 1 }), 8000);
  assert.equal(backoffDelay(30, { random: () => 1 }), 300_000);

  let now = 0;
  let fail = true;
  const result = { dir: '/x', commit: 'c1', changed: true };
  const watcher = new RepoWatcher({ path: '/x' }, {
    cacheDir: '/unused',
    now: () => now,
    backoff: { random: () => 1 },
    sync: async () => {
      if (fail) throw new BerthError('REPO_UNREACHABLE', 'unreachable', 'down');
      return result;
    },
  });
  await assert.rejects(watcher.refresh(), assertCode('REPO_UNREACHABLE'));
  assert.equal(watcher.retryInMs(), 1000);
  now = 1000;
  await assert.rejects(watcher.refresh());
  assert.equal(watcher.retryInMs(), 2000);
  fail = false;
  now = 1500;
  await assert.rejects(watcher.refresh(), 'still backing off');
  const fresh = await watcher.refresh({ force: true });
  assert.deepEqual([fresh.stale, fresh.commit, watcher.retryInMs()], [false, 'c1', 0]);
});

/** Zeroes the middle of every packfile of a clone, the way a torn write or a bad disk leaves one. */
function tearPacks(dir: string): number {
  const packDir = join(dir, '.git/objects/pack');
  const packs = fs.readdirSync(packDir).filter((f) => f.endsWith('.pack'));
  for (const p of packs) {
    const file = join(packDir, p);
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(Math.max(1, size - 64)), 0, Math.max(1, size - 64), 32);
    fs.closeSync(fd);
  }
  return packs.length;
}

test('a damaged cache clone (torn pack, torn index) is cloned again, said once, and the remote wins', async () => {
  server.createBareRepo('damaged');
  server.commitFiles('damaged', { 'a.txt': 'one\n', 'dir/b.txt': 'two\n' }, { message: 'first' });
  const cacheDir = join(work, 'cache-damaged');
  const source = { url: server.repoUrl('damaged'), branch: 'main', token: TOKEN };
  const first = await syncRepo(source, { cacheDir });
  assert.equal(first.rebuilt, undefined);

  // A restart finds the pack torn: the first sync of the process reads the clone back and rebuilds it.
  assert.ok(tearPacks(first.dir) >= 1);
  const restarted = await syncRepo(source, { cacheDir });
  assert.match(restarted.rebuilt ?? '', /packfile/i, 'the rebuild says why');
  assert.ok(!restarted.rebuilt!.includes(TOKEN));
  assert.equal(restarted.commit, server.revParse('damaged', 'main'));
  assert.equal(read(restarted.dir, 'dir/b.txt'), 'two\n');
  assert.equal(git(['fsck', '--no-dangling'], restarted.dir).includes('error'), false);
  assert.equal((await syncRepo(source, { cacheDir, checkedOut: restarted.commit })).rebuilt, undefined, 'a sound clone is not rebuilt');

  // A torn index fails the checkout of the next commit, while the process runs: rebuilt there too.
  fs.writeFileSync(join(restarted.dir, '.git/index'), 'DIRC\0\0\0\x02garbage');
  const next = server.commitFiles('damaged', { 'a.txt': 'three\n' }, { message: 'second' });
  const moved = await syncRepo(source, { cacheDir, checkedOut: restarted.commit });
  assert.match(moved.rebuilt ?? '', /index/i);
  assert.equal(moved.commit, next);
  assert.equal(read(moved.dir, 'a.txt'), 'three\n');
  assert.deepEqual(fs.readdirSync(cacheDir), [fs.readdirSync(cacheDir)[0]], 'no temp folders left behind');

  // The remote down and the clone damaged: the remote's error, and the clone left where it is for a later try.
  tearPacks(moved.dir);
  const refused = { request: async () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1'), { code: 'ECONNREFUSED' }); } };
  await assert.rejects(syncRepo(source, { cacheDir, http: refused }), assertCode('REPO_UNREACHABLE', TOKEN));
  assert.equal(read(moved.dir, 'a.txt'), 'three\n');
  assert.deepEqual(fs.readdirSync(cacheDir), [fs.readdirSync(cacheDir)[0]], 'no temp folders left behind');
});
