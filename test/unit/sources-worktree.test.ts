// A local git work tree as the environment (the demo's setup): serve reads it in place, yet deploys only what
// is committed — an edit waiting for its `git commit` is not picked up (and not recorded under the old commit),
// the commit is. A real repository made with the git CLI; no Docker needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Sources } from '../../environment/sources.ts';
import { createLogger } from '../../lib/log.ts';

/** Berth's logger into memory: each line parsed. */
function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ destination: new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }) });
  return { log, lines: () => lines };
}

const stack = (title: string) => `template: static-site\nversion: 1.0.0\nanswers:\n  site_title: ${title}\n`;

function repo(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-worktree-'));
  mkdirSync(path.join(root, 'env', 'stacks'), { recursive: true });
  mkdirSync(path.join(root, 'catalog', 'templates'), { recursive: true });
  writeFileSync(path.join(root, 'env', 'berth.yml'), 'catalogs:\n  - name: main\n    path: ../catalog\nhosts:\n  - name: local\n    endpoint: unix:///var/run/docker.sock\n');
  writeFileSync(path.join(root, 'env', 'stacks', 'site.yml'), stack('One'));
  const env = path.join(root, 'env');
  git(env, 'init', '-q', '-b', 'main');
  git(env, 'add', '-A');
  git(env, 'commit', '-q', '-m', 'first');
  return root;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' },
  }).trim();
}

const title = (s: Awaited<ReturnType<Sources['refresh']>>) => (s.env?.stacks.find((x) => x.name === 'site')?.answers as { site_title?: string } | undefined)?.site_title;

test('uncommitted edits in a work-tree environment wait for their commit; the commit deploys', async () => {
  const root = repo();
  try {
    const { log, lines } = memoryLogger();
    const env = path.join(root, 'env');
    const sources = new Sources({ env: { path: env }, cacheDir: path.join(root, 'cache'), log });
    const first = await sources.refresh();
    assert.equal(title(first), 'One');
    assert.equal(first.commit, git(env, 'rev-parse', 'HEAD'));

    // Edited, not committed: the snapshot stays the committed one, and the log says why, once.
    writeFileSync(path.join(root, 'env', 'stacks', 'site.yml'), stack('Two'));
    writeFileSync(path.join(root, 'env', 'stacks', 'extra.yml'), stack('Extra'));
    for (let i = 0; i < 3; i++) {
      const s = await sources.refresh();
      assert.equal(title(s), 'One');
      assert.equal(s.commit, first.commit);
      assert.deepEqual(s.env?.stacks.map((x) => x.name), ['site']);
    }
    const warned = lines().filter((l) => /are not deployed until they are committed/.test(String(l.msg)));
    assert.equal(warned.length, 1, JSON.stringify(lines()));
    assert.deepEqual(warned[0]!.files, ['stacks/extra.yml', 'stacks/site.yml']);

    // Committed: the next refresh takes it.
    git(env, 'add', '-A');
    git(env, 'commit', '-q', '-m', 'second');
    const second = await sources.refresh();
    assert.equal(title(second), 'Two');
    assert.equal(second.commit, git(env, 'rev-parse', 'HEAD'));
    assert.deepEqual(second.env?.stacks.map((x) => x.name).sort(), ['extra', 'site']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
