// `immutable: true`: the ledger records the deployed answers (a secret one as a salted scrypt fingerprint, never
// the value), and the next plan refuses a change with an error naming the stack, the question and what to do,
// unless the stack file says `force_change: [var]`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadEnvironment } from '../../environment/environment.ts';
import { recordFromYaml, recordToYaml, type LedgerRecord } from '../../ledger/record.ts';
import { ValidationError } from '../../lib/errors.ts';
import { assertImmutable, immutableAnswers, secretFingerprint } from '../../upgrades/immutable.ts';
import type { Question } from '../../catalog/types.ts';

const QUESTIONS: Question[] = [
  { variable: 'db_name', label: 'Database', type: 'string', required: false, immutable: true },
  { variable: 'db_password', label: 'Password', type: 'password', required: false, immutable: true },
  { variable: 'title', label: 'Title', type: 'string', required: false },
];
const SPEC = { name: 'shop', file: 'stacks/shop.yml', template: 'web' };
const recordOf = (answers: LedgerRecord['answers']) => ({ record: { template: 'web', version: '2.0.0', answers }, commit: 'abcdef0123456789' });

describe('immutable answers in the ledger', () => {
  const deployed = immutableAnswers('shop', QUESTIONS, { db_name: 'shop', db_password: 's3cret-Pa55', title: 'x' })!;

  it('only immutable questions, a secret as a fingerprint salted with stack and variable', () => {
    assert.deepEqual(Object.keys(deployed), ['db_name', 'db_password']);
    assert.equal(deployed.db_name, 'shop');
    assert.match(String(deployed.db_password), /^scrypt:[0-9a-f]{32}$/);
    assert.equal(secretFingerprint('shop', 'db_password', 's3cret-Pa55'), deployed.db_password, 'the same answer, the same record');
    assert.notEqual(secretFingerprint('other', 'db_password', 's3cret-Pa55'), deployed.db_password);
    assert.equal(immutableAnswers('shop', QUESTIONS, { title: 'x' }), undefined);
  });

  it('deploy.yml holds them sorted, reads them back, and ignores anything that is not a plain value', () => {
    const r: LedgerRecord = { stack: 'shop', template: 'web', version: '2.0.0', mode: 'render', sources: { environment: 'e', catalogs: {} }, answers: { z: 1, a: 'x' }, hosts: {} };
    const text = recordToYaml(r);
    assert.match(text, /^answers:\n {2}a: x\n {2}z: 1\nhosts: \{\}\n$/m);
    assert.deepEqual(recordFromYaml(text).answers, { a: 'x', z: 1 });
    assert.ok(!recordToYaml({ ...r, answers: deployed }).includes('s3cret-Pa55'));
    assert.deepEqual(recordFromYaml(text.replace('answers:\n  a: x\n  z: 1\n', 'answers:\n  a: { b: 1 }\n  z: 1\n')).answers, { z: 1 });
  });

  it('an unchanged answer, a first deploy, another template: nothing to refuse', () => {
    assertImmutable(SPEC, { source: 'web@3.0.0', immutable: deployed }, recordOf(deployed));
    assertImmutable(SPEC, { source: 'web@3.0.0', immutable: deployed }, undefined);
    assertImmutable(SPEC, { source: 'web@3.0.0', immutable: { db_name: 'other' } }, { record: { template: 'api', version: '1', answers: deployed } });
    assertImmutable(SPEC, { source: 'web@3.0.0', immutable: { db_name: 'other' } }, recordOf({}));
  });

  it('a change is refused naming the stack, the question and what to do; a secret\'s values are never shown', () => {
    const now = immutableAnswers('shop', QUESTIONS, { db_name: 'orders', db_password: 'n3w-Pa55word' })!;
    let err: ValidationError | undefined;
    try {
      assertImmutable(SPEC, { source: 'web@3.0.0', immutable: now }, recordOf(deployed));
    } catch (e) {
      err = e as ValidationError;
    }
    assert.ok(err instanceof ValidationError && err.code === 'IMMUTABLE_CHANGED');
    assert.equal(err.message, [
      'Stack shop: 2 answers that cannot change once deployed would change (ledger commit abcdef0, web 2.0.0):',
      '  - stacks/shop.yml: answers.db_name: was "shop" when deployed, now "orders"; web@3.0.0 marks this question immutable, so it cannot change once deployed',
      '  - stacks/shop.yml: answers.db_password: has changed since it was deployed; web@3.0.0 marks this question immutable, so it cannot change once deployed',
    ].join('\n'));
    assert.equal(err.hint, 'Put the deployed values back in stacks/shop.yml. To change them on purpose (after moving the data yourself), add "force_change: [db_name, db_password]" to stacks/shop.yml for one deploy, then remove it.');
    assert.ok(!JSON.stringify(err.toJSON()).includes('n3w-Pa55word') && !JSON.stringify(err.toJSON()).includes('s3cret-Pa55'));
    assertImmutable({ ...SPEC, force_change: ['db_name', 'db_password'] }, { source: 'web@3.0.0', immutable: now }, recordOf(deployed));
  });
});

describe('force_change in a stack file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-force-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is a list of variable names; anything else is a problem of that stack alone', async () => {
    mkdirSync(path.join(dir, 'stacks'));
    writeFileSync(path.join(dir, 'berth.yml'), 'hosts:\n  - { name: h, endpoint: "unix:///tmp/x.sock" }\n');
    writeFileSync(path.join(dir, 'stacks/a.yml'), 'template: web\nversion: 1\nforce_change: [db_name]\n');
    writeFileSync(path.join(dir, 'stacks/b.yml'), 'template: web\nversion: 1\nforce_change: { db_name: yes }\n');
    const env = await loadEnvironment(dir);
    assert.deepEqual(env.stacks[0].force_change, ['db_name']);
    assert.match(String(env.stacks[1].invalid?.message), /stacks\/b\.yml:3: force_change: must list the variables whose immutable answer may change/);
  });
});
