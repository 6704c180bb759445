// A catalog written to attack, used the way an operator uses Berth: `berth apply`, `berth serve` (its /api and its
// log) and the upgrade merge-request proposer (against the fake GitLab), with the environment on the harness git
// server and real containers on h1. The catalog links to /proc/self/environ and to the age key file, names
// `../` and absolute paths, carries an alias bomb, a file over the size limit and Handlebars prototype access.
// Each attack fails only its own stack, with an error naming the file; two honest stacks — one with encrypted
// answers holding `$` and a multi-line key — deploy. Nothing of the process environment, of the key or of a
// secret answer appears in clear on any channel: CLI output, /api/stacks, /api/environment, the log, the
// containers' labels, the ledger's commits and tree, the merge request texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { startFakeForge, type FakeForge } from '../harness/fake-forge.ts';
import { dockerGate, tempDir, waitFor } from '../harness/env.ts';
import { runBerth, useHarnessStacks } from './converge-fixtures.ts';
import { Serve } from './serve-fixtures.ts';
import { encryptAnswerInFile, generateKey } from '../../lib/secrets.ts';
import { secretForms } from '../../lib/mask.ts';
import type { StackState } from '../../controller/stack-state.ts';
import { aliasBomb } from '../unit/hostile-fixtures.ts';

const gate = await dockerGate();
const TOKEN = 'hostile-t0ken-41d2';
const TOKEN_ENV = 'HOSTILE_FORGE_TOKEN';
/** In the process environment of every Berth this test runs, so /proc/self/environ holds it. */
const CANARY = 'environ-canary-6c1f0e9b';
const PW = 'pa$word-7f3e$$x "q"';
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ\n-----END OPENSSH PRIVATE KEY-----';
const STACKS = { good: 'hx-good', vault: 'hx-vault', environ: 'hx-environ', keylink: 'hx-keylink', paths: 'hx-paths', bomb: 'hx-bomb', huge: 'hx-huge', proto: 'hx-proto', port: 'hx-port' };

const tmp = tempDir('berth-hostile-');
let git: GitServer | undefined;
let forge: FakeForge | undefined;
let serve: Serve | undefined;
useHarnessStacks(gate, Object.values(STACKS), async () => {
  await serve?.stop();
  await forge?.close();
  await git?.close();
  tmp.remove();
});

const SLEEPER = 'services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "3600"]\n    stop_grace_period: 1s\n';
const VAULT = (tag: string) => `services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "3600"]\n    stop_grace_period: 1s\n    environment:\n      PW: {{pw}}\n      KEY: {{key}}\n      TAG: "${tag}"\n    labels:\n      tag: "${tag}"\n`;
const meta = (version: string, questions: unknown[] = []) => stringify({ version, description: `v${version}`, questions });

