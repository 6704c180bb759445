// The same proposals through the fake GitHub: pull requests opened (as drafts where answers are missing),
// left alone when nothing changed, updated for a newer version, turned ready through GraphQL when the answers
// arrive, closed with a comment when the stack was upgraded by hand, and never overwritten once a person has
// committed to the branch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_STACK, SECRET, webVersion, writeFiles } from '../unit/upgrades-fixtures.ts';
import { createGithubForge } from '../../upgrades/github.ts';
import { byStack, read, startWorld, TOKEN, webStack, type World } from './upgrades-world.ts';

let w: World;
const PORT = 18900;
const pull = (stack: string) => w.forge.pulls.filter((p) => p.head === `berth/upgrade/${stack}`);

before(async () => {
  w = await startWorld('github', { shop: webStack('1.0.0', PORT), orders: API_STACK });
});
after(() => w.close());

test('pull requests are opened from pushed branches, drafts where answers are missing', async () => {
  const results = byStack(await w.propose());
  assert.equal(results.shop.action, 'created');
  assert.equal(results.orders.action, 'created');
  assert.deepEqual(results.orders.upgrade, { template: 'api', from: '1.0.0', to: '2.0.0', draft: true });
  const [shop] = pull('shop');
  assert.equal(shop.title, 'Upgrade shop: web 1.0.0 → 1.1.0');
  assert.equal(shop.base, 'main');
  assert.equal(shop.draft, false);
  assert.equal(pull('orders')[0].draft, true);
  assert.equal(pull('orders')[0].title, 'Upgrade orders: api 1.0.0 → 2.0.0', 'GitHub marks drafts with a flag, not the title');
  const creates = w.forge.writes().filter((q) => q.method === 'POST');
  assert.deepEqual(creates.map((q) => q.path), ['/repos/acme/env/pulls', '/repos/acme/env/pulls']);
  assert.deepEqual((creates[0].body as Record<string, unknown>).draft, true, 'orders first (file order), as a draft');
  assert.deepEqual(Object.keys(creates[1].body as object).sort(), ['base', 'body', 'draft', 'head', 'title']);
  for (const q of w.forge.requests) assert.match(String(q.headers.authorization), new RegExp(`^(token|Bearer) ${TOKEN}$`));
  assert.ok(!JSON.stringify(w.forge.requests.map((q) => q.body)).includes(SECRET));
  const clone = await w.clone('berth/upgrade/shop');
  assert.match(read(clone, 'stacks/shop.yml'), /^version: 1\.1\.0 # pinned$/m);
});

test('nothing new: no request that writes, no push', async () => {
  const [writes, pushes] = [w.forge.writes().length, w.server.pushes.length];
  assert.deepEqual((await w.propose()).map((r) => r.action), ['unchanged', 'unchanged']);
  assert.equal(w.forge.writes().length, writes);
  assert.equal(w.server.pushes.length, pushes);
});

test('a newer version updates the same pull request (title, body) and rewrites the branch', async () => {
  writeFiles(w.catalog, webVersion('1.2.0'));
  const before = w.forge.writes().length;
  assert.equal(byStack(await w.propose()).shop.action, 'updated');
  const sent = w.forge.writes().slice(before);
  assert.deepEqual(sent.map((q) => `${q.method} ${q.path}`), [`PATCH /repos/acme/env/pulls/${pull('shop')[0].number}`]);
  assert.deepEqual(Object.keys(sent[0].body as object).sort(), ['body', 'title']);
  assert.equal(pull('shop').length, 1);
  assert.equal(pull('shop')[0].title, 'Upgrade shop: web 1.0.0 → 1.2.0');
  assert.match(read(await w.clone('berth/upgrade/shop'), 'stacks/shop.yml'), /^version: 1\.2\.0 # pinned$/m);
});

test('the missing answer added on main: the draft is marked ready through GraphQL', async () => {
  w.server.commitFiles('env', { 'stacks/orders.yml': `${API_STACK}  admin_email: ops@example.com\n` }, { message: 'answer admin_email' });
  const before = w.forge.writes().length;
  assert.equal(byStack(await w.propose()).orders.action, 'updated');
  const sent = w.forge.writes().slice(before);
  assert.deepEqual(sent.map((q) => `${q.method} ${q.path}`), [`PATCH /repos/acme/env/pulls/${pull('orders')[0].number}`, 'POST /graphql']);
  const gql = sent[1].body as { query: string; variables: { id: string } };
  assert.match(gql.query, /markPullRequestReadyForReview/);
  assert.equal(gql.variables.id, pull('orders')[0].nodeId);
  assert.equal(pull('orders')[0].draft, false);
});

test('shop bumped by hand: comment, then close', async () => {
  w.server.commitFiles('env', { 'stacks/shop.yml': webStack('1.2.0', PORT) }, { message: 'shop by hand' });
  const before = w.forge.writes().length;
  assert.equal(byStack(await w.propose()).shop.action, 'closed');
  const number = pull('shop')[0].number;
  assert.deepEqual(w.forge.writes().slice(before).map((q) => `${q.method} ${q.path}`), [`POST /repos/acme/env/issues/${number}/comments`, `PATCH /repos/acme/env/pulls/${number}`]);
  assert.equal(pull('shop')[0].state, 'closed');
  assert.deepEqual(pull('shop')[0].comments, ['Berth closed this merge request: shop is already on 1.2.0 on main, upgraded another way.']);
});

test('a branch a person has committed to is never overwritten', async () => {
  const clone = await w.clone('berth/upgrade/orders');
  writeFileSync(path.join(clone, 'NOTES.md'), 'checked the migration\n');
  await w.git(['add', 'NOTES.md'], clone);
  await w.git(['commit', '--quiet', '-m', 'Notes'], clone);
  await w.git(['push', '--quiet', 'origin', 'HEAD'], clone);
  const head = w.server.revParse('env', 'refs/heads/berth/upgrade/orders');
  w.server.commitFiles('env', { 'stacks/orders.yml': `${API_STACK.replace('orders', 'orders-2')}  admin_email: ops@example.com\n` }, { message: 'rename' });
  const before = w.forge.writes().length;
  const result = byStack(await w.propose()).orders;
  assert.equal(result.action, 'skipped');
  assert.match(result.reason!, /has a commit by Operator <ops@example\.com>/);
  assert.equal(w.server.revParse('env', 'refs/heads/berth/upgrade/orders'), head);
  assert.equal(w.forge.writes().length, before);
});

test('listing follows GitHub pagination (Link rel="next") past 100 pull requests', async () => {
  for (let i = 0; i < 120; i++) {
    const number = w.forge.pulls.length + 1;
    w.forge.pulls.push({ number, nodeId: `PR_other${number}`, title: `other ${i}`, body: '', head: `feature/${i}`, base: 'main', state: 'open', draft: false, merged: false, comments: [] });
  }
  const forge = createGithubForge({ type: 'github', apiUrl: w.forge.url, project: 'acme/env', tokenEnv: 'X', branch: 'main' }, TOKEN);
  const from = w.forge.requests.length;
  const ours = await forge.listOpenMergeRequests('berth/upgrade/');
  assert.deepEqual(ours.map((m) => m.sourceBranch), ['berth/upgrade/orders']);
  assert.deepEqual(w.forge.requests.slice(from).map((q) => q.query.page ?? '1'), ['1', '2']);
});
