// The questions of safe upgrades: `generate:` (answers Berth makes once), `pattern:` checked by RE2 in linear
// time with the vendor's `pattern_message`, and `immutable:`; parsed with located problems, checked without ever
// echoing a secret answer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAnswers, checkValue } from '../../catalog/answers.ts';
import { generateValue, missingGenerated } from '../../catalog/generate.ts';
import { parseQuestions } from '../../catalog/questions.ts';
import { parseYamlFile } from '../../catalog/yaml-file.ts';
import { isSecret } from '../../lib/mask.ts';
import type { Question } from '../../catalog/types.ts';

const FILE = 'templates/app/3/berth.yml';

function parse(text: string) {
  const { yaml, problems } = parseYamlFile(`questions:\n${text}`, FILE);
  assert.deepEqual(problems, []);
  return parseQuestions(yaml!, (yaml!.data as { questions: unknown }).questions);
}

function messages(text: string): string[] {
  return parse(text).problems.map((p) => `${p.line}:${p.field}: ${p.message}`);
}

describe('generate:', () => {
  it('reads the short forms and the map form, 32 alnum characters unless said otherwise', () => {
    const { questions, problems } = parse([
      '  - { variable: a, type: password, generate: uuid }',
      '  - { variable: b, type: password, generate: hex }',
      '  - { variable: c, type: secret, generate: { length: 48 } }',
      '  - { variable: d, type: password, generate: { length: 20, charset: base64url }, immutable: true }',
    ].join('\n'));
    assert.deepEqual(problems, []);
    assert.deepEqual(questions.map((q) => q.generate), [
      { kind: 'uuid' }, { kind: 'chars', charset: 'hex', length: 32 }, { kind: 'chars', charset: 'alnum', length: 48 }, { kind: 'chars', charset: 'base64url', length: 20 },
    ]);
    assert.equal(questions[3].immutable, true);
  });

  it('refuses what cannot work, each at its line: non-secret types, defaults, bad sizes and charsets, rules the values would break', () => {
    assert.deepEqual(messages([
      '  - { variable: a, type: string, generate: uuid }',
      '  - { variable: b, type: password, generate: hex, default: abcdefgh12 }',
      '  - { variable: c, type: password, generate: { length: 4 } }',
      '  - { variable: d, type: password, generate: alnumm }',
      '  - { variable: e, type: password, generate: { charset: uuid } }',
      '  - { variable: f, type: password, generate: { length: 16 }, min_length: 20 }',
      '  - { variable: g, type: password, generate: alnum, valid_chars: abc }',
      '  - { variable: h, type: password, generate: [1] }',
    ].join('\n')), [
      '2:questions.a.generate: only password and secret questions are generated (their answers are encrypted); this one is type string',
      '3:questions.b.default: a generated question has no default: every stack gets its own value; remove the default or generate',
      '4:questions.c.generate.length: must be from 8 to 1024, got 4',
      '5:questions.d.generate: "alnumm" is not a character set Berth generates from; did you mean "alnum"? write uuid or one of alnum, alpha, lower, upper, digits, hex, base64url',
      '6:questions.e.generate.charset: a uuid has its own length and characters; write "generate: uuid"',
      '7:questions.f.generate: makes 16 characters of alnum, shorter than min_length 20',
      '8:questions.g.generate: makes 32 characters of alnum, which may hold "defghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" that valid_chars or invalid_chars refuse; pick another charset',
      '9:questions.h.generate: must be uuid, a character set (alnum, alpha, lower, upper, digits, hex, base64url) or a map { length: 32, charset: alnum }, got a list',
    ]);
  });

  it('makes values of the asked shape from the whole charset, different every time, known to the mask at once', () => {
    const [hex, uuid, alnum] = parse('  - { variable: h, type: password, generate: { length: 64, charset: hex } }\n  - { variable: u, type: password, generate: uuid }\n  - { variable: a, type: password, generate: alnum }').questions;
    const values = Array.from({ length: 200 }, () => generateValue(hex, 'test'));
    for (const v of values) assert.match(v, /^[0-9a-f]{64}$/);
    assert.equal(new Set(values).size, values.length);
    assert.equal(new Set(values.join('')).size, 16, 'every hex digit turns up');
    assert.match(generateValue(uuid, 'test'), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const pw = generateValue(alnum, 'test');
    assert.match(pw, /^[A-Za-z0-9]{32}$/);
    assert.ok(isSecret(pw), 'registered with the mask before it is returned');
  });

  it('draws again until the question\'s pattern holds, and says so when it never does', () => {
    const [digit, never] = parse([
      '  - { variable: d, type: password, generate: { length: 8, charset: alnum }, pattern: ".*[0-9].*[0-9].*" }',
      '  - { variable: n, type: password, generate: { length: 8, charset: lower }, pattern: "[0-9]+" }',
    ].join('\n')).questions;
    for (let i = 0; i < 20; i++) assert.match(generateValue(digit, 'test'), /[0-9].*[0-9]/);
    assert.throws(() => generateValue(never, 'stack shop'), (e: Error & { code?: string }) => e.code === 'GENERATE_FAILED' && /^stack shop: question n asks Berth to generate/.test(e.message));
  });

  it('missingGenerated: only unanswered questions that are shown', () => {
    const { questions } = parse([
      '  - { variable: tls, type: boolean, default: false }',
      '  - { variable: key, type: password, generate: hex, show_if: tls }',
      '  - { variable: db, type: password, generate: hex }',
      '  - { variable: kept, type: password, generate: hex }',
    ].join('\n'));
    assert.deepEqual(missingGenerated(questions, { kept: 'x'.repeat(32) }).map((q) => q.variable), ['db']);
    assert.deepEqual(missingGenerated(questions, { tls: true, kept: 'x' }).map((q) => q.variable), ['key', 'db']);
  });

  it('an unanswered generated question is not "required": it says Berth makes it', () => {
    const q: Question = { variable: 'db', label: 'DB password', type: 'password', required: true, generate: { kind: 'uuid' } };
    const { problems } = checkAnswers([q], {});
    assert.match(problems[0].message, /^has no value yet \(DB password\): Berth generates it once, encrypted for the recipients in \.berth-recipients/);
  });
});

describe('pattern:', () => {
  it('is compiled when the catalog loads: RE2 syntax, only on text questions, its message only with it', () => {
    assert.deepEqual(messages([
      '  - { variable: a, pattern: "(?=x)y" }',
      '  - { variable: b, type: int, pattern: "[0-9]+" }',
      '  - { variable: c, pattern_message: must be short }',
      '  - { variable: d, pattern: "[a-z]+", default: "ABC" }',
    ].join('\n')), [
      '2:questions.a.pattern: is not a regular expression Berth can check in linear time (RE2 syntax: no lookaround, no backreferences): error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
      '3:questions.b.pattern: only text questions have a pattern; this one is type int',
      '4:questions.c.pattern_message: says what to do when the answer does not match pattern, but there is no pattern; add one or remove this',
      '5:questions.d.default: the default must match the pattern "[a-z]+"; change the default or the question\'s rules',
    ]);
  });

  it('matches the whole answer and gives the vendor\'s message, never the answer itself', () => {
    const [name, pw] = parse([
      '  - { variable: db_name, pattern: "[a-z][a-z0-9_]*", pattern_message: "must start with a letter and hold only a-z, 0-9 and _" }',
      '  - { variable: pw, type: password, pattern: ".*[0-9].*" }',
    ].join('\n')).questions;
    assert.deepEqual(checkValue(name, 'shop_1').errors, []);
    assert.deepEqual(checkValue(name, 'shop-1').errors, ['must start with a letter and hold only a-z, 0-9 and _']);
    assert.deepEqual(checkValue(name, 'x shop_1').errors.length, 1, 'anchored at the start');
    assert.deepEqual(checkValue(name, 'shop_1 x').errors.length, 1, 'anchored at the end');
    const wrong = checkValue(pw, 'no-digits-here').errors;
    assert.deepEqual(wrong, ['must match the pattern ".*[0-9].*"']);
    assert.ok(!wrong.join().includes('no-digits-here'));
  });

  it('a pattern that backtracks exponentially elsewhere answers at once on a long input (RE2 is linear)', () => {
    const [q] = parse('  - { variable: v, type: multiline, pattern: "(a+)+$" }').questions;
    assert.deepEqual(checkValue(q, `${'a'.repeat(50_000)}!`).errors, ['must match the pattern "(a+)+$"']);
    assert.deepEqual(checkValue(q, 'a'.repeat(50_000)).errors, []);
  });
});
