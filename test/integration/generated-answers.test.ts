// Generated answers of stacks already in the environment: one commit writes each missing one encrypted for
// .berth-recipients — pushed to the repository serve pulls from (real git smart-HTTP server), or made in place in a
// local work tree with its index, which stays clean — and never again once written. `berth secret generate` does
// it into a work tree for a person to commit. No value reaches a commit message or the output in clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs, { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import git from 'isomorphic-git';
import { loadEnvironment } from '../../environment/environment.ts';
import { syncRepo } from '../../lib/git/index.ts';
import { decryptValue, generateKey, isEncrypted } from '../../lib/secrets.ts';
import { Controller } from '../../controller/loop.ts';
import type { DeployFn } from '../../controller/deploy.ts';
import { createLogger } from '../../lib/log.ts';
import { waitFor } from '../harness/env.ts';
import { fillGeneratedAnswers } from '../../upgrades/generated.ts';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { writeSafeCatalog } from '../unit/safe-upgrade-fixtures.ts';
import { runBerth } from './converge-fixtures.ts';

const TOKEN = 'gen-token-51a';
let tmp: string;
let catalog: string;
let server: GitServer;
let key: { identity: string; recipient: string };

const berthYml = () => `catalogs:\n  - { name: main, path: ${catalog} }\nhosts:\n  - { name: h1, endpoint: "unix:///run/berth-test/h1.sock" }\n`;
const STACK = '# billing database\ntemplate: safe\nversion: 2.0.0\nanswers:\n  database_user: billing # schema owner\n  port: 18990\n';

function armored(text: string): string {
  return /database_password: !age \|\n((?: {4}.*\n)+)/.exec(text)![1].replace(/^ {4}/gm, '');
}

before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'berth-generated-'));
  catalog = writeSafeCatalog(path.join(tmp, 'catalog'));
  key = await generateKey();
  server = await startGitServer({ root: path.join(tmp, 'server'), token: TOKEN });
});
after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a remote environment: one commit on main with the password encrypted, pushed; nothing the second time', async () => {
  server.createBareRepo('env');
  server.commitFiles('env', { 'berth.yml': berthYml(), '.berth-recipients': `${key.recipient}\n`, 'stacks/billing.yml': STACK, 'stacks/done.yml': 'template: safe\nversion: 1.0.0\n' }, { message: 'environment' });
  const source = { url: server.repoUrl('env'), branch: 'main', token: TOKEN };
  const load = async () => loadEnvironment((await syncRepo(source, { cacheDir: path.join(tmp, 'serve-cache') })).dir);
  const before = server.revParse('env', 'refs/heads/main');
  const first = await fillGeneratedAnswers(await load(), { source, cacheDir: path.join(tmp, 'berth-cache') });
  assert.deepEqual(first.generated, [{ stack: 'billing', file: 'stacks/billing.yml', variables: ['database_password'] }]);
  assert.equal(server.revParse('env', 'refs/heads/main'), first.commit, 'pushed');

  const clone = path.join(tmp, 'check');
  await promisify(execFile)('git', ['clone', '--quiet', server.authedUrl('env'), clone]);
  const text = readFileSync(path.join(clone, 'stacks/billing.yml'), 'utf8');
  assert.ok(text.startsWith('# billing database\ntemplate: safe\nversion: 2.0.0\nanswers:\n  database_user: billing # schema owner\n  port: 18990\n  database_password: !age |\n'), text);
  const password = await decryptValue(armored(text), [key.identity]);
  assert.match(password, /^[A-Za-z0-9]{24}$/);
  const { stdout: log } = await promisify(execFile)('git', ['log', '-2', '--format=%an <%ae>|%B|%P'], { cwd: clone });
  assert.match(log, /^Berth <berth@localhost>\|Generate answers for billing\n\nBerth made the answers these stacks' templates ask it to generate, once, encrypted for\n\.berth-recipients:\n- billing: database_password \(24 random characters \(alnum\)\)\n\nBerth-Generated: billing database_password\n/);
  assert.ok(log.includes(before!), 'on top of the head it read');
  assert.ok(!log.includes(password));

  const second = await fillGeneratedAnswers(await load(), { source, cacheDir: path.join(tmp, 'berth-cache') });
  assert.deepEqual(second, { commit: null, generated: [] }, 'never generated again');
});

