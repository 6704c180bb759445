// A safe upgrade end to end, through the real git server, the fake GitLab and a real dockerd (h1): a stack on
// safe 1.0.0 is upgraded by merge requests to 2.0.0 (a question renamed, answers joined by a template and
// dropped, a password generated once and encrypted for the environment's recipient) and then to 3.0.0 (enum
// values mapped, the database user made immutable). The generated password is the one the container asks for;
// it is in clear nowhere — not in the MR text, the forge's requests, a commit or the CLI's output. Changing the
// immutable user is refused at plan time with the reason, until force_change lets it through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { decryptValue, generateKey } from '../../lib/secrets.ts';
import { dockerGate, removeLabeled, waitFor, type Gate } from '../harness/env.ts';
import { ensureImages, webImage } from '../harness/images.ts';
import { SAFE_FILES, safeStack, writeSafeCatalog } from '../unit/safe-upgrade-fixtures.ts';
import { writeFiles } from '../unit/upgrades-fixtures.ts';
import { runBerth } from './converge-fixtures.ts';
import { startWorld, TOKEN, TOKEN_ENV, type World } from './upgrades-world.ts';

const STACK = 'safeorders';
const PORT = 18800 + Math.floor(Math.random() * 150);
let w: World;
let gate: Gate;
let deployDir: string;
let key: { identity: string; recipient: string };
const outputs: string[] = [];

