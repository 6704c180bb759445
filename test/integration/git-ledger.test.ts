// commitFiles, pushBranch/fetchBranch, listCommits and readFilesAt on a repository cloned from the real
// smart-HTTP git server: the ledger branch `berth/deployed` is built without touching the work tree.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { startGitServer, git, type GitServer } from '../harness/git-server.ts';
import { syncRepo } from '../../lib/git/sync.ts';
import { commitFiles } from '../../lib/git/commit.ts';
import { fetchBranch, pushBranch } from '../../lib/git/push.ts';
import { listCommits, readFilesAt } from '../../lib/git/read.ts';
import { BerthError } from '../../lib/errors.ts';

const TOKEN = 'ledger-token-123';
const LEDGER = 'berth/deployed';
const author = { name: 'Berth', email: 'berth@localhost' };
let server: GitServer;
let work: string;
let dir: string;
const bare = () => join(server.root, 'env.git');

/** The git CLI over HTTP must run asynchronously: the server lives in this process. */
async function gitHttp(args: string[], cwd?: string): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
  return (await promisify(execFile)('git', args, { cwd, env })).stdout;
}

const code = (c: string) => (err: unknown) => err instanceof BerthError && err.code === c;

before(async () => {
  work = fs.mkdtempSync(join(tmpdir(), 'berth-git-ledger-'));
  server = await startGitServer({ root: join(work, 'server'), token: TOKEN });
  server.createBareRepo('env');
  server.commitFiles('env', { 'stacks/web.yaml': 'template: web\n', 'bin/run.sh': '#!/bin/sh\n' }, { message: 'init' });
  dir = (await syncRepo({ url: server.repoUrl('env'), branch: 'main', token: TOKEN }, { cacheDir: join(work, 'cache') })).dir;
});

