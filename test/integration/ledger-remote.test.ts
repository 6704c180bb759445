// The ledger against a real smart-HTTP remote (fake engines: no Docker needed): a failed push keeps the commit
// and sends it with the next refresh, and when a person pushed meanwhile, the remote wins and the state is
// recorded again on top of their commit.
import { StandaloneEngine } from '../../engines/standalone/engine.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { listCommits, syncRepo } from '../../lib/git/index.ts';
import type { EngineDriver } from '../../engines/standalone/driver.ts';
import { Ledger } from '../../ledger/ledger.ts';
import type { StackOutcome } from '../../controller/reconcile.ts';
import type { DesiredStack, ObservedHost } from '../../engines/standalone/types.ts';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { tempDir } from '../harness/env.ts';
import { desired, host, service, stackModel } from '../unit/controller-fixtures.ts';

const TOKEN = 'remote-ledger-token';
const BRANCH = 'berth/deployed';
const tmp = tempDir('berth-ledger-remote-');
let server: GitServer;
let dir: string;

before(async () => {
  server = await startGitServer({ root: path.join(tmp.path, 'server'), token: TOKEN });
  server.createBareRepo('env');
  server.commitFiles('env', { 'berth.yml': 'hosts: []\n' }, { message: 'env' });
  dir = (await syncRepo({ url: server.repoUrl('env'), branch: 'main', token: TOKEN }, { cacheDir: path.join(tmp.path, 'cache') })).dir;
});
after(async () => {
  await server.close();
  tmp.remove();
});

const hosts = [host('h1')];
const drivers = (id: string): Record<string, EngineDriver> => ({
  h1: {
    host: hosts[0],
    observe: async (stack: string): Promise<ObservedHost> => ({ host: 'h1', reachable: true, networks: [], volumes: [], containers: [{ id: 'c1', name: `${stack}-web-1`, service: 'web', number: 1, image: 'x', imageId: id, state: 'running' }] }),
    imageDigests: async (refs: string[]) => Object.fromEntries(refs.map((r) => [r, { id: r, repoDigests: [] }])),
  } as unknown as EngineDriver,
});

function outcome(version: string): StackOutcome {
  const d: DesiredStack = desired(stackModel('web', [service('web', { image: `acme/web:${version}` })]), hosts, `acme@${version}`);
  return {
    stack: 'web', why: 'test', outcome: 'converged', desired: d, startedAt: '', durationMs: 0,
    observed: { name: 'web', hosts: { h1: { host: 'h1', reachable: true, containers: [], networks: [], volumes: [] } } },
    plan: { stack: 'web', source: d.source, errors: [], hosts: [{ host: 'h1', operations: [] }] },
  };
}

const spec = { name: 'web', file: 'stacks/web.yml', template: 'acme', version: '1', answers: {}, hosts: {} };
const ctx = (id: string) => ({ spec, engine: new StandaloneEngine(drivers(id)), sources: { environment: 'e'.repeat(40), catalogs: {} }, trigger: { kind: 'timer', why: 'timer' }, mode: 'render' as const });
const ID = (c: string) => `sha256:${c.repeat(64)}`;

async function git(args: string[], cwd?: string): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: tmp.path, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'p', GIT_AUTHOR_EMAIL: 'p@x', GIT_COMMITTER_NAME: 'p', GIT_COMMITTER_EMAIL: 'p@x' };
  return (await promisify(execFile)('git', args, { cwd, env })).stdout;
}

test('refreshes asked for while one waits its turn share one fetch', async () => {
  const ledger = new Ledger({ dir, branch: BRANCH, remote: { url: server.repoUrl('env'), token: TOKEN } });
  const fetches = () => server.requests.filter((r) => r.startsWith('GET ') && r.includes('service=git-upload-pack')).length;
  const before = fetches();
  await Promise.all([ledger.refresh(), ledger.refresh(), ledger.refresh()]);
  assert.equal(fetches() - before, 1);
  await ledger.refresh();
  assert.equal(fetches() - before, 2, 'a refresh asked for after the shared one fetches again');
});

test('a failed push keeps the commit locally; the next refresh pushes it', async () => {
  const warnings: string[] = [];
  const log = { warn: (_: unknown, m: string) => warnings.push(m), info: () => {}, error: () => {}, debug: () => {} } as never;
  const offline = new Ledger({ dir, remote: { url: server.repoUrl('env'), token: 'wrong' }, log });
  const sha = await offline.record(outcome('1'), ctx(ID('1')));
  assert.ok(sha);
  assert.equal(server.revParse('env', `refs/heads/${BRANCH}`), undefined);
  assert.ok(warnings.some((m) => /push failed; the commit stays local/.test(m)));

  const online = new Ledger({ dir, remote: { url: server.repoUrl('env'), token: TOKEN } });
  await online.refresh();
  assert.equal(server.revParse('env', `refs/heads/${BRANCH}`), sha);
});

test('a person pushed while a commit was pending: the remote wins, and the state is recorded on top of theirs', async () => {
  const offline = new Ledger({ dir, remote: { url: server.repoUrl('env'), token: 'wrong' } });
  const pending = await offline.record(outcome('2'), ctx(ID('2')));
  assert.ok(pending);

  const clone = path.join(tmp.path, 'person');
  await git(['clone', '--quiet', '--branch', BRANCH, server.authedUrl('env'), clone]);
  await git(['commit', '--quiet', '--allow-empty', '-m', 'a note from a person'], clone);
  await git(['push', '--quiet', 'origin', BRANCH], clone);
  const theirs = server.revParse('env', `refs/heads/${BRANCH}`)!;

  const online = new Ledger({ dir, remote: { url: server.repoUrl('env'), token: TOKEN } });
  const again = await online.record(outcome('2'), ctx(ID('2')));
  assert.ok(again && again !== pending);
  const log = await listCommits(dir, BRANCH, { limit: 3 });
  assert.deepEqual(log.map((c) => c.sha).slice(0, 2), [again, theirs], 'rebuilt on the remote head, the pending commit dropped');
  assert.equal(server.revParse('env', `refs/heads/${BRANCH}`), again);
});

test('an unreachable remote is warned about once, however many reconciles refresh the ledger meanwhile; its return once', async () => {
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (_: unknown, msg: string) => void lines.push({ level, msg });
  const log = { warn: at('warn'), info: at('info'), error: at('error'), debug: () => {} } as never;
  // A closed port on this machine: the fetch is refused at once.
  const gone = await startGitServer({ root: path.join(tmp.path, 'gone') });
  const url = gone.repoUrl('env');
  await gone.close();
  const ledger = new Ledger({ dir, remote: { url, token: TOKEN }, log });
  for (let i = 0; i < 5; i++) await assert.rejects(ledger.refresh());
  assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), ['warn ledger: cannot fetch the ledger branch; using the local copy until the remote is back']);
  const back = await startGitServer({ root: path.join(tmp.path, 'gone'), port: Number(new URL(url).port) });
  try {
    back.createBareRepo('env');
    back.commitFiles('env', { 'berth.yml': 'hosts: []\n' }, { message: 'env' });
    await ledger.refresh();
    await ledger.refresh();
    assert.deepEqual(lines.slice(1).map((l) => `${l.level} ${l.msg}`), ['info ledger: the remote is reachable again']);
  } finally {
    await back.close();
  }
});
