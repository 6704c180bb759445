// Encrypted answers from the stack file to the desired state: `!age` answers load, decrypt in memory with the
// configured identities, are masked yet still change the hash, and a missing key says which stack and answer
// need it. `berth secret keygen|encrypt` write keys and encrypted answers without the value touching argv.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { desiredStack } from '../../engines/standalone/desired.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import { BerthError } from '../../lib/errors.ts';
import { decryptValue, encryptAnswerInFile, generateKey } from '../../lib/secrets.ts';
import { parseRecipients, valueFromInput } from '../../cli/secret.ts';

const BIN = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));
let root: string;
let key: { identity: string; recipient: string };

function writeTemplate(dir: string): void {
  const t = path.join(dir, 'templates', 'app');
  mkdirSync(path.join(t, '1.0.0'), { recursive: true });
  writeFileSync(path.join(t, 'config.yml'), stringify({ name: 'app', description: 'an app' }));
  writeFileSync(path.join(t, '1.0.0', 'berth.yml'), stringify({ version: '1.0.0', description: 'v1', questions: [{ variable: 'db_password', type: 'password', required: true }, { variable: 'api_key', type: 'string' }] }));
  writeFileSync(path.join(t, '1.0.0', 'docker-compose.yml.hbs'), 'services:\n  web:\n    image: nginx:1.27\n    environment:\n      DB_PASSWORD: {{db_password}}\n      API_KEY: "{{api_key}}"\n');
}

async function writeStack(answers: Record<string, string>, encrypted: string[]): Promise<void> {
  let text = '# the shop\ntemplate: app\nversion: 1.0.0\nanswers:\n';
  for (const [k, v] of Object.entries(answers)) text += `  ${k}: ${JSON.stringify(encrypted.includes(k) ? 'to be encrypted' : v)}\n`;
  for (const k of encrypted) text = await encryptAnswerInFile(text, k, answers[k], [key.recipient]);
  writeFileSync(path.join(root, 'env', 'stacks', 'shop.yml'), text);
}

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-secrets-'));
  key = await generateKey();
  writeTemplate(path.join(root, 'catalog'));
  mkdirSync(path.join(root, 'env', 'stacks'), { recursive: true });
  writeFileSync(path.join(root, 'env', 'berth.yml'), stringify({ catalogs: [{ name: 'main', path: '../catalog' }], hosts: [{ name: 'h1', endpoint: 'unix:///nowhere.sock' }] }));
});
after(() => rmSync(root, { recursive: true, force: true }));

async function shop(opts: { identities?: string[]; processEnv?: Record<string, string> } = {}) {
  const env = await loadEnvironment(path.join(root, 'env'));
  return desiredStack(env, env.stacks[0], { processEnv: {}, ...opts });
}

test('encrypted answers load, decrypt in memory, are masked, and still change the hash', async () => {
  await writeStack({ db_password: 's3cret-one', api_key: 'k-123456' }, ['db_password', 'api_key']);
  assert.match(readFileSync(path.join(root, 'env/stacks/shop.yml'), 'utf8'), /^# the shop\n[^]*db_password: !age \|\n {4}-----BEGIN AGE ENCRYPTED FILE-----/);
  const d = await shop({ identities: [key.identity] });
  assert.equal(d.hosts.h1.services.web.model.environment.DB_PASSWORD, 's3cret-one');
  assert.deepEqual(d.secretAnswers, { api_key: 'k-123456', db_password: 's3cret-one' }, 'an encrypted string answer is a secret too');
  assert.deepEqual([...d.secrets].sort(), ['k-123456', 's3cret-one']);
  assert.ok(!JSON.stringify(d.hosts.h1.services.web.config).includes('s3cret-one'));
  // The key may also come from the environment variable, as `berth serve` and `berth apply` take it.
  const viaEnv = await shop({ processEnv: { BERTH_AGE_KEY: key.identity } });
  assert.equal(viaEnv.hosts.h1.services.web.hash, d.hosts.h1.services.web.hash);
  await writeStack({ db_password: 's3cret-two', api_key: 'k-123456' }, ['db_password']);
  assert.notEqual((await shop({ identities: [key.identity] })).hosts.h1.services.web.hash, d.hosts.h1.services.web.hash);
});

test('no key, or the wrong key: a user error naming the stack, the answer and how to give the key', async () => {
  await writeStack({ db_password: 's3cret-one' }, ['db_password']);
  const missing = await shop().then(() => undefined, (e: unknown) => e as BerthError);
  assert.ok(missing instanceof BerthError && missing.kind === 'user');
  assert.equal(missing.code, 'SECRET_KEY_MISSING');
  assert.match(missing.message, /^stack shop: answer db_password is encrypted but no age key is configured/);
  assert.match(missing.hint ?? '', /BERTH_AGE_KEY .*BERTH_AGE_KEY_FILE/);
  const other = await generateKey();
  await assert.rejects(shop({ identities: [other.identity] }), (e: unknown) => e instanceof BerthError && e.code === 'SECRET_DECRYPT_FAILED' && /^stack shop: answer db_password/.test(e.message));
  // Plain answers need no key at all.
  await writeStack({ db_password: 'plain' }, []);
  assert.equal((await shop()).hosts.h1.services.web.model.environment.DB_PASSWORD, 'plain');
});

function berth(args: string[], input: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, BERTH_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

test('berth secret keygen and encrypt: the value comes from stdin, recipients from .berth-recipients, comments stay', async () => {
  const keyFile = path.join(root, 'key.txt');
  const gen = await berth(['secret', 'keygen', '--out', keyFile], '', root);
  assert.equal(gen.code, 0, gen.stderr);
  const recipient = gen.stdout.trim();
  assert.match(recipient, /^age1[0-9a-z]+$/);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.match(readFileSync(keyFile, 'utf8'), /^# created by berth secret keygen: .*\n# public key: age1.*\nAGE-SECRET-KEY-1/);
  assert.equal((await berth(['secret', 'keygen', '--out', keyFile], '', root)).code, 1, 'never overwrites a key');

  await writeStack({ db_password: 'plain' }, []);
  const envDir = path.join(root, 'env');
  const none = await berth(['secret', 'encrypt', 'shop', 'db_password', '--env', envDir], 'x\n', root);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no age recipients/);
  writeFileSync(path.join(envDir, '.berth-recipients'), `# ops team\n${recipient}\n`);
  const enc = await berth(['secret', 'encrypt', 'shop', 'db_password', '--env', envDir], 'new value\n', root);
  assert.equal(enc.code, 0, enc.stderr);
  const text = readFileSync(path.join(envDir, 'stacks/shop.yml'), 'utf8');
  assert.ok(text.startsWith('# the shop\n'));
  assert.ok(!text.includes('new value'));
  const armored = /db_password: !age \|\n((?: {4}.*\n)+)/.exec(text)![1].replace(/^ {4}/gm, '');
  const identity = readFileSync(keyFile, 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  assert.equal(await decryptValue(armored, [identity]), 'new value');
  assert.equal((await shop({ identities: [identity] })).hosts.h1.services.web.model.environment.DB_PASSWORD, 'new value');
});

test('helpers: one trailing newline dropped; recipients one a line with comments', () => {
  assert.equal(valueFromInput('pw\n'), 'pw');
  assert.equal(valueFromInput('pw\r\n'), 'pw');
  assert.equal(valueFromInput('line1\nline2\n\n'), 'line1\nline2\n');
  assert.deepEqual(parseRecipients('# team\nage1abc  # alice\n\n  age1def\n'), ['age1abc', 'age1def']);
});
