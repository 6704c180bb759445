// `berth serve` proposing upgrades by itself: an environment repository on the harness git server whose berth.yml
// names a GitLab forge (the fake one), a catalog folder with web 1.0.0 (berth-test/web:1) and 1.1.0
// (berth-test/web:2), and one stack on 1.0.0 on h1. Serve converges 1.0.0, marks the stack "upgrade available",
// pushes berth/upgrade/<stack> and opens the merge request without any CLI call. The test merges the branch with
// the git CLI and announces the push with a signed GitLab webhook: serve deploys 1.1.0, clears the mark, closes
// the now obsolete merge request with a comment, and opens no new one. The timer is an hour: everything after
// startup comes from the webhook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { dockerGate, tempDir, waitFor } from '../harness/env.ts';
import { startFakeForge, type FakeForge } from '../harness/fake-forge.ts';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { HEALTH, useHarnessStacks, writeCatalog } from './converge-fixtures.ts';
import { GITLAB_SECRET, Serve, TOKEN } from './serve-fixtures.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const STACK = 'sv-upg';
const BRANCH = `berth/upgrade/${STACK}`;
const TITLE = `Upgrade ${STACK}: web 1.0.0 → 1.1.0`;
/** The forge API token: not the git server's, so a push made with it would be refused. */
const FORGE_TOKEN = 'gl-api-t0ken-4e2a91';
const FORGE_TOKEN_ENV = 'BERTH_TEST_FORGE_TOKEN';
const MRS_PATH = '/api/v4/projects/ops/env/merge_requests';

const compose = (image: number) => `services:
  web:
    image: berth-test/web:${image}
    healthcheck:
${HEALTH('http://127.0.0.1/', '500ms', 40)}    stop_grace_period: 1s
`;

const tmp = tempDir('berth-serve-upgrades-');
const gitEnv = {
  PATH: process.env.PATH, HOME: tmp.path, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Operator', GIT_AUTHOR_EMAIL: 'ops@example.com', GIT_COMMITTER_NAME: 'Operator', GIT_COMMITTER_EMAIL: 'ops@example.com',
};
/** The git CLI, asynchronously: the git server answers from this very process. */
async function git(args: string[], cwd?: string): Promise<string> {
  return (await promisify(execFile)('git', args, { cwd, env: gitEnv })).stdout;
}

let server: GitServer | undefined;
let forge: FakeForge | undefined;
let serve: Serve | undefined;

const bare = () => path.join(server!.root, 'env.git');
const branchHead = (b: string) => git(['--git-dir', bare(), 'rev-parse', '--verify', '--quiet', `refs/heads/${b}`]).then((s) => s.trim(), () => undefined);
const ours = () => forge!.mergeRequests.filter((m) => m.sourceBranch === BRANCH);
const creates = () => forge!.writes('gitlab').filter((q) => q.method === 'POST' && q.path === MRS_PATH);
const stackState = () => serve!.json<StackState>(`/api/stacks/${STACK}`);

