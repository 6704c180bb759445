// Upgrade merge requests end to end against the fake GitLab, with the environment repository on the real git
// server: `berth upgrades --open` pushes one commit per stack and opens the MRs; a second run changes nothing;
// a merge is an ordinary push that the deploy path sees; a newer catalog version updates the same MR; a stack
// bumped by hand or a version gone from the catalog closes it with a comment; answers added make a draft ready.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { renderStack } from '../../catalog/stack.ts';
import { createGitlabForge } from '../../upgrades/gitlab.ts';
import { BerthError } from '../../lib/errors.ts';
import { API_STACK, SECRET, webVersion, writeFiles } from '../unit/upgrades-fixtures.ts';
import { runBerth } from './converge-fixtures.ts';
import { byStack, read, startWorld, TOKEN, TOKEN_ENV, webStack, type World } from './upgrades-world.ts';
import { deployAndCheck } from './upgrades-deploy.ts';

let w: World;
const PORT = 18300 + Math.floor(Math.random() * 500);
const mr = (stack: string) => w.forge.mergeRequests.filter((m) => m.sourceBranch === `berth/upgrade/${stack}`);

before(async () => {
  w = await startWorld('gitlab', { upgshop: webStack('1.0.0', PORT), upgsite: webStack('1.0.0', PORT + 1), orders: API_STACK });
});
after(() => w.close());