after(async () => {
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('commitFiles starts an orphan branch without touching the work tree or HEAD', async () => {
  const sha = await commitFiles(dir, { branch: LEDGER, files: { 'deployed/web/compose.yaml': 'services: {}\n', 'deployed/web/meta.json': '{}\n' }, message: 'Deploy web', author });
  assert.ok(sha);
  assert.equal(git(['rev-list', '--parents', '-n1', LEDGER], dir).trim(), sha, 'no parents');
  assert.equal(git(['symbolic-ref', 'HEAD'], dir).trim(), 'refs/heads/main');
  assert.equal(git(['status', '--porcelain'], dir), '');
  assert.equal(git(['show', `${LEDGER}:deployed/web/compose.yaml`], dir), 'services: {}\n');
  assert.equal(git(['log', '-1', '--format=%B', LEDGER], dir), 'Deploy web\n\n');
  git(['fsck', '--strict'], dir);
});

test('no change → null; a moved parent → REF_MOVED', async () => {
  const head = git(['rev-parse', LEDGER], dir).trim();
  assert.equal(await commitFiles(dir, { branch: LEDGER, files: { 'deployed/web/compose.yaml': 'services: {}\n', 'nothing/here': null }, message: 'noop', author }), null);
  assert.equal(git(['rev-parse', LEDGER], dir).trim(), head);
  const next = await commitFiles(dir, { branch: LEDGER, parent: head, files: { 'deployed/web/meta.json': null }, message: 'Drop meta', author });
  assert.ok(next);
  await assert.rejects(commitFiles(dir, { branch: LEDGER, parent: head, files: { x: 'y' }, message: 'late', author }), code('REF_MOVED'));
  await assert.rejects(commitFiles(dir, { branch: LEDGER, parent: null, files: { x: 'y' }, message: 'late', author }), code('REF_MOVED'));
  assert.equal(git(['ls-tree', '-r', '--name-only', LEDGER], dir), 'deployed/web/compose.yaml\n');
  // A lock left by a process that died holding it (older than STALE_LOCK_MS) is taken over, and said so.
  const lock = join(dir, '.git/refs/heads/berth/after-crash.lock');
  fs.mkdirSync(dirname(lock), { recursive: true });
  fs.writeFileSync(lock, '');
  const past = new Date(Date.now() - 10_000);
  fs.utimesSync(lock, past, past);
  const stale: { lock: string; ageMs: number }[] = [];
  const taken = await commitFiles(dir, { branch: 'berth/after-crash', files: { x: 'y' }, message: 'after a crash', author,
    onStaleLock: (l, ageMs) => stale.push({ lock: l, ageMs }) });
  assert.ok(taken);
  assert.equal(stale.length, 1);
  assert.equal(stale[0]!.lock, lock);
  assert.ok(stale[0]!.ageMs >= 2_000);
  assert.equal(fs.existsSync(lock), false);
});

test('deleting the last file of a folder removes the folder; executable bits survive edits', async () => {
  const work2 = join(work, 'cli');
  git(['clone', '--quiet', bare(), work2]);
  fs.chmodSync(join(work2, 'bin/run.sh'), 0o755);
  git(['add', 'bin/run.sh'], work2);
  git(['commit', '--quiet', '-m', 'exec'], work2);
  await commitFiles(work2, { branch: 'main', files: { 'bin/run.sh': '#!/bin/sh\necho hi\n', 'stacks/web.yaml': null }, message: 'edit', author });
  assert.equal(git(['ls-tree', 'main', 'bin/run.sh'], work2).split(' ')[0], '100755');
  assert.equal(git(['ls-tree', '-r', '--name-only', 'main'], work2), 'bin/run.sh\n');
});

test('pushBranch publishes the ledger; a stale local branch is PUSH_REJECTED', async () => {
  const { commit } = await pushBranch(dir, { url: server.repoUrl('env'), branch: LEDGER, token: TOKEN });
  const remote = await gitHttp(['ls-remote', server.authedUrl('env'), `refs/heads/${LEDGER}`]);
  assert.equal(remote.split('\t')[0], commit);
  await assert.rejects(pushBranch(dir, { url: server.repoUrl('env'), branch: LEDGER }), code('REPO_AUTH_FAILED'));

  // Someone else appends to the remote ledger.
  const other = join(work, 'other');
  git(['clone', '--quiet', '--branch', LEDGER, bare(), other]);
  fs.writeFileSync(join(other, 'note'), 'x\n');
  git(['add', 'note'], other);
  git(['commit', '--quiet', '-m', 'other'], other);
  git(['push', '--quiet', 'origin', LEDGER], other);
  const theirs = git(['rev-parse', 'HEAD'], other).trim();

  await commitFiles(dir, { branch: LEDGER, files: { 'deployed/api/compose.yaml': 'services: {}\n' }, message: 'Deploy api', author });
  await assert.rejects(pushBranch(dir, { url: server.repoUrl('env'), branch: LEDGER, token: TOKEN }), code('PUSH_REJECTED'));
  const fetched = await fetchBranch(dir, { url: server.repoUrl('env'), branch: LEDGER, token: TOKEN, fastForward: true });
  assert.equal(fetched.commit, theirs);
  assert.notEqual(fetched.local, theirs, 'diverged: left for the caller');
});

test('fetchBranch: a missing remote branch is empty; a behind local branch fast-forwards', async () => {
  assert.deepEqual((await fetchBranch(dir, { url: server.repoUrl('env'), branch: 'berth/nothing', token: TOKEN })).commit, null);
  server.createBareRepo('empty');
  assert.equal((await fetchBranch(dir, { url: server.repoUrl('empty'), branch: LEDGER, token: TOKEN })).commit, null);

  const remoteHead = server.revParse('env', LEDGER)!;
  git(['branch', '-f', 'behind', `${remoteHead}~1`], dir);
  git(['push', '--quiet', bare(), `${remoteHead}:refs/heads/behind`], dir);
  const r = await fetchBranch(dir, { url: server.repoUrl('env'), branch: 'behind', token: TOKEN, fastForward: true });
  assert.deepEqual(r, { commit: remoteHead, local: remoteHead });
});

test('listCommits parses trailers; readFilesAt reads a folder at a commit', async () => {
  const msg = 'Deploy web 1.2.0 to prod\n\nRendered from catalog abc123.\n\nBerth-Stack: web\nBerth-Template: web@1.2.0\nBerth-Host: h1\n';
  const sha = await commitFiles(dir, { branch: 'trail', files: { 'deployed/web/compose.yaml': 'a\n', 'deployed/web/x/y.txt': 'b\n', 'other.txt': 'c\n' }, message: msg, author });
  await commitFiles(dir, { branch: 'trail', files: { 'other.txt': 'd\n' }, message: 'Tweak\n\nnot: a trailer block because\nthis line is prose', author });
  const log = await listCommits(dir, 'trail', { limit: 5 });
  assert.equal(log.length, 2);
  assert.deepEqual(log[0]!.trailers, {});
  assert.equal(log[1]!.sha, sha);
  assert.equal(log[1]!.subject, 'Deploy web 1.2.0 to prod');
  assert.deepEqual(log[1]!.trailers, { 'Berth-Stack': 'web', 'Berth-Template': 'web@1.2.0', 'Berth-Host': 'h1' });
  assert.deepEqual(log[0]!.parents, [sha]);
  assert.deepEqual(log[1]!.author, author);
  assert.equal((await listCommits(dir, 'trail', { limit: 1 })).length, 1);
  assert.deepEqual(await listCommits(dir, 'no-such-branch'), []);
  assert.deepEqual(await readFilesAt(dir, sha!, 'deployed/web'), { 'compose.yaml': 'a\n', 'x/y.txt': 'b\n' });
  assert.deepEqual(await readFilesAt(dir, 'trail', 'other.txt/'), {});
  assert.deepEqual(await readFilesAt(dir, sha!, 'missing'), {});
});
