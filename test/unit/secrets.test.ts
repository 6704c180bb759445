import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, parseDocument, stringify } from 'yaml';
import { BerthError } from '../../lib/errors.ts';
import {
  AgeSecret,
  decryptAnswers,
  decryptValue,
  encryptAnswerInFile,
  encryptValue,
  generateKey,
  isEncrypted,
  loadIdentities,
  maskSecrets,
  secretYamlTags,
} from '../../lib/secrets.ts';

const code = (c: string, mustNotContain: string[] = []) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.code, c, err.message);
  for (const s of mustNotContain) assert.ok(!`${err.message} ${JSON.stringify(err.data)} ${err.hint}`.includes(s), `leaked ${s}`);
  return true;
};

const alice = await generateKey();
const bob = await generateKey();

describe('age values', () => {
  it('generates key pairs', () => {
    assert.match(alice.identity, /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    assert.match(alice.recipient, /^age1[0-9a-z]+$/);
  });

  it('round-trips, for any of several recipients', async () => {
    const armored = await encryptValue('hunter2 ünïcode\nline 2', [alice.recipient, bob.recipient]);
    assert.match(armored, /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    assert.equal(await decryptValue(armored, [alice.identity]), 'hunter2 ünïcode\nline 2');
    assert.equal(await decryptValue(armored, [bob.identity]), 'hunter2 ünïcode\nline 2');
  });

  it('a wrong key or a mangled value is SECRET_DECRYPT_FAILED', async () => {
    const armored = await encryptValue('s3cret-value', [alice.recipient]);
    await assert.rejects(decryptValue(armored, [bob.identity]), code('SECRET_DECRYPT_FAILED', ['s3cret-value', bob.identity]));
    await assert.rejects(decryptValue('-----BEGIN AGE ENCRYPTED FILE-----\nnope\n', [alice.identity]), code('SECRET_DECRYPT_FAILED'));
    await assert.rejects(encryptValue('x', []), code('SECRET_NO_RECIPIENTS'));
    await assert.rejects(encryptValue('x', ['age1nope']), code('SECRET_RECIPIENT_INVALID'));
  });

  it('the armored value survives a YAML parse/stringify round trip, as !age', async () => {
    const armored = await encryptValue('pw', [alice.recipient]);
    const text = stringify({ answers: { db_password: new AgeSecret(armored), user: 'app' } }, { customTags: secretYamlTags });
    assert.match(text, /db_password: !age \|\n {4}-----BEGIN AGE ENCRYPTED FILE-----\n/);
    const back = parse(text, { customTags: secretYamlTags });
    assert.ok(back.answers.db_password instanceof AgeSecret);
    assert.equal(back.answers.db_password.armored, armored);
    assert.equal(stringify(back, { customTags: secretYamlTags }), text);
    // A reader without the tag still gets the armored text.
    const plain = parse(text, { logLevel: 'silent' });
    assert.equal(plain.answers.db_password, armored);
    assert.ok(isEncrypted(plain.answers.db_password));
  });
});

describe('decryptAnswers', () => {
  it('decrypts tagged and bare armored answers, leaves everything else alone', async () => {
    const pw = await encryptValue('p@ss', [alice.recipient]);
    const nested = await encryptValue('tls-key-material', [alice.recipient]);
    const answers = { db_password: new AgeSecret(pw), raw: pw, port: 5432, name: 'web', on: true, list: ['a', { k: new AgeSecret(nested) }], none: null };
    const { values, secrets } = await decryptAnswers(answers, [bob.identity, alice.identity]);
    assert.deepEqual(values, { db_password: 'p@ss', raw: 'p@ss', port: 5432, name: 'web', on: true, list: ['a', { k: 'tls-key-material' }], none: null });
    assert.deepEqual(secrets.sort(), ['p@ss', 'tls-key-material']);
    assert.ok(answers.db_password instanceof AgeSecret, 'input untouched');
  });

  it('names the variable, never the value, on failure', async () => {
    const pw = await encryptValue('very-secret', [alice.recipient]);
    await assert.rejects(decryptAnswers({ ok: 'x', db_password: new AgeSecret(pw) }, [bob.identity]), (err: unknown) => {
      code('SECRET_DECRYPT_FAILED', ['very-secret'])(err);
      assert.match((err as Error).message, /db_password/);
      assert.equal((err as BerthError).data.variable, 'db_password');
      return true;
    });
    await assert.rejects(decryptAnswers({ db_password: new AgeSecret(pw) }, []), code('SECRET_KEY_MISSING'));
    assert.deepEqual(await decryptAnswers({ a: 1 }, []), { values: { a: 1 }, secrets: [] });
  });
});

describe('encryptAnswerInFile', () => {
  const stack = `# Stack for the web shop
template: web@1.2.0 # pinned
answers:
  # public name
  hostname: shop.example.com
  db_password: old-plaintext # rotate me
  replicas: 2
hosts: [h1]
`;

  it('sets the encrypted answer, keeping comments and order', async () => {
    const out = await encryptAnswerInFile(stack, 'db_password', 'n3w-pass', [alice.recipient]);
    assert.ok(!out.includes('n3w-pass') && !out.includes('old-plaintext'));
    assert.ok(out.startsWith('# Stack for the web shop\ntemplate: web@1.2.0 # pinned\nanswers:\n  # public name\n  hostname: shop.example.com\n  db_password: !age | # rotate me\n    -----BEGIN AGE'), out);
    assert.match(out, /db_password: !age \| # rotate me\n/);
    assert.ok(out.endsWith('-----END AGE ENCRYPTED FILE-----\n  replicas: 2\nhosts: [h1]\n'), out);
    const doc = parseDocument(out, { customTags: secretYamlTags }).toJS();
    assert.deepEqual(Object.keys(doc.answers), ['hostname', 'db_password', 'replicas']);
    const { values } = await decryptAnswers(doc.answers, [alice.identity]);
    assert.equal(values.db_password, 'n3w-pass');
    const again = await encryptAnswerInFile(out, 'db_password', 'third', [alice.recipient]);
    assert.match(again, /db_password: !age \| # rotate me\n/);
    assert.equal(again.split('\n').length, out.split('\n').length, 'replaced, not appended');
  });

  it('adds a new answer, or the answers mapping itself', async () => {
    const added = parse(await encryptAnswerInFile(stack, 'api_key', 'k', [alice.recipient]), { customTags: secretYamlTags });
    assert.deepEqual(Object.keys(added.answers), ['hostname', 'db_password', 'replicas', 'api_key']);
    const fresh = await encryptAnswerInFile('template: web@1\n', 'pw', 'x', [alice.recipient]);
    assert.equal((await decryptAnswers(parse(fresh, { customTags: secretYamlTags }).answers, [alice.identity])).values.pw, 'x');
    await assert.rejects(encryptAnswerInFile('answers: [1]\n', 'pw', 'x', [alice.recipient]), code('STACK_FILE_INVALID'));
    await assert.rejects(encryptAnswerInFile('answers: {\n', 'pw', 'x', [alice.recipient]), code('STACK_FILE_INVALID'));
  });
});

describe('loadIdentities', () => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'berth-secrets-'));
  const file = join(dir, 'key.txt');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(file, `# created: 2024-01-01\n# public key: ${alice.recipient}\n${alice.identity}\n\n`);

  it('reads --key-file, BERTH_AGE_KEY_FILE and BERTH_AGE_KEY', async () => {
    assert.deepEqual(await loadIdentities({ keyFile: file, env: {} }), [alice.identity]);
    assert.deepEqual(await loadIdentities({ env: { BERTH_AGE_KEY_FILE: file, BERTH_AGE_KEY: bob.identity } }), [alice.identity, bob.identity]);
    assert.deepEqual(await loadIdentities({ env: { BERTH_AGE_KEY: `${alice.identity}\n` } }), [alice.identity]);
    assert.deepEqual(await loadIdentities({ env: {} }), []);
  });

  it('rejects bad input without echoing it', async () => {
    const bad = 'AGE-SECRET-KEY-1NOTAREALKEY';
    await assert.rejects(loadIdentities({ env: { BERTH_AGE_KEY: bad } }), code('SECRET_KEY_INVALID', [bad]));
    await assert.rejects(loadIdentities({ keyFile: join(dir, 'missing'), env: {} }), code('SECRET_KEY_FILE_UNREADABLE'));
  });
});

describe('maskSecrets', () => {
  it('masks every occurrence, longest first, including JSON-escaped forms', () => {
    assert.equal(maskSecrets('pw=abc and abcdef, abc again', ['abc', 'abcdef']), 'pw=****** and ******, ****** again');
    assert.equal(maskSecrets('{"msg":"key line1\\nline2"}', ['line1\nline2']), '{"msg":"key ******"}');
    assert.equal(maskSecrets('a-b', ['', 'b']), 'a-******');
    assert.equal(maskSecrets('nothing here', []), 'nothing here');
  });
});
