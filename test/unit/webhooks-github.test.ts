import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sign } from '@octokit/webhooks-methods';
import { serveWebhooks } from './webhooks-fixtures.ts';

const SECRET = 'gh-hook-secret-Zp81';
const WATCHED = { path: 'acme/env', branch: 'main' };
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

const serve = (opts: Parameters<typeof serveWebhooks>[1]) => serveWebhooks(WATCHED, opts);

/** The repository object as GitHub's push payload documents it (trimmed). */
const repository = {
  id: 186853002, name: 'env', full_name: 'acme/env', private: false, html_url: 'https://github.com/acme/env',
  git_url: 'git://github.com/acme/env.git', ssh_url: 'git@github.com:acme/env.git', clone_url: 'https://github.com/acme/env.git',
  svn_url: 'https://github.com/acme/env', default_branch: 'main',
};

function pushPayload(over: Record<string, unknown> = {}) {
  return {
    ref: 'refs/heads/main', before: '0000000000000000000000000000000000000000', after: SHA, created: false, deleted: false, forced: false,
    repository, pusher: { name: 'Codertocat', email: 'codertocat@example.com' }, head_commit: { id: SHA, message: 'bump web to 1.4' }, ...over,
  };
}

function prPayload(action: string, merged: boolean) {
  const pull_request = { number: 2, state: action === 'closed' ? 'closed' : 'open', merged, merge_commit_sha: SHA, base: { ref: 'main', sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e' }, head: { ref: 'changes' } };
  return { action, number: 2, pull_request, repository };
}

/** Signs `signed` (default: the body itself) the way GitHub does, with @octokit/webhooks-methods. */
async function post(base: string, body: string, opts: { event?: string; type?: string; signed?: string; secret?: string; signature?: string | null } = {}) {
  const signature = opts.signature === undefined ? await sign(opts.secret ?? SECRET, opts.signed ?? body) : opts.signature;
  const headers: Record<string, string> = { 'content-type': opts.type ?? 'application/json', 'x-github-event': opts.event ?? 'push', 'x-github-delivery': 'f2b3a1c0-0000-11ef-8000-000000000001' };
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return fetch(`${base}/hooks/github`, { method: 'POST', headers, body });
}

describe('POST /hooks/github', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  before(async () => (srv = await serve({ github: { secret: SECRET } })));
  after(async () => srv.close());
  beforeEach(() => (srv.calls.length = 0));

  it('accepts a push with a valid signature, with the trigger fields filled in', async () => {
    const res = await post(srv.base, JSON.stringify(pushPayload()));
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: true, deliveryId: 'f2b3a1c0-0000-11ef-8000-000000000001' });
    const t = srv.calls[0];
    assert.deepEqual({ kind: t.kind, forge: t.forge, repository: t.repository, repoUrl: t.repoUrl, ref: t.ref, branch: t.branch, after: t.after },
      { kind: 'push', forge: 'github', repository: 'acme/env', repoUrl: 'https://github.com/acme/env.git', ref: 'refs/heads/main', branch: 'main', after: SHA });
    for (const u of [repository.ssh_url, repository.html_url, repository.git_url]) assert.ok(t.repoUrls.includes(u), u);
  });

  const rejected: Array<[string, Parameters<typeof post>[2]]> = [
    ['a signature made with another secret', { secret: 'gh-hook-secret-Zp82' }],
    ['a signature over a different body', { signed: JSON.stringify(pushPayload({ ref: 'refs/heads/other' })) }],
    ['a malformed signature', { signature: 'sha256=nothex' }],
    ['no signature', { signature: null }],
  ];
  for (const [name, opts] of rejected) {
    it(`answers 401 to ${name} and hands nothing on`, async () => {
      const res = await post(srv.base, JSON.stringify(pushPayload()), opts);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).code, 'WEBHOOK_UNAUTHORIZED');
      assert.equal(srv.calls.length, 0);
    });
  }

  it('answers 400 to malformed JSON carrying a valid signature', async () => {
    const res = await post(srv.base, '{"ref": refs/heads/main}');
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.code, 'WEBHOOK_PAYLOAD_INVALID');
    assert.match(body.message, /^the body is not valid JSON: /);
    assert.equal(srv.calls.length, 0);
  });

  const ignored: Array<[string, unknown, string, RegExp]> = [
    ['a ping', { zen: 'Keep it logically awesome.', hook_id: 1, repository }, 'ping', /^ping$/],
    ['a branch deletion', pushPayload({ after: '0'.repeat(40), deleted: true }), 'push', /^branch main was deleted$/],
    ['a tag push', pushPayload({ ref: 'refs/tags/v1.0.0' }), 'push', /^tag push refs\/tags\/v1\.0\.0 does not deploy$/],
    ['a pull request being opened', prPayload('opened', false), 'pull_request', /^pull request action "opened" does not deploy/],
    ['a pull request closed unmerged', prPayload('closed', false), 'pull_request', /^pull request action "closed" without merge/],
    ['an issues event', { action: 'opened', issue: {}, repository }, 'issues', /GitHub event "issues" is not one Berth acts on/],
    ['another repository', pushPayload({ repository: { ...repository, full_name: 'acme/other', clone_url: 'https://github.com/acme/other.git', html_url: 'https://github.com/acme/other', ssh_url: 'git@github.com:acme/other.git', git_url: 'git://github.com/acme/other.git', svn_url: 'https://github.com/acme/other' } }), 'push', /^repository acme\/other is not watched \(watching acme\/env\)$/],
  ];
  for (const [name, payload, event, reason] of ignored) {
    it(`answers 202 ignored to ${name}, with the reason logged`, async () => {
      const res = await post(srv.base, JSON.stringify(payload), { event });
      assert.equal(res.status, 202);
      const body = await res.json();
      assert.match(body.ignored, reason);
      assert.ok(srv.logs().includes(JSON.stringify(body.ignored).slice(1, -1)), 'the reason is logged');
    });
  }

  it('turns a merged pull request into a merge trigger on the base branch', async () => {
    const res = await post(srv.base, JSON.stringify(prPayload('closed', true)), { event: 'pull_request' });
    assert.equal(res.status, 202);
    assert.equal((await res.json()).accepted, true);
    const t = srv.calls[0];
    assert.deepEqual([t.kind, t.branch, t.ref, t.after, t.repository], ['merge', 'main', 'refs/heads/main', SHA, 'acme/env']);
  });

  it('accepts a form-encoded delivery, verified over the raw form body', async () => {
    const form = `payload=${encodeURIComponent(JSON.stringify(pushPayload()))}`;
    const res = await post(srv.base, form, { type: 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 202);
    assert.equal(srv.calls[0]?.after, SHA);
    const overJson = await post(srv.base, form, { type: 'application/x-www-form-urlencoded', signed: JSON.stringify(pushPayload()) });
    assert.equal(overJson.status, 401, 'a signature over the decoded JSON is not the one GitHub sends');
    const noField = await post(srv.base, 'other=1', { type: 'application/x-www-form-urlencoded' });
    assert.equal(noField.status, 400);
    assert.match((await noField.json()).message, /no payload field/);
  });

  it('never logs the secret, the signature or the payload', async () => {
    const body = JSON.stringify(pushPayload());
    const signature = await sign(SECRET, body);
    await post(srv.base, body);
    const logs = srv.logs();
    assert.ok(logs.includes('acme/env') && logs.includes('refs/heads/main'), 'repository and ref are logged');
    for (const s of [SECRET, signature.slice(7), 'bump web to 1.4', 'codertocat@example.com']) assert.ok(!logs.includes(s), s);
  });

  it('answers 404 on /hooks/gitlab when no GitLab secret is configured', async () => {
    const res = await fetch(`${srv.base}/hooks/gitlab`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-token': 'x' }, body: '{}' });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).code, 'WEBHOOK_NOT_CONFIGURED');
  });
});