test('a local work tree: the commit is made in place and the tree stays clean; a stack file being edited waits', async () => {
  const dir = path.join(tmp, 'local');
  mkdirSync(path.join(dir, 'stacks'), { recursive: true });
  const files = { 'berth.yml': berthYml(), '.berth-recipients': `${key.recipient}\n`, 'stacks/billing.yml': STACK, 'stacks/edited.yml': STACK.replace('billing', 'edited') };
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  await git.init({ fs, dir, defaultBranch: 'main' });
  for (const f of Object.keys(files)) await git.add({ fs, dir, filepath: f });
  await git.commit({ fs, dir, message: 'env\n', author: { name: 'Op', email: 'op@example.com' } });
  writeFileSync(path.join(dir, 'stacks/edited.yml'), `${STACK}  # an edit not committed yet\n`);

  const r = await fillGeneratedAnswers(await loadEnvironment(dir), { source: { path: dir, branch: 'main' }, cacheDir: path.join(tmp, 'local-cache') });
  assert.deepEqual(r.generated.map((g) => g.stack), ['billing']);
  assert.equal(await git.resolveRef({ fs, dir, ref: 'HEAD' }), r.commit);
  const status = await git.statusMatrix({ fs, dir });
  assert.deepEqual(status.filter(([, h, w, s]) => !(h === 1 && w === 1 && s === 1)).map(([f]) => f), ['stacks/edited.yml'], 'only the person\'s own edit is uncommitted');
  assert.match(readFileSync(path.join(dir, 'stacks/billing.yml'), 'utf8'), /database_password: !age \|/);
});

test('berth secret generate writes them into the work tree, and says so without the value', async () => {
  const dir = path.join(tmp, 'cli');
  mkdirSync(path.join(dir, 'stacks'), { recursive: true });
  writeFileSync(path.join(dir, 'berth.yml'), berthYml());
  writeFileSync(path.join(dir, '.berth-recipients'), `${key.recipient}\n`);
  writeFileSync(path.join(dir, 'stacks/billing.yml'), STACK);
  const r = await runBerth(['secret', 'generate', 'billing', '--env', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'answers.database_password of stacks/billing.yml generated, encrypted for 1 recipient; commit the file\n');
  const password = await decryptValue(armored(readFileSync(path.join(dir, 'stacks/billing.yml'), 'utf8')), [key.identity]);
  assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password));
  const again = await runBerth(['secret', 'generate', 'billing', '--env', dir]);
  assert.equal(again.stdout, 'stack billing has an answer to every question Berth generates\n');
});

test('berth serve: the controller commits the missing answer before it deploys, and deploys from that commit', async () => {
  server.createBareRepo('served');
  server.commitFiles('served', { 'berth.yml': berthYml(), '.berth-recipients': `${key.recipient}\n`, 'stacks/billing.yml': STACK }, { message: 'environment' });
  const seen: { answers: Record<string, unknown>; commit: string }[] = [];
  const deploy: DeployFn = async (ctx, spec, trigger) => {
    seen.push({ answers: spec.answers, commit: ctx.sources.environment });
    return { stack: spec.name, why: trigger.why, startedAt: new Date().toISOString(), durationMs: 1, ledgerCommit: null, mode: 'render', outcome: 'unchanged' };
  };
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const controller = new Controller({ env: { url: server.repoUrl('served'), branch: 'main', token: TOKEN }, cacheDir: path.join(tmp, 'serve'), intervalMs: 60_000, log: createLogger({ destination: sink, level: 'debug' }), deploy });
  try {
    await controller.start();
    await waitFor(() => seen.length > 0, { what: 'the first deploy' });
    const head = server.revParse('served', 'refs/heads/main');
    assert.equal(seen[0].commit, head, 'deployed from the commit holding the answer');
    assert.ok(isEncrypted(seen[0].answers.database_password), 'and the stack carries it, encrypted');
    const password = await decryptValue(String(seen[0].answers.database_password), [key.identity]);
    assert.match(logs.join(''), /generated answers for billing, committed as [0-9a-f]{7}/);
    assert.ok(!logs.join('').includes(password), 'the log never holds the value');
  } finally {
    await controller.stop(1_000);
  }
});
