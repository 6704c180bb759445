import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { serveWebhooks } from './webhooks-fixtures.ts';

const SECRET = 'gl-hook-secret-7Qx2';
const MIB = 1024 * 1024;
const WATCHED = { url: 'https://example.com/mike/diaspora.git', branch: 'master' };

const serve = (opts: Parameters<typeof serveWebhooks>[1]) => serveWebhooks(WATCHED, opts);

/** Shaped like the Push Hook example in GitLab's webhook events documentation. */
function pushPayload(over: Record<string, unknown> = {}) {
  const project = {
    id: 15, name: 'Diaspora', web_url: 'http://example.com/mike/diaspora', git_ssh_url: 'git@example.com:mike/diaspora.git',
    git_http_url: 'http://example.com/mike/diaspora.git', namespace: 'Mike', path_with_namespace: 'mike/diaspora', default_branch: 'master',
    homepage: 'http://example.com/mike/diaspora', url: 'git@example.com:mike/diaspora.git', ssh_url: 'git@example.com:mike/diaspora.git',
    http_url: 'http://example.com/mike/diaspora.git',
  };
  return {
    object_kind: 'push', event_name: 'push', before: '95790bf891e76fee5e1747ab589903a6a1f80f22', after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
    ref: 'refs/heads/master', checkout_sha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', user_name: 'John Smith', project_id: 15, project,
    commits: [{ id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7', message: 'fixed readme', author: { name: 'GitLab dev user' } }],
    total_commits_count: 1, ...over,
  };
}

function mergePayload(action: string) {
  const { project } = pushPayload();
  return {
    object_kind: 'merge_request', event_type: 'merge_request', project,
    object_attributes: { iid: 1, target_branch: 'master', source_branch: 'ms-viewport', state: action === 'merge' ? 'merged' : 'opened', action, merge_commit_sha: action === 'merge' ? 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678' : null },
  };
}

/** The headers GitLab sends; an `undefined` in `headers` leaves that one out. */
function post(base: string, body: string, headers: Record<string, string | undefined> = {}) {
  const all = { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'evt-uuid-1', ...headers };
  const sent = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
  return fetch(`${base}/hooks/gitlab`, { method: 'POST', headers: sent, body });
}

/** The same project under another path: every URL form changes with it. */
function otherProject() {
  const p = JSON.stringify(pushPayload().project).replaceAll('mike/diaspora', 'acme/other');
  return JSON.parse(p) as Record<string, unknown>;
}

describe('POST /hooks/gitlab', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  before(async () => (srv = await serve({ gitlab: { secret: SECRET } })));
  after(async () => srv.close());
  beforeEach(() => (srv.calls.length = 0));

  it('accepts a documented push with the trigger fields filled in', async () => {
    const res = await post(srv.base, JSON.stringify(pushPayload()));
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: true, deliveryId: 'evt-uuid-1' });
    assert.equal(srv.calls.length, 1);
    const t = srv.calls[0];
    assert.deepEqual({ kind: t.kind, forge: t.forge, repository: t.repository, repoPath: t.repoPath, repoUrl: t.repoUrl, ref: t.ref, branch: t.branch, after: t.after },
      { kind: 'push', forge: 'gitlab', repository: 'mike/diaspora', repoPath: 'mike/diaspora', repoUrl: 'http://example.com/mike/diaspora.git', ref: 'refs/heads/master', branch: 'master', after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7' });
    assert.ok(t.repoUrls.includes('git@example.com:mike/diaspora.git') && t.repoUrls.includes('http://example.com/mike/diaspora'));
    assert.ok(Math.abs(Date.parse(t.receivedAt) - Date.now()) < 60_000);
  });

  it('prefers Idempotency-Key, which stays the same across retries', async () => {
    const res = await post(srv.base, JSON.stringify(pushPayload()), { 'idempotency-key': 'idem-42' });
    assert.equal((await res.json()).deliveryId, 'idem-42');
  });

  for (const [name, headers] of [['a wrong token', { 'x-gitlab-token': 'gl-hook-secret-7Qx3' }], ['no token', { 'x-gitlab-token': undefined }]] as const) {
    it(`answers 401 to ${name} and hands nothing on`, async () => {
      const res = await post(srv.base, JSON.stringify(pushPayload()), headers);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).code, 'WEBHOOK_UNAUTHORIZED');
      assert.equal(srv.calls.length, 0);
    });
  }

  it('answers 413 past 1 MiB without calling accept, and takes exactly 1 MiB', async () => {
    const res = await post(srv.base, ' '.repeat(MIB + 1));
    assert.equal(res.status, 413);
    assert.equal((await res.json()).code, 'WEBHOOK_BODY_TOO_LARGE');
    assert.equal(srv.calls.length, 0);
    // Chunked, without a Content-Length to check up front: the limit must hold while streaming too.
    const chunks = [Buffer.alloc(MIB / 2, 0x20), Buffer.alloc(MIB / 2, 0x20), Buffer.from(' ')];
    const stream = new ReadableStream({ pull: (c) => (chunks.length ? c.enqueue(chunks.shift()) : c.close()) });
    const chunked = await fetch(`${srv.base}/hooks/gitlab`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' }, body: stream, duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.equal(srv.calls.length, 0);
    const json = JSON.stringify(pushPayload());
    const ok = await post(srv.base, json.padEnd(MIB, ' '));
    assert.equal(ok.status, 202);
  });

  it('answers 400 naming the parse error when the token is right but the JSON is not', async () => {
    const res = await post(srv.base, '{"object_kind": "push",');
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.code, 'WEBHOOK_PAYLOAD_INVALID');
    assert.match(body.message, /not valid JSON: .*JSON/);
    assert.equal(srv.calls.length, 0);
  });

  it('answers 400 naming the field a push lacks', async () => {
    const res = await post(srv.base, JSON.stringify({ ...pushPayload(), project: undefined }));
    assert.equal(res.status, 400);
    assert.match((await res.json()).message, /project is missing/);
  });

  const ignored: Array<[string, unknown, Record<string, string>, RegExp]> = [
    ['a tag push', { ...pushPayload({ object_kind: 'tag_push', ref: 'refs/tags/v1.0.0' }) }, { 'x-gitlab-event': 'Tag Push Hook' }, /^tag push refs\/tags\/v1\.0\.0 does not deploy$/],
    ['a branch deletion', pushPayload({ after: '0'.repeat(40), checkout_sha: null }), {}, /^branch master was deleted$/],
    ['a merge request being opened', mergePayload('open'), { 'x-gitlab-event': 'Merge Request Hook' }, /^merge request action "open" does not deploy/],
    ['an issue event', { object_kind: 'issue' }, { 'x-gitlab-event': 'Issue Hook' }, /GitLab event "Issue Hook" is not one Berth acts on/],
    ['another repository', pushPayload({ project: otherProject() }), {}, /^repository acme\/other is not watched \(watching https:\/\/example\.com\/mike\/diaspora\.git\)$/],
    ['another branch', pushPayload({ ref: 'refs/heads/feature' }), {}, /^branch feature is not watched \(watching master\)$/],
  ];
  for (const [name, payload, headers, reason] of ignored) {
    it(`answers 202 ignored to ${name}, with the reason logged`, async () => {
      const res = await post(srv.base, JSON.stringify(payload), headers);
      assert.equal(res.status, 202);
      const body = await res.json();
      assert.match(body.ignored, reason);
      assert.equal(body.accepted, undefined);
      assert.ok(srv.logs().includes(JSON.stringify(body.ignored).slice(1, -1)), 'the reason is logged');
    });
  }

  it('turns a merged merge request into a merge trigger on the target branch', async () => {
    const res = await post(srv.base, JSON.stringify(mergePayload('merge')), { 'x-gitlab-event': 'Merge Request Hook' });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: true, deliveryId: 'evt-uuid-1' });
    const t = srv.calls[0];
    assert.deepEqual([t.kind, t.branch, t.ref, t.after], ['merge', 'master', 'refs/heads/master', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678']);
  });

  it('answers 415 to a body that is not JSON, before looking at the token', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await post(srv.base, 'payload=%7B%7D', { 'content-type': type, 'x-gitlab-token': 'wrong' });
      assert.equal(res.status, 415, type);
      assert.equal((await res.json()).code, 'WEBHOOK_UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('never logs the token or the payload', async () => {
    await post(srv.base, JSON.stringify(pushPayload()));
    await post(srv.base, JSON.stringify(pushPayload()), { 'x-gitlab-token': 'a-wrong-token-value' });
    const logs = srv.logs();
    assert.ok(logs.includes('mike/diaspora'), 'the repository is logged');
    for (const secret of [SECRET, 'a-wrong-token-value', 'fixed readme', 'John Smith']) assert.ok(!logs.includes(secret), secret);
  });

  it('answers 404 on /hooks/github when no GitHub secret is configured, and logs it', async () => {
    const res = await fetch(`${srv.base}/hooks/github`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 404);
    assert.match((await res.json()).message, /webhook not configured/);
    assert.match(srv.logs(), /no github webhook secret is configured/);
  });
});