test('berth upgrades lists what can be upgraded, and which would be drafts', async () => {
  const { dir } = await w.loadEnv();
  const r = await runBerth(['upgrades', '--env', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { upgrades } = JSON.parse(r.stdout) as { upgrades: { stack: string; from: string; to: string; draft: boolean; needsAnswers: string[] }[] };
  assert.deepEqual(upgrades.map((u) => [u.stack, u.from, u.to, u.draft]), [['orders', '1.0.0', '2.0.0', true], ['upgshop', '1.0.0', '1.1.0', false], ['upgsite', '1.0.0', '1.1.0', false]]);
  assert.deepEqual(upgrades[0].needsAnswers, ['admin_email']);
  const text = await runBerth(['upgrades', '--env', dir]);
  assert.match(text.stdout, /upgshop\s+web\s+1\.0\.0\s+1\.1\.0\s+ready/);
  assert.match(text.stdout, /orders\s+api\s+1\.0\.0\s+2\.0\.0\s+draft: answers needed: admin_email/);
  assert.equal(w.forge.requests.length, 0, 'listing never calls the forge');
});

test('berth upgrades --open: a branch with one commit per stack, and an authenticated MR with the right text', async () => {
  const { dir } = await w.loadEnv();
  const r = await runBerth(['upgrades', '--open', '--json', '--env', dir, '--remote', w.repoUrl, '--cache-dir', w.berthCache], { env: { [TOKEN_ENV]: TOKEN } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.values(byStack(JSON.parse(r.stdout))).map((x) => [x.stack, x.action]), [['orders', 'created'], ['upgshop', 'created'], ['upgsite', 'created']]);
  assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN));

  const clone = await w.clone('berth/upgrade/upgshop');
  assert.equal(read(clone, 'stacks/upgshop.yml'), webStack('1.1.0', PORT, '  colour: blue\n').replace('version: 1.1.0   # pinned', 'version: 1.1.0 # pinned'));
  assert.equal((await w.git(['rev-list', '--count', 'origin/main..HEAD'], clone)).trim(), '1', 'one commit on top of main');
  assert.equal((await w.git(['rev-parse', 'HEAD^'], clone)).trim(), w.server.revParse('env', 'refs/heads/main'));
  assert.equal((await w.git(['log', '-1', '--format=%an <%ae>|%s'], clone)).trim(), 'Berth <berth@localhost>|Upgrade upgshop: web 1.0.0 → 1.1.0');

  const [shop] = mr('upgshop');
  assert.equal(shop.title, 'Upgrade upgshop: web 1.0.0 → 1.1.0');
  assert.equal(shop.targetBranch, 'main');
  assert.equal(shop.removeSourceBranch, true);
  assert.match(shop.description, /The web image 2, and a colour\./);
  assert.match(shop.description, /^\+ {4}image: berth-test\/web:2$/m);
  assert.match(mr('orders')[0].title, /^Draft: Upgrade orders: api 1\.0\.0 → 2\.0\.0$/);
  assert.match(mr('orders')[0].description, /add answers to these new required questions[\s\S]*`admin_email`/);

  const creates = w.forge.writes().filter((q) => q.method === 'POST');
  assert.deepEqual(creates.map((q) => q.path), Array(3).fill('/api/v4/projects/ops/env/merge_requests'));
  assert.equal(creates[0].rawPath, '/api/v4/projects/ops%2Fenv/merge_requests', 'the project path is URL-encoded, as GitLab wants');
  assert.deepEqual(Object.keys(creates[0].body as object).sort(), ['description', 'remove_source_branch', 'source_branch', 'target_branch', 'title']);
  for (const q of w.forge.requests) assert.equal(q.headers['private-token'], TOKEN, `${q.method} ${q.path} authenticated`);
  assert.ok(!JSON.stringify(w.forge.requests.map((q) => q.body)).includes(SECRET), 'no secret answer reached the forge');
});

test('running again changes nothing: no push, no write to the forge (the fingerprint matches)', async () => {
  const [writes, pushes] = [w.forge.writes().length, w.server.pushes.length];
  const results = await w.propose();
  assert.deepEqual(results.map((r) => r.action), ['unchanged', 'unchanged', 'unchanged']);
  assert.equal(w.forge.writes().length, writes);
  assert.equal(w.server.pushes.length, pushes);
});

test('merging is an ordinary push: the environment then says 1.1.0, it renders, and it deploys', async (t) => {
  const clone = await w.clone('main');
  await w.git(['fetch', '--quiet', 'origin', 'berth/upgrade/upgsite'], clone);
  await w.git(['merge', '--quiet', '--no-ff', '-m', 'Merge upgrade of upgsite', 'FETCH_HEAD'], clone);
  await w.git(['push', '--quiet', 'origin', 'main'], clone);
  w.forge.markMerged('gitlab', mr('upgsite')[0].iid);
  const { env, dir } = await w.loadEnv();
  const site = env.stacks.find((s) => s.name === 'upgsite')!;
  assert.equal(site.version, '1.1.0');
  const rendered = renderStack(await loadCatalogOrThrow(w.catalog), { ref: `${site.template}@${site.version}`, answers: site.answers, stack: 'upgsite' });
  assert.equal(rendered.model.services.web.image, 'berth-test/web:2');
  await deployAndCheck(t, dir, 'upgsite', PORT + 1, '2');
  const status = await runBerth(['status', 'upgshop', '--env', dir]);
  assert.match(status.stdout, /^stack upgshop \(web@1\.0\.0\): .*\n {2}upgrade available: 1\.0\.0 → 1\.1\.0/m, status.stdout + status.stderr);
  const writes = w.forge.writes().length;
  const results = byStack(await w.propose());
  assert.equal(results.upgsite, undefined, 'upgsite is on the newest version: nothing to propose, nothing to close');
  assert.equal(results.upgshop.action, 'unchanged', 'main moved, but the proposal did not: the branch is not rewritten');
  assert.equal(w.forge.writes().length, writes);
});

test('a newer version in the catalog updates the same MR and rewrites its branch; merged stacks get a new one', async () => {
  writeFiles(w.catalog, webVersion('1.2.0'));
  const results = byStack(await w.propose());
  assert.equal(results.upgshop.action, 'updated');
  assert.equal(results.upgsite.action, 'created');
  assert.equal(results.orders.action, 'unchanged');
  assert.equal(mr('upgshop').length, 1);
  assert.equal(mr('upgshop')[0].title, 'Upgrade upgshop: web 1.0.0 → 1.2.0');
  assert.match(mr('upgshop')[0].description, /#### web 1\.2\.0[\s\S]*message of the day[\s\S]*#### web 1\.1\.0/);
  const put = w.forge.writes().filter((q) => q.method === 'PUT').at(-1)!;
  assert.equal(put.path, `/api/v4/projects/ops/env/merge_requests/${mr('upgshop')[0].iid}`);
  assert.deepEqual(Object.keys(put.body as object).sort(), ['description', 'title']);
  const clone = await w.clone('berth/upgrade/upgshop');
  assert.match(read(clone, 'stacks/upgshop.yml'), /^version: 1\.2\.0 # pinned$/m);
  assert.equal((await w.git(['rev-list', '--count', 'origin/main..HEAD'], clone)).trim(), '1', 'rewritten: still one commit, now on the new main');
});

test('a stack bumped by hand on main: its MR is closed with a comment saying why', async () => {
  w.server.commitFiles('env', { 'stacks/upgshop.yml': webStack('1.2.0', PORT, '  colour: green\n  motd: hello\n') }, { message: 'upgrade upgshop by hand' });
  const results = byStack(await w.propose());
  assert.equal(results.upgshop.action, 'closed');
  const [shop] = mr('upgshop');
  assert.equal(shop.state, 'closed');
  assert.deepEqual(shop.notes, ['Berth closed this merge request: upgshop is already on 1.2.0 on main, upgraded another way.']);
  const tail = w.forge.writes().slice(-2).map((q) => [q.method, q.path.split('/').slice(-1)[0], (q.body as Record<string, unknown>).state_event ?? '']);
  assert.deepEqual(tail, [['POST', 'notes', ''], ['PUT', String(shop.iid), 'close']], 'comment first, then close');
});

test('answers added on main turn the draft ready; a version gone from the catalog closes its MR', async () => {
  w.server.commitFiles('env', { 'stacks/orders.yml': `${API_STACK}  admin_email: ops@example.com\n` }, { message: 'answer admin_email' });
  rmSync(path.join(w.catalog, 'templates/web/1.2.0'), { recursive: true });
  const results = byStack(await w.propose());
  assert.equal(results.orders.action, 'updated');
  assert.equal(mr('orders')[0].title, 'Upgrade orders: api 1.0.0 → 2.0.0', 'no Draft: prefix');
  assert.doesNotMatch(mr('orders')[0].description, /This is a draft/);
  assert.equal(results.upgsite.action, 'closed');
  assert.match(mr('upgsite').at(-1)!.notes[0], /web 1\.2\.0 is no longer in the catalog/);
});

test('a wrong token: FORGE_AUTH_FAILED from a 401, and the token is in no message', async () => {
  const bad = 'not-the-token-123';
  const forge = createGitlabForge({ type: 'gitlab', apiUrl: w.forge.url, project: 'ops/env', tokenEnv: 'X', branch: 'main' }, bad);
  const err = await forge.listOpenMergeRequests('berth/upgrade/').then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof BerthError && err.code === 'FORGE_AUTH_FAILED', String(err));
  assert.ok(!err.message.includes(bad) && !JSON.stringify(err.toJSON()).includes(bad));
  assert.equal(w.forge.requests.at(-1)!.status, 401);
  const missing = await createGitlabForge({ type: 'gitlab', apiUrl: w.forge.url, project: 'ops/nope', tokenEnv: 'X', branch: 'main' }, TOKEN).findOpenMergeRequest('x').catch((e: BerthError) => e.code);
  assert.equal(missing, 'FORGE_NOT_FOUND');
});

test('listing follows GitLab pagination (Link rel="next") past 100 merge requests', async () => {
  for (let i = 0; i < 120; i++) {
    w.forge.mergeRequests.push({ iid: w.forge.mergeRequests.length + 1, title: `other ${i}`, description: '', sourceBranch: `feature/${i}`, targetBranch: 'main', state: 'opened', removeSourceBranch: false, notes: [] });
  }
  const forge = createGitlabForge({ type: 'gitlab', apiUrl: w.forge.url, project: '7', tokenEnv: 'X', branch: 'main' }, TOKEN);
  const from = w.forge.requests.length;
  const ours = await forge.listOpenMergeRequests('berth/upgrade/');
  assert.deepEqual(ours.map((m) => m.sourceBranch), ['berth/upgrade/orders'], 'the only open one of Berth’s, found among 121');
  assert.deepEqual(w.forge.requests.slice(from).map((q) => [q.path, q.query.page ?? '1']), [['/api/v4/projects/7/merge_requests', '1'], ['/api/v4/projects/7/merge_requests', '2']]);
});