function status(user: string | undefined, password?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`http://127.0.0.1:${PORT}/`, { timeout: 3000, ...(user ? { auth: `${user}:${password}` } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

async function berth(args: string[]) {
  const r = await runBerth([...args, '--env', deployDir], { env: { BERTH_AGE_KEY: key.identity, BERTH_GIT_TOKEN: TOKEN, [TOKEN_ENV]: TOKEN }, timeoutMs: 180_000 });
  outputs.push(r.stdout, r.stderr);
  return r;
}

/** Merges Berth's branch into main as a person would, and brings the deploy folder up to it. */
async function mergeUpgrade(): Promise<void> {
  const clone = await w.clone('main');
  await w.git(['fetch', '--quiet', 'origin', `berth/upgrade/${STACK}`], clone);
  await w.git(['merge', '--quiet', '--no-ff', '-m', `Merge upgrade of ${STACK}`, 'FETCH_HEAD'], clone);
  await w.git(['push', '--quiet', 'origin', 'main'], clone);
  const mr = w.forge.mergeRequests.filter((m) => m.sourceBranch === `berth/upgrade/${STACK}`).at(-1)!;
  w.forge.markMerged('gitlab', mr.iid);
  await w.git(['pull', '--quiet', '--ff-only', 'origin', 'main'], deployDir);
}

async function commitOnMain(file: string, text: string, message: string): Promise<void> {
  w.server.commitFiles('env', { [file]: text }, { message });
  await w.git(['pull', '--quiet', '--ff-only', 'origin', 'main'], deployDir);
}

const stackText = () => readFileSync(path.join(deployDir, `stacks/${STACK}.yml`), 'utf8');
const armoredOf = (text: string) => /database_password: !age \|\n((?: {4}.*\n)+)/.exec(text)?.[1].replace(/^ {4}/gm, '');

before(async () => {
  gate = await dockerGate();
  key = await generateKey();
  w = await startWorld('gitlab', { [STACK]: safeStack(PORT) }, {
    catalog: (dir) => writeSafeCatalog(dir, '2.0.0'),
    files: { '.berth-recipients': `# who can read the environment's secrets\n${key.recipient}\n` },
  });
  deployDir = await w.clone('main');
  if (!gate.opts.skip) {
    await ensureImages(gate.docker('h1'), [webImage(1)]);
    await removeLabeled(gate.docker('h1'), `berth.stack=${STACK}`);
  }
});
after(async () => {
  if (!gate.opts.skip) await removeLabeled(gate.docker('h1'), `berth.stack=${STACK}`);
  await w.close();
});

test('a stack on 1.0.0 runs with the fixed password of that version', async (t) => {
  if (gate.opts.skip) return t.skip(gate.opts.skip);
  const r = await berth(['apply', STACK]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitFor(async () => (await status('orders', 'fixed-password-of-v1').catch(() => 0)) === 200, { what: 'the v1 database answering' });
  assert.equal(await status(undefined), 401);
});

let password = '';

test('the MR to 2.0.0 migrates the answers and generates the password once, encrypted; it deploys and the password works', async (t) => {
  const [result] = await w.propose();
  assert.equal(result.action, 'created', JSON.stringify(result));
  const mr = w.forge.mergeRequests.find((m) => m.sourceBranch === `berth/upgrade/${STACK}`)!;
  assert.equal(mr.title, `Upgrade ${STACK}: safe 1.0.0 → 2.0.0`, 'ready, not a draft: nothing is left to answer');
  assert.match(mr.description, /- `db_user` renamed to `database_user` \(2\.0\.0\)/);
  assert.match(mr.description, /- `public_host`: set to `"orders\.example\.com"`, computed with/);
  assert.match(mr.description, /- `address` removed \(was `"orders\.example\.com:8443"`\)/);
  assert.match(mr.description, /`database_password` \(Database password, password\): generated by Berth: 24 random characters \(alnum\)/);

  const branch = read(await w.clone(`berth/upgrade/${STACK}`), `stacks/${STACK}.yml`);
  assert.match(branch, /^ {2}database_user: orders # owner of the schema$/m, 'renamed in place, comment kept');
  assert.doesNotMatch(branch, /address:|legacy_mode:|db_user:/);
  password = await decryptValue(armoredOf(branch)!, [key.identity]);
  assert.match(password, /^[A-Za-z0-9]{24}$/);

  // Generated once: the next run finds its branch and changes nothing.
  const pushes = w.server.pushes.length;
  assert.deepEqual((await w.propose()).map((r) => r.action), ['unchanged']);
  assert.equal(w.server.pushes.length, pushes);

  await mergeUpgrade();
  if (gate.opts.skip) return t.skip(gate.opts.skip);
  const r = await berth(['apply', STACK]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  await waitFor(async () => (await status('orders', password).catch(() => 0)) === 200, { what: 'the v2 database answering to the generated password' });
  assert.equal(await status('orders', 'fixed-password-of-v1'), 401, 'the old password no longer opens it');
});

test('the MR to 3.0.0 maps the enum and keeps the password; the database user is then immutable', async (t) => {
  writeFiles(w.catalog, Object.fromEntries(Object.entries(SAFE_FILES).filter(([f]) => f.includes('/3.0.0/'))));
  const kept = armoredOf(stackText());
  const [result] = await w.propose();
  assert.equal(result.action, 'created');
  const mr = w.forge.mergeRequests.filter((m) => m.sourceBranch === `berth/upgrade/${STACK}`).at(-1)!;
  assert.match(mr.description, /- `edition`: `"enterprise"` → `"premium"` \(3\.0\.0\)/);
  const branch = read(await w.clone(`berth/upgrade/${STACK}`), `stacks/${STACK}.yml`);
  assert.equal(armoredOf(branch), kept, 'the password is not generated again');
  await mergeUpgrade();
  if (gate.opts.skip) return t.skip(gate.opts.skip);
  assert.equal((await berth(['apply', STACK])).code, 0);
  await waitFor(async () => (await status('orders', password).catch(() => 0)) === 200, { what: 'v3 answering' });

  await commitOnMain(`stacks/${STACK}.yml`, stackText().replace('database_user: orders', 'database_user: billing'), 'rename the database user');
  const plan = await berth(['plan', STACK]);
  assert.equal(plan.code, 1);
  assert.match(plan.stderr, new RegExp(`stack ${STACK}: error: Stack ${STACK}: an answer that cannot change once deployed would change \\(ledger commit [0-9a-f]{7}, safe 3\\.0\\.0\\):`));
  assert.match(plan.stderr, new RegExp(`stacks/${STACK}\\.yml: answers\\.database_user: was "orders" when deployed, now "billing"; safe@3\\.0\\.0 marks this question immutable`));
  assert.match(plan.stderr, new RegExp(`hint: .*add "force_change: \\[database_user\\]" to stacks/${STACK}\\.yml for one deploy`));
  const refused = await berth(['apply', STACK]);
  assert.equal(refused.code, 1, 'apply refuses too');
  assert.equal(await status('orders', password), 200, 'nothing was changed on the host');

  await commitOnMain(`stacks/${STACK}.yml`, `${stackText()}force_change: [database_user]\n`, 'rename the database user on purpose');
  const forced = await berth(['apply', STACK]);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  await waitFor(async () => (await status('billing', password).catch(() => 0)) === 200, { what: 'the renamed user' });
});

test('the generated password is in clear nowhere: MR texts, forge requests, commits, CLI output', async () => {
  assert.ok(password.length === 24);
  for (const mr of w.forge.mergeRequests) assert.ok(!mr.description.includes(password) && !mr.title.includes(password));
  assert.ok(!JSON.stringify(w.forge.requests.map((q) => q.body)).includes(password));
  const log = await w.git(['log', '--all', '-p', '--format=%B'], await w.clone('main'));
  assert.ok(log.includes('BEGIN AGE ENCRYPTED FILE'), 'the history holds the encrypted answer');
  assert.ok(!log.includes(password), 'and never the password');
  assert.ok(!outputs.join('\n').includes(password));
});

function read(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}