/** The stack's containers on h1. */
async function containers() {
  const list = await gate.docker('h1').listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${STACK}`] }) });
  return list.map((c) => ({ image: c.Image, state: c.State }));
}

function converged(version: number): Promise<unknown> {
  return waitFor(async () => {
    const cs = await containers();
    return cs.length === 1 && cs[0].state === 'running' && cs[0].image === `berth-test/web:${version}`;
  }, { timeoutMs: 60_000, intervalMs: 250, what: `${STACK} on h1 to run web:${version}` });
}

function gitlabPush(after: string): { headers: Record<string, string>; body: string } {
  const url = server!.repoUrl('env');
  const body = JSON.stringify({
    object_kind: 'push', ref: 'refs/heads/main', before: '0'.repeat(39) + '1', after,
    project: { path_with_namespace: 'ops/env', git_http_url: url, web_url: url.replace(/\.git$/, '') },
  });
  return { body, headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': GITLAB_SECRET, 'idempotency-key': randomUUID() } };
}

/** Started by the first test, so a missing harness fails inside a test, never at load. */
async function running(): Promise<Serve> {
  if (serve) return serve;
  server = await startGitServer({ root: path.join(tmp.path, 'git'), token: TOKEN });
  forge = await startFakeForge({ token: FORGE_TOKEN, gitlab: { project: 'ops/env', id: 7 }, branchExists: async (b) => (await branchHead(b)) !== undefined });
  const catalogDir = path.join(tmp.path, 'catalog');
  writeCatalog(catalogDir, { web: { description: 'One web service', versions: { '1.0.0': { compose: compose(1) }, '1.1.0': { compose: compose(2) } } } });
  const berth = {
    catalogs: [{ name: 'test', path: catalogDir }],
    hosts: [{ name: 'h1', endpoint: gate.host('h1').dockerHost }],
    forge: { type: 'gitlab', api_url: forge.url, project: 'ops/env', token_env: FORGE_TOKEN_ENV },
  };
  server.createBareRepo('env');
  server.commitFiles('env', { 'berth.yml': stringify(berth), [`stacks/${STACK}.yml`]: '# The web front.\ntemplate: web\nversion: 1.0.0 # pinned\n' }, { message: 'initial environment' });
  serve = await Serve.start([
    'serve', '--env', server.repoUrl('env'), '--env-token-env', 'SERVE_TEST_TOKEN', '--listen', '127.0.0.1:0',
    '--interval-seconds', '3600', '--cache-dir', path.join(tmp.path, 'cache'), '--deadline', '2m',
  ], { SERVE_TEST_TOKEN: TOKEN, BERTH_GITLAB_WEBHOOK_SECRET: GITLAB_SECRET, [FORGE_TOKEN_ENV]: FORGE_TOKEN });
  return serve;
}

useHarnessStacks(gate, [STACK], async () => {
  await serve?.stop();
  await forge?.close();
  await server?.close();
  tmp.remove();
});

test('serve converges 1.0.0 and /api/stacks says an upgrade to 1.1.0 is available', gate.opts, async () => {
  const s = await running();
  await converged(1);
  const st = await waitFor(async () => {
    const list = await s.json<StackState[]>('/api/stacks');
    const mine = list.find((x) => x.stack === STACK);
    return mine?.status === 'Ready' && mine.upgrade !== undefined && mine;
  }, { timeoutMs: 30_000, what: 'the stack Ready with an upgrade mark' });
  assert.equal(st.upgrade, '1.0.0 → 1.1.0');
  assert.equal(st.lastReconcile?.why, 'startup');
});

test('without any CLI call, serve pushes berth/upgrade/<stack> and opens the merge request on GitLab', gate.opts, async () => {
  const s = await running();
  await waitFor(() => s.logs.some((l) => l.msg === `upgrade of ${STACK}: created`), { timeoutMs: 30_000, what: 'serve to log the merge request it opened' });
  assert.equal(creates().length, 1, 'one merge request created');
  const [mr] = ours();
  assert.equal(mr.title, TITLE);
  assert.equal(mr.targetBranch, 'main');
  assert.equal(mr.state, 'opened');
  assert.equal(mr.removeSourceBranch, true);
  assert.match(mr.description, /^\+ {4}image: berth-test\/web:2$/m, 'the description diffs the rendered compose file');
  assert.deepEqual(creates()[0].body, { source_branch: BRANCH, target_branch: 'main', title: TITLE, description: mr.description, remove_source_branch: true });
  for (const q of forge!.requests) assert.equal(q.headers['private-token'], FORGE_TOKEN, `${q.method} ${q.path} authenticated with the forge token`);

  const head = await branchHead(BRANCH);
  assert.ok(head, `${BRANCH} is on the git server`);
  const main = await branchHead('main');
  assert.equal((await git(['--git-dir', bare(), 'rev-parse', `${head}^`])).trim(), main, 'one commit on top of main');
  assert.equal(await git(['--git-dir', bare(), 'show', `${head}:stacks/${STACK}.yml`]), '# The web front.\ntemplate: web\nversion: 1.1.0 # pinned\n');
  assert.equal((await git(['--git-dir', bare(), 'log', '-1', '--format=%an <%ae>|%s', head!])).trim(), `Berth <berth@localhost>|${TITLE}`);

  const logs = JSON.stringify(s.logs);
  for (const secret of [TOKEN, FORGE_TOKEN]) assert.ok(!logs.includes(secret), 'no token in the log');
});

test('merging the branch and a GitLab push webhook: 1.1.0 is deployed, the mark goes, the merge request is closed with a comment', gate.opts, async () => {
  const s = await running();
  await waitFor(() => s.logs.some((l) => l.msg === `upgrade of ${STACK}: created`), { timeoutMs: 30_000, what: 'the merge request to be opened' });
  const proposed = await branchHead(BRANCH);
  const clone = path.join(tmp.path, 'clone');
  await git(['clone', '--quiet', '--branch', 'main', server!.authedUrl('env'), clone]);
  await git(['fetch', '--quiet', 'origin', BRANCH], clone);
  await git(['merge', '--quiet', '--no-ff', '-m', `Merge branch '${BRANCH}' into 'main'`, 'FETCH_HEAD'], clone);
  await git(['push', '--quiet', 'origin', 'main'], clone);
  const sha = (await git(['rev-parse', 'HEAD'], clone)).trim();

  const res = await s.hook('gitlab', gitlabPush(sha));
  assert.equal(res.status, 202);
  await converged(2);
  const st = await waitFor(async () => {
    const x = await stackState();
    return x.desiredCommit === sha && x.status !== 'Reconciling' && !('upgrade' in x) && x;
  }, { timeoutMs: 60_000, what: 'the push reconciled and the upgrade mark cleared' });
  assert.equal(st.status, 'Ready', JSON.stringify(st));
  assert.equal(st.lastReconcile?.why, `push ${sha.slice(0, 7)}`);
  assert.ok(!(await s.json<StackState[]>('/api/stacks')).some((x) => x.upgrade), '/api/stacks shows no upgrade');

  const [mr] = await waitFor(() => ours()[0]?.state === 'closed' && ours(), { timeoutMs: 30_000, what: 'the merged proposal to be closed' });
  assert.deepEqual(mr.notes, [`Berth closed this merge request: ${STACK} is already on 1.1.0 on main, upgraded another way.`]);
  const writes = forge!.writes('gitlab').map((q) => `${q.method} ${q.path.replace(MRS_PATH, '')}${(q.body as { state_event?: string }).state_event ? ` ${(q.body as { state_event: string }).state_event}` : ''}`);
  assert.deepEqual(writes, ['POST ', `POST /${mr.iid}/notes`, `PUT /${mr.iid} close`], 'created once, then a comment and a close; nothing reopened or recreated');
  assert.equal(await branchHead(BRANCH), proposed, 'the upgrade branch was not rewritten');
  assert.equal(ours().length, 1);
});

test('a later refresh (another delivery of the push) writes nothing to the forge and opens no new merge request', gate.opts, async () => {
  const s = await running();
  const sha = (await branchHead('main'))!;
  await waitFor(() => ours()[0]?.state === 'closed', { timeoutMs: 30_000, what: 'the proposal to be closed' });
  const [requests, writes, proposed] = [forge!.requests.length, forge!.writes().length, await branchHead(BRANCH)];
  assert.equal((await s.hook('gitlab', gitlabPush(sha))).status, 202);
  // The check lists Berth's open merge requests; with none open and nothing to propose it ends there.
  await waitFor(() => forge!.requests.slice(requests).some((q) => q.method === 'GET' && q.path === MRS_PATH), { timeoutMs: 30_000, what: 'the upgrade check after the delivery' });
  await sleep(1_500);
  assert.equal(forge!.writes().length, writes, 'no write to the forge');
  assert.equal(await branchHead(BRANCH), proposed, 'the upgrade branch was not touched');
  assert.equal(ours().length, 1, 'no new merge request');
  assert.ok(!('upgrade' in (await stackState())));
  await converged(2);
});