/** The catalog on disk: every file the test needs, and the symlinks a repository could carry. */
function writeCatalog(root: string, keyFile: string): void {
  const files: Record<string, string> = {
    'templates/good/config.yml': 'name: good\ndescription: honest\n',
    'templates/good/1.0.0/berth.yml': meta('1.0.0'),
    'templates/good/1.0.0/docker-compose.yml.hbs': SLEEPER,
    'templates/vault/config.yml': 'name: vault\ndescription: secrets\n',
    'templates/vault/1.0.0/berth.yml': meta('1.0.0', [{ variable: 'pw', type: 'password', required: true }, { variable: 'key', type: 'secret', required: true }]),
    'templates/vault/1.0.0/docker-compose.yml.hbs': VAULT('one'),
    'templates/vault/1.1.0/berth.yml': meta('1.1.0', [{ variable: 'pw', type: 'password', required: true }, { variable: 'key', type: 'secret', required: true }]),
    'templates/vault/1.1.0/docker-compose.yml.hbs': VAULT('two'),
    'templates/environ/config.yml': 'name: environ\ndescription: reads the process environment\n',
    'templates/environ/1.0.0/berth.yml': meta('1.0.0'),
    'templates/keylink/config.yml': 'name: keylink\ndescription: a README that is the key\n',
    'templates/keylink/1.0.0/berth.yml': meta('1.0.0'),
    'templates/keylink/1.0.0/docker-compose.yml.hbs': SLEEPER,
    'templates/paths/config.yml': 'name: paths\ndescription: files outside\n',
    'templates/paths/1.0.0/berth.yml': meta('1.0.0'),
    'templates/paths/1.0.0/docker-compose.yml.hbs': `${SLEEPER}    env_file: ../../age.key\n    configs: [c]\n    secrets: [s]\nconfigs:\n  c:\n    file: ../../../../../../etc/passwd\nsecrets:\n  s:\n    file: /proc/self/environ\n`,
    'templates/bomb/config.yml': 'name: bomb\ndescription: alias bomb\n',
    'templates/bomb/1.0.0/berth.yml': `version: 1.0.0\ndescription: bomb\n${aliasBomb()}`,
    'templates/bomb/1.0.0/docker-compose.yml.hbs': SLEEPER,
    'templates/huge/config.yml': 'name: huge\ndescription: too large\n',
    'templates/huge/1.0.0/berth.yml': meta('1.0.0'),
    'templates/huge/1.0.0/docker-compose.yml.hbs': `${SLEEPER}# ${'x'.repeat(1100 * 1024)}\n`,
    'templates/port/config.yml': 'name: port\ndescription: an int question\n',
    'templates/port/1.0.0/berth.yml': meta('1.0.0', [{ variable: 'port', type: 'int', required: true }]),
    'templates/port/1.0.0/docker-compose.yml.hbs': `${SLEEPER}    environment:\n      PORT: "{{port}}"\n`,
    'templates/proto/config.yml': 'name: proto\ndescription: prototype access\n',
    'templates/proto/1.0.0/berth.yml': meta('1.0.0'),
    'templates/proto/1.0.0/docker-compose.yml.hbs': `${SLEEPER}    environment:\n      A: "{{constructor.constructor}}"\n      B: "{{lookup (lookup this "__proto__") "polluted"}}"\n`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  symlinkSync('/proc/self/environ', path.join(root, 'templates/environ/1.0.0/docker-compose.yml.hbs'));
  symlinkSync(keyFile, path.join(root, 'templates/keylink/1.0.0/README.md'));
}

function gitCli(args: string[], cwd?: string): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: tmp.path, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'o', GIT_AUTHOR_EMAIL: 'o@x', GIT_COMMITTER_NAME: 'o', GIT_COMMITTER_EMAIL: 'o@x' };
  return promisify(execFile)('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout);
}

/** Every text that must not appear: the environ canary, the age key, and each form of each secret answer. */
function leaks(text: string, identity: string): string[] {
  const forms = [CANARY, identity, 'AGE-SECRET-KEY-', ...secretForms([PW, KEY])];
  return forms.filter((f) => text.includes(f));
}

