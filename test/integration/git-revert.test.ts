// revertCommit against `git revert --no-edit`: same tree, same message, on history pulled from the real
// smart-HTTP git server; and reverts made by the CLI are recognised by isRevertOf.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGitServer, git, type GitServer } from '../harness/git-server.ts';
import { syncRepo } from '../../lib/git/sync.ts';
import { revertCommit, isRevertOf, listCommits } from '../../lib/git/read.ts';
import { BerthError } from '../../lib/errors.ts';

const TOKEN = 'revert-token';
const author = { name: 'berth-test', email: 'berth-test@localhost' };
let server: GitServer;
let work: string;
let dir: string;
let c2: string;
let c3: string;

/** Commits in a CLI work tree, with file modes, and returns the sha. */
function cliCommit(cwd: string, files: Record<string, string | null>, message: string, exec: string[] = []): string {
  for (const [p, text] of Object.entries(files)) {
    if (text === null) fs.rmSync(join(cwd, p));
    else {
      fs.mkdirSync(join(cwd, p, '..'), { recursive: true });
      fs.writeFileSync(join(cwd, p), text);
    }
  }
  for (const p of exec) fs.chmodSync(join(cwd, p), 0o755);
  git(['add', '-A'], cwd);
  git(['commit', '--quiet', '-m', message], cwd);
  return git(['rev-parse', 'HEAD'], cwd).trim();
}

before(async () => {
  work = fs.mkdtempSync(join(tmpdir(), 'berth-git-revert-'));
  server = await startGitServer({ root: join(work, 'server'), token: TOKEN });
  server.createBareRepo('env');
  const clone = join(work, 'clone');
  git(['clone', '--quiet', join(server.root, 'env.git'), clone]);
  cliCommit(clone, { 'a.txt': 'a1\n', 'b.txt': 'b1\n', 'deep/x/run.sh': '#!/bin/sh\n', 'keep.txt': 'k\n' }, 'base', ['deep/x/run.sh']);
  c2 = cliCommit(clone, { 'a.txt': 'a2\n', 'b.txt': null, 'deep/x/run.sh': null, 'c/new.txt': 'c\n' }, 'Deploy web 2.0\n\nBody line.\n\nBerth-Stack: web');
  c3 = cliCommit(clone, { 'keep.txt': 'k2\n' }, 'unrelated');
  git(['push', '--quiet', 'origin', 'main'], clone);
  dir = (await syncRepo({ url: server.repoUrl('env'), branch: 'main', token: TOKEN }, { cacheDir: join(work, 'cache') })).dir;
});

after(async () => {
  await server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('revertCommit produces the tree and message of `git revert --no-edit`', async () => {
  git(['branch', 'ours', 'main'], dir);
  git(['checkout', '--quiet', '-b', 'cli', 'main'], dir);
  git(['revert', '--no-edit', c2], dir);
  const sha = await revertCommit(dir, { branch: 'ours', commit: c2.slice(0, 10), author });
  assert.ok(sha);
  assert.equal(git(['rev-parse', 'ours^{tree}'], dir), git(['rev-parse', 'cli^{tree}'], dir));
  assert.equal(git(['log', '-1', '--format=%B', 'ours'], dir), git(['log', '-1', '--format=%B', 'cli'], dir));
  assert.equal(git(['ls-tree', 'ours', 'deep/x/run.sh'], dir).split(' ')[0], '100755');
  assert.equal(git(['rev-parse', 'ours^'], dir).trim(), c3);
  git(['fsck', '--strict'], dir);
});

test('isRevertOf recognises reverts by the CLI and by Berth alike', async () => {
  const log = await listCommits(dir, 'cli', { limit: 1 });
  assert.equal(isRevertOf(log[0]!.message), c2);
  assert.equal(isRevertOf((await listCommits(dir, 'ours', { limit: 1 }))[0]!.message), c2);
  assert.equal(isRevertOf('Deploy web 2.0\n'), null);
  assert.deepEqual((await listCommits(dir, 'main', { limit: 2 }))[1]!.trailers, { 'Berth-Stack': 'web' });
});

test('reverting again changes nothing → null', async () => {
  assert.equal(await revertCommit(dir, { branch: 'ours', commit: c2, author }), null);
});

test('files changed since → REVERT_CONFLICT naming them', async () => {
  git(['checkout', '--quiet', '-b', 'later', 'main'], dir);
  cliCommit(dir, { 'c/new.txt': 'edited\n', 'keep.txt': 'k3\n' }, 'later edit');
  await assert.rejects(revertCommit(dir, { branch: 'later', commit: c2, author }), (err: unknown) => {
    assert.ok(err instanceof BerthError && err.code === 'REVERT_CONFLICT', String(err));
    assert.deepEqual(err.data.files, ['c/new.txt']);
    assert.match(err.message, /c\/new\.txt/);
    return true;
  });
});
