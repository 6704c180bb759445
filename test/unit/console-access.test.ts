// Who may do what: the roles, the users file (every mistake at its line), bcrypt verification, the escaping
// of every page interpolation, and the login's redirect target kept on this site.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import Fastify from 'fastify';
import { Access, may, writeMode } from '../../server/access.ts';
import { parseUsers, verify } from '../../console/users.ts';
import { html, jsonScript } from '../../console/html.ts';
import { safeNext } from '../../console/routes/auth.ts';
import { ValidationError } from '../../lib/errors.ts';

test('roles: a viewer reads, a proposer proposes, a deployer commits and rolls back, an admin does all', () => {
  assert.deepEqual(['viewer', 'proposer', 'deployer', 'admin'].map((r) => writeMode(r as never)), [undefined, 'propose', 'commit', 'commit']);
  assert.equal(may('proposer', 'deploy'), false);
  assert.equal(may('deployer', 'admin'), false);
  assert.equal(may('admin', 'admin'), true);
});

test('the guard answers 401 without a principal, 403 with a reason for a role that may not, and lets a token through', async () => {
  const access = new Access({ signIn: true, tokens: [{ token: 'tok-viewer-123', name: 'ci', role: 'viewer' }, { token: 'tok-deploy-456', name: 'bot', role: 'deployer' }] });
  const app = Fastify();
  app.post('/w', { preHandler: access.guard('deploy') }, async (req) => ({ who: req.principal?.name }));
  const call = (auth?: string) => app.inject({ method: 'POST', url: '/w', headers: auth ? { authorization: auth } : {} });
  assert.equal((await call()).statusCode, 401);
  assert.equal((await call('Bearer wrong-token-xyz')).statusCode, 401);
  const refused = await call('Bearer tok-viewer-123');
  assert.equal(refused.statusCode, 403);
  assert.match(refused.json().message, /ci has the role viewer, which may not deploy/);
  assert.deepEqual((await call('Bearer tok-deploy-456')).json(), { who: 'bot' });
});

test('without sign-in configured, reads stay open and writes are refused', async () => {
  const access = new Access({ signIn: false });
  const app = Fastify();
  app.get('/r', { preHandler: access.guard('read') }, async () => ({ ok: true }));
  app.post('/w', { preHandler: access.guard('propose') }, async () => ({ ok: true }));
  assert.equal((await app.inject({ url: '/r' })).statusCode, 200);
  assert.equal((await app.inject({ method: 'POST', url: '/w' })).statusCode, 403);
});

test('the users file: every mistake with its line, and a password checked against its bcrypt hash', async () => {
  const hash = bcrypt.hashSync('pw-for-alice', 4);
  const users = parseUsers(`users:\n  - name: alice\n    role: deployer\n    password_hash: "${hash}"\n`, 'users.yml');
  assert.equal((await verify(users, 'alice', 'pw-for-alice'))?.role, 'deployer');
  assert.equal(await verify(users, 'alice', 'wrong'), undefined);
  assert.equal(await verify(users, 'mallory', 'pw-for-alice'), undefined);
  assert.throws(() => parseUsers('users:\n  - name: bob\n    role: root\n    password_hash: x\n', 'users.yml'), (e: unknown) => {
    assert.ok(e instanceof ValidationError);
    assert.deepEqual(e.problems.map((p) => [p.line, p.field]), [[3, 'users[0].role']]);
    return true;
  });
});

test('pages escape every interpolation; JSON for scripts cannot close its element; login redirects stay on this site', () => {
  assert.equal(html`<p title="${'" onmouseover="x'}">${'<script>alert(1)</script>'}</p>`.text, '<p title="&quot; onmouseover=&quot;x">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  assert.ok(!jsonScript('d', { a: '</script><script>alert(1)</script>' }).text.includes('</script><script>'));
  assert.equal(safeNext('/stacks/web'), '/stacks/web');
  for (const bad of ['//evil.example/x', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)']) assert.equal(safeNext(bad), '/stacks');
});
