// berth.yml's forge: block, checked with the rest of the environment (every problem at once, with its line),
// and the forge registry: a missing token is a clear error that names the variable, never a value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadEnvironment } from '../../environment/environment.ts';
import { formatProblem, UserError, ValidationError } from '../../lib/errors.ts';
import { createForge } from '../../upgrades/forge.ts';
import { defaultRemote } from '../../upgrades/propose.ts';
import { writeFiles } from './upgrades-fixtures.ts';

function env(berthYml: string): string {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-forge-cfg-'));
  writeFiles(root, { 'berth.yml': berthYml });
  return root;
}

async function problems(berthYml: string): Promise<string[]> {
  const err = await loadEnvironment(env(berthYml)).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ValidationError, String(err));
  return err.problems.map(formatProblem);
}

test('forge: defaults for api_url and branch; a GitLab project may be a numeric id', async () => {
  const gl = await loadEnvironment(env('forge:\n  type: gitlab\n  project: ops/env\n  token_env: GITLAB_TOKEN\n'));
  assert.deepEqual(gl.forge, { type: 'gitlab', apiUrl: 'https://gitlab.com', project: 'ops/env', tokenEnv: 'GITLAB_TOKEN', branch: 'main' });
  const id = await loadEnvironment(env('forge: { type: gitlab, project: 42, token_env: T, api_url: "https://git.example.com/api/v4/", branch: prod }\n'));
  assert.deepEqual(id.forge, { type: 'gitlab', apiUrl: 'https://git.example.com', project: '42', tokenEnv: 'T', branch: 'prod' });
  const gh = await loadEnvironment(env('forge: { type: github, project: acme/env, token_env: GH_TOKEN }\n'));
  assert.equal(gh.forge?.apiUrl, 'https://api.github.com');
  assert.equal((await loadEnvironment(env('catalogs:\n  - { name: b, builtin: true }\n'))).forge, undefined, 'no forge: no proposals');
});

test('forge: every mistake reported with its line', async () => {
  const found = await problems('forge:\n  type: bitbucket\n  project: nope\n  token: abc123\n  api_url: ftp://x\n');
  assert.deepEqual(found, [
    'berth.yml:4: forge.token: tokens never go in berth.yml; put it in an environment variable and name that variable with token_env:',
    'berth.yml:2: forge.type: "bitbucket" is not a forge Berth can open merge requests on; use gitlab, github, or local (upgrade branches in the environment repository itself)',
    'berth.yml:2: forge.token_env: is required; add "token_env: ..."',
    'berth.yml:5: forge.api_url: must be an http:// or https:// URL',
  ]);
  assert.deepEqual(await problems('forge: { type: github, project: just-a-name, token_env: "1X" }\n'), [
    'berth.yml:1: forge.project: "just-a-name" is not a GitHub repository; write owner/repo',
    'berth.yml:1: forge.token_env: "1X" is not an environment variable name',
  ]);
  assert.deepEqual(await problems('forge: [gitlab]\n'), ['berth.yml:1: forge: must be a map with type:, project: and token_env:, got a list']);
});

test('createForge: a missing token names its variable', () => {
  const config = { type: 'gitlab' as const, apiUrl: 'https://gitlab.com', project: 'ops/env', tokenEnv: 'NOPE_TOKEN', branch: 'main' };
  assert.throws(() => createForge(config, {}), (e: unknown) => e instanceof UserError && e.code === 'FORGE_TOKEN_MISSING' && e.message.includes('NOPE_TOKEN'));
  assert.equal(createForge(config, { NOPE_TOKEN: 't' }).type, 'gitlab');
  assert.equal(createForge({ ...config, type: 'github', project: 'a/b' }, { NOPE_TOKEN: 't' }).type, 'github');
});

test('defaultRemote: the forge\'s HTTPS clone URL with the user each forge expects', () => {
  const gl = { type: 'gitlab' as const, apiUrl: 'https://git.example.com', project: 'ops/env', tokenEnv: 'T', branch: 'main' };
  assert.deepEqual(defaultRemote(gl, 'tok'), { url: 'https://git.example.com/ops/env.git', token: 'tok', username: 'oauth2' });
  assert.deepEqual(defaultRemote({ ...gl, type: 'github', apiUrl: 'https://api.github.com', project: 'a/b' }, 'tok'), { url: 'https://github.com/a/b.git', token: 'tok', username: 'x-access-token' });
  assert.equal(defaultRemote({ ...gl, type: 'github', apiUrl: 'https://ghe.example.com/api/v3', project: 'a/b' }, undefined).url, 'https://ghe.example.com/a/b.git');
  assert.throws(() => defaultRemote({ ...gl, project: '42' }, 'tok'), (e: unknown) => e instanceof UserError && e.code === 'FORGE_REMOTE_UNKNOWN');
  assert.equal(defaultRemote({ ...gl, project: '42' }, 'tok', 'http://x/y.git').url, 'http://x/y.git');
});

test('forge: type local needs no project or token, and keys a remote forge needs are mistakes there', async () => {
  const local = await loadEnvironment(env('forge: { type: local, branch: site }\n'));
  assert.deepEqual(local.forge, { type: 'local', apiUrl: '', project: '', tokenEnv: '', branch: 'site' });
  assert.equal(createForge(local.forge!, {}, { repoDir: local.root }).type, 'local', 'no token is asked for');
  assert.deepEqual(await problems('forge:\n  type: local\n  token_env: T\n'), ['berth.yml:3: forge.token_env: is not a known key; remove it; the keys allowed here are type, branch']);
});
