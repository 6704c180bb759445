// Which version a stack is offered: newer (semver or revision order), allowed by upgrade_from, deployable by
// this Berth, the template's default preferred; and what the upgrade asks of the stack's answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseVersion, findUpgrade, leftoverAnswers, needsDraft } from '../../upgrades/find.ts';
import { q, template, v } from './upgrades-fixtures.ts';

const pick = (t: ReturnType<typeof template>, installed: string, running = '0.1.0') => chooseVersion(t, installed, running)?.version;

test('semver: the newest newer version; nothing when already on it', () => {
  const t = template([v('1.0.0'), v('1.1.0'), v('2.0.0')]);
  assert.equal(pick(t, '1.0.0'), '2.0.0');
  assert.equal(pick(t, '1.1.0'), '2.0.0');
  assert.equal(pick(t, '2.0.0'), undefined);
  assert.equal(pick(t, '3.0.0'), undefined, 'a stack ahead of the catalog is not downgraded');
});

test('revisions compare as numbers, not text', () => {
  const t = template([v('0'), v('1'), v('2'), v('10')]);
  assert.equal(pick(t, '2'), '10');
  assert.equal(pick(t, '10'), undefined);
});

test('a version whose folder is a revision but whose version string is user-facing is found by either', () => {
  const t = template([v('0', { version: 'one' }), v('1', { version: 'two' })]);
  assert.equal(pick(t, 'one'), 'two');
  assert.equal(pick(t, '0'), 'two');
});

test('upgrade_from limits which installed versions may move to a candidate', () => {
  const t = template([v('1.0.0'), v('1.1.0'), v('2.0.0', { upgrade_from: '>=1.1.0 <2.0.0' })]);
  assert.equal(pick(t, '1.0.0'), '1.1.0', '2.0.0 needs 1.1.0 first');
  assert.equal(pick(t, '1.1.0'), '2.0.0');
  const revs = template([v('1'), v('2'), v('3', { upgrade_from: '>=2' })]);
  assert.equal(pick(revs, '1'), '2', 'revision 1 is read as 1.0.0');
  assert.equal(pick(revs, '2'), '3');
});

test('minimum_berth_version: a version this Berth cannot deploy is never proposed', () => {
  const t = template([v('1.0.0'), v('1.1.0'), v('2.0.0', { minimum_berth_version: '99.0.0' })]);
  assert.equal(pick(t, '1.0.0'), '1.1.0');
  assert.equal(pick(t, '1.0.0', '99.0.0'), '2.0.0');
  assert.equal(pick(t, '1.1.0'), undefined);
});

test("the template's default version is preferred when it qualifies, else the newest", () => {
  const t = template([v('1.0.0'), v('1.1.0'), v('2.0.0')], '1.1.0');
  assert.equal(pick(t, '1.0.0'), '1.1.0', 'the vendor recommends 1.1.0');
  assert.equal(pick(t, '1.1.0'), '2.0.0', 'past the default: the newest');
  const gated = template([v('1.0.0'), v('1.1.0', { upgrade_from: '>=9' }), v('2.0.0')], '1.1.0');
  assert.equal(pick(gated, '1.0.0'), '2.0.0', 'a default that does not qualify is passed over');
});

test('an installed version the catalog no longer has still gets the newer ones', () => {
  const t = template([v('1.0.0'), v('1.2.0')]);
  assert.equal(pick(t, '1.1.0'), '1.2.0');
});

test('questions: added, removed, defaults added as answers, required ones without default needing answers', () => {
  const t = template([
    v('1.0.0', { questions: [q('a'), q('gone')] }),
    v('1.1.0', {
      questions: [
        q('a'),
        q('port', { type: 'int', default: 8080, required: true }),
        q('email', { required: true }),
        q('tls', { type: 'boolean', default: false }),
        q('cert', { required: true, show_if: 'tls' }),
        q('preset', { required: true }),
        q('optional'),
      ],
    }),
  ]);
  const u = findUpgrade(t, { name: 'shop', version: '1.0.0', answers: { a: 'x', gone: 'y', preset: 'given' } }, '0.1.0')!;
  assert.equal(u.stack, 'shop');
  assert.equal(u.from, '1.0.0');
  assert.equal(u.to, '1.1.0');
  assert.deepEqual(u.newQuestions.map((x) => x.variable), ['port', 'email', 'tls', 'cert', 'preset', 'optional']);
  assert.deepEqual(u.removedQuestions.map((x) => x.variable), ['gone']);
  assert.deepEqual(u.addedAnswers, { port: 8080, tls: false });
  assert.deepEqual(u.needsAnswers.map((x) => x.variable), ['email'], 'cert is hidden (tls false), preset is answered already');
  assert.deepEqual(u.between.map((x) => x.version), ['1.1.0']);
  assert.deepEqual(leftoverAnswers(u, { a: 'x', gone: 'y' }), ['gone']);
  assert.equal(needsDraft(u, { a: 'x' }), true, 'email needs an answer');
});

test('a plain upgrade needs no draft; leftover answers to removed questions do', () => {
  const t = template([v('1.0.0', { questions: [q('a'), q('b')] }), v('1.1.0', { questions: [q('a')] }), v('1.2.0', { questions: [q('a')] })]);
  const plain = findUpgrade(t, { name: 's', version: '1.0.0', answers: { a: 'x' } }, '0.1.0')!;
  assert.equal(needsDraft(plain, { a: 'x' }), false);
  assert.deepEqual(plain.between.map((x) => x.version), ['1.1.0', '1.2.0'], 'every version skipped over has notes that apply');
  assert.equal(needsDraft(plain, { a: 'x', b: 'y' }), true);
});