test('a hostile catalog through apply, serve and the upgrade proposer: each attack refused naming its file, nothing leaked', gate.opts, async () => {
  const key = await generateKey();
  const keyFile = path.join(tmp.path, 'age.key');
  writeFileSync(keyFile, `${key.identity}\n`, { mode: 0o600 });
  const catalog = path.join(tmp.path, 'catalog');
  writeCatalog(catalog, keyFile);

  git = await startGitServer({ root: path.join(tmp.path, 'git'), token: TOKEN });
  forge = await startFakeForge({ token: TOKEN, gitlab: { project: 'ops/env', id: 7 }, branchExists: (b) => git!.revParse('env', `refs/heads/${b}`) !== undefined });
  git.createBareRepo('env');
  const berth = {
    catalogs: [{ name: 'evil', path: catalog }],
    hosts: [{ name: 'h1', endpoint: gate.host('h1').dockerHost }],
    forge: { type: 'gitlab', api_url: forge.url, project: 'ops/env', token_env: TOKEN_ENV },
  };
  const stack = (template: string) => stringify({ template, version: '1.0.0' });
  let vault = stringify({ template: 'vault', version: '1.0.0', answers: { pw: 'x', key: 'x' } });
  vault = await encryptAnswerInFile(vault, 'pw', PW, [key.recipient]);
  vault = await encryptAnswerInFile(vault, 'key', KEY, [key.recipient]);
  // An encrypted answer that fails its question's check: described, never shown.
  const port = await encryptAnswerInFile(stringify({ template: 'port', version: '1.0.0', answers: { port: 'x' } }), 'port', PW, [key.recipient]);
  git.commitFiles('env', {
    'berth.yml': stringify(berth), 'stacks/hx-vault.yml': vault, 'stacks/hx-port.yml': port,
    ...Object.fromEntries(Object.entries(STACKS).filter(([t]) => t !== 'vault' && t !== 'port').map(([t, s]) => [`stacks/${s}.yml`, stack(t)])),
  }, { message: 'environment' });
  const runEnv = { BERTH_TEST_CANARY: CANARY, BERTH_AGE_KEY_FILE: keyFile, [TOKEN_ENV]: TOKEN };

  // Where each attack must be named, and how.
  const expected: Record<string, RegExp> = {
    [STACKS.environ]: /templates\/environ\/1\.0\.0\/docker-compose\.yml\.hbs: is a symlink to a place outside the catalog folder/,
    [STACKS.keylink]: /templates\/keylink\/1\.0\.0\/README\.md: is a symlink to a place outside the catalog folder/,
    [STACKS.paths]: /\.\.\/\.\.\/age\.key[^\n]*leaves the environment folder[\s\S]*\/proc\/self\/environ: is an absolute path outside the environment folder|\/proc\/self\/environ: is an absolute path outside the environment folder[\s\S]*age\.key/,
    [STACKS.bomb]: /templates\/bomb\/1\.0\.0\/berth\.yml:\d+: .*(alias bomb|expands to more than)/,
    [STACKS.huge]: /templates\/huge\/1\.0\.0\/docker-compose\.yml\.hbs: is larger than the limit of 1 MiB/,
    [STACKS.proto]: /templates\/proto\/1\.0\.0\/docker-compose\.yml\.hbs:\d+/,
    [STACKS.port]: /port: must be an integer, got a value of \d+ characters/,
  };

  // 1. berth apply on a clone of the environment.
  const clone = path.join(tmp.path, 'env');
  await gitCli(['clone', '--quiet', git.authedUrl('env'), clone]);
  const apply = await runBerth(['apply', '--env', clone], { env: runEnv, timeoutMs: 180_000 });
  const applied = `${apply.stdout}\n${apply.stderr}`;
  assert.notEqual(apply.code, 0, 'apply says that stacks failed');
  for (const [s, re] of Object.entries(expected)) assert.match(applied, re, `apply names the file for ${s}:\n${applied}`);
  assert.deepEqual(leaks(applied, key.identity), [], 'nothing leaks into apply\'s output');
  const running = async (s: string) => (await gate.docker('h1').listContainers({ filters: JSON.stringify({ label: [`berth.stack=${s}`] }) })).length;
  assert.equal(await running(STACKS.good), 1, `the honest stack deployed:\n${applied}`);
  assert.equal(await running(STACKS.vault), 1, `the stack with secrets deployed:\n${applied}`);

  // 2. berth serve on the repository, the catalog now a url: repository on the git server: git carries the
  //    symlinks, and isomorphic-git checks them out as symlinks.
  git.createBareRepo('catalog');
  await gitCli(['init', '--quiet', '--initial-branch', 'main'], catalog);
  await gitCli(['add', '-A'], catalog);
  await gitCli(['commit', '--quiet', '-m', 'a hostile catalog'], catalog);
  await gitCli(['push', '--quiet', git.authedUrl('catalog'), 'main'], catalog);
  assert.match(await gitCli(['ls-tree', 'HEAD', 'templates/environ/1.0.0/'], catalog), /^120000 /m, 'the symlink is committed as one');
  git.commitFiles('env', { 'berth.yml': stringify({ ...berth, catalogs: [{ name: 'evil', url: git.repoUrl('catalog') }] }) }, { message: 'the catalog from its repository' });
  serve = await Serve.start([
    'serve', '--env', git.repoUrl('env'), '--env-token-env', TOKEN_ENV, '--listen', '127.0.0.1:0',
    '--interval-seconds', '3600', '--cache-dir', path.join(tmp.path, 'cache'), '--deadline', '2m',
  ], runEnv);
  const states = await waitFor(async () => {
    const all = await serve!.json<StackState[]>('/api/stacks');
    const by = Object.fromEntries(all.map((s) => [s.stack, s]));
    return Object.values(STACKS).every((s) => by[s]?.lastReconcile) && by;
  }, { timeoutMs: 120_000, what: 'every stack reconciled once by serve' });
  assert.equal(states[STACKS.good].status, 'Ready');
  assert.equal(states[STACKS.vault].status, 'Ready', states[STACKS.vault].lastError ?? '');
  for (const [s, re] of Object.entries(expected)) {
    assert.notEqual(states[s].status, 'Ready', s);
    assert.match(states[s].lastError ?? '', re, `/api/stacks names the file for ${s}`);
  }
  if (process.env.BERTH_TEST_VERBOSE) for (const s of Object.values(STACKS)) process.stderr.write(`${s}: ${states[s].status} ${states[s].lastError}\n`);
  const environment = await serve.json<{ catalogs: Record<string, string> }>('/api/environment');
  assert.equal(environment.catalogs.evil, git.revParse('catalog', 'refs/heads/main'), 'serve used the url: catalog');
  const api = JSON.stringify(await serve.json('/api/stacks')) + JSON.stringify(environment);
  assert.deepEqual(leaks(api, key.identity), [], 'nothing leaks into /api');
  assert.deepEqual(leaks(JSON.stringify(serve.logs), key.identity), [], 'nothing leaks into serve\'s log');

  // 3. The containers of the stack with secrets: their values reach the container, never Berth's labels.
  const [c] = await gate.docker('h1').listContainers({ filters: JSON.stringify({ label: [`berth.stack=${STACKS.vault}`] }) });
  const inspect = await gate.docker('h1').getContainer(c.Id).inspect();
  assert.ok(inspect.Config.Env.includes(`PW=${PW}`), 'the secret reached the container it is for');
  assert.ok(leaks(JSON.stringify(inspect.Config.Env), key.identity).length > 0, 'the leak check finds a secret where one is');
  assert.ok(Object.keys(inspect.Config.Labels).some((k) => k === 'berth.config'), 'Berth labelled the container');
  assert.deepEqual(leaks(JSON.stringify(inspect.Config.Labels), key.identity), [], 'no secret in any label (berth.config, berth.config-hash, …)');

  // 4. The ledger on the server: commit messages, trailers and every file of every commit.
  const bare = path.join(git.root, 'env.git');
  const log = await gitCli(['--git-dir', bare, 'log', '--format=%B', 'berth/deployed']);
  assert.match(log, new RegExp(`Berth-Stack: ${STACKS.vault}`));
  const tree = await gitCli(['--git-dir', bare, 'log', '-p', '--format=%H', 'berth/deployed']);
  assert.match(tree, /PW: \$\{BERTH_SECRET_pw\}/, 'the ledger holds a placeholder for the secret');
  assert.deepEqual(leaks(`${log}\n${tree}`, key.identity), [], 'no secret, key or environment in the ledger');

  // 5. The upgrade proposer: vault 1.0.0 → 1.1.0 opens a merge request whose diff touches the secret lines; the
  //    broken templates' stacks fail to propose, naming their file, and nothing leaks into what the forge got.
  const upgrades = await runBerth(['upgrades', '--open', '--json', '--env', clone, '--remote', git.repoUrl('env'), '--cache-dir', path.join(tmp.path, 'upgrades-cache')], { env: runEnv });
  const proposed = `${upgrades.stdout}\n${upgrades.stderr}`;
  if (process.env.BERTH_TEST_VERBOSE) process.stderr.write(`${applied}\n${proposed}\n`);
  const mr = forge.mergeRequests.find((m) => m.sourceBranch === `berth/upgrade/${STACKS.vault}`);
  assert.ok(mr, `a merge request for the vault stack:\n${proposed}`);
  assert.match(mr.description, /TAG: two/);
  assert.match(mr.description, /\*{6}/, 'the secrets are shown masked');
  if (process.env.BERTH_TEST_VERBOSE) process.stderr.write(`${mr.description}\n`);
  assert.deepEqual(leaks(JSON.stringify(forge.requests) + proposed, key.identity), [], 'nothing leaks to the forge or the CLI');
});
