import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { checkAnswers, checkAnswersOrThrow, secretVariables } from '../../catalog/answers.ts';
import type { Question } from '../../catalog/types.ts';
import { ValidationError } from '../../lib/errors.ts';

function q(variable: string, extra: Partial<Question> = {}): Question {
  return { variable, label: variable, type: 'string', required: false, ...extra };
}

/** The messages for one variable; fails when there are none only if the caller asserts on them. */
function messages(questions: Question[], answers: Record<string, unknown>, variable: string): string[] {
  return checkAnswers(questions, answers).problems.filter((p) => p.field === variable).map((p) => p.message);
}

function value(question: Question, answer: unknown): unknown {
  const { values, problems } = checkAnswers([question], { [question.variable]: answer });
  assert.deepEqual(problems, [], `expected no problems for ${JSON.stringify(answer)}`);
  return values[question.variable];
}

function rejects(question: Question, answer: unknown, fragment: string): void {
  const found = messages([question], { [question.variable]: answer }, question.variable);
  assert.equal(found.length, 1, `expected one problem for ${JSON.stringify(answer)}, got ${JSON.stringify(found)}`);
  assert.match(found[0], new RegExp(fragment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
}

describe('checkAnswers: int', () => {
  const port = q('http_port', { type: 'int' });
  it('accepts a number and a numeric string alike', () => {
    assert.equal(value(port, 8080), 8080);
    assert.equal(value(port, '8080'), 8080);
    assert.equal(value(port, '-3'), -3);
  });
  it('rejects text, fractions, hex, exponents and whitespace', () => {
    rejects(port, '80a', 'must be an integer, got "80a"');
    for (const bad of ['8080.5', '0x10', '1e3', ' 8080 ', 8080.5, true]) rejects(port, bad, 'must be an integer');
  });
  it('applies min and max', () => {
    const bounded = q('port', { type: 'int', min: 1, max: 65535 });
    rejects(bounded, 0, 'must be at least 1, got 0');
    rejects(bounded, '70000', 'must be at most 65535, got 70000');
    assert.equal(value(bounded, 65535), 65535);
  });
});

describe('checkAnswers: float, boolean, enum', () => {
  it('float accepts numbers and numeric strings, with bounds', () => {
    const ratio = q('ratio', { type: 'float', min: 0, max: 1 });
    assert.equal(value(ratio, 0.5), 0.5);
    assert.equal(value(ratio, '0.25'), 0.25);
    rejects(ratio, 'half', 'must be a number, got "half"');
    rejects(ratio, '1.5', 'must be at most 1');
  });
  it('boolean accepts YAML true and the strings "true"/"FALSE" but not yes', () => {
    const tls = q('tls', { type: 'boolean' });
    const fromYaml = parse('a: true\nb: "true"\nc: FALSE\nd: yes') as Record<string, unknown>;
    assert.equal(value(tls, fromYaml.a), true);
    assert.equal(value(tls, fromYaml.b), true);
    assert.equal(value(tls, fromYaml.c), false);
    rejects(tls, fromYaml.d, 'must be true or false, got "yes"');
    rejects(tls, 1, 'must be true or false');
  });
  it('enum compares as strings, so YAML 3 matches option "3"', () => {
    const size = q('size', { type: 'enum', options: ['1', '3', 'large'] });
    assert.equal(value(size, 3), '3');
    assert.equal(value(size, 'large'), 'large');
    rejects(size, 'huge', 'must be one of "1", "3", "large", got "huge"');
  });
});

describe('checkAnswers: text types', () => {
  it('turns numbers and booleans given to a string question into text', () => {
    const fromYaml = parse('port: 80\nflag: true') as Record<string, unknown>;
    assert.equal(value(q('port'), fromYaml.port), '80');
    assert.equal(value(q('flag'), fromYaml.flag), 'true');
  });
  it('applies min_length, max_length, valid_chars and invalid_chars', () => {
    rejects(q('name', { min_length: 3 }), 'ab', 'must be at least 3 characters long, got 2');
    rejects(q('name', { max_length: 3 }), 'abcd', 'must be at most 3 characters long, got 4');
    rejects(q('name', { valid_chars: 'abc' }), 'abxd', 'may only contain the characters "abc"; remove "xd"');
    rejects(q('name', { invalid_chars: '$%' }), 'a$b', 'must not contain any of the characters "$%"; remove "$"');
    assert.equal(value(q('name', { valid_chars: 'abc', min_length: 2, max_length: 3 }), 'cab'), 'cab');
  });
  it('rejects line breaks except in multiline, certificate and secret questions', () => {
    for (const type of ['string', 'password', 'hostname'] as const) rejects(q('v', { type }), 'a\nb', 'must be a single line');
    assert.equal(value(q('v', { type: 'multiline' }), 'a\nb'), 'a\nb');
    assert.equal(value(q('v', { type: 'secret' }), 'a\nb'), 'a\nb');
  });
  it('date accepts YYYY-MM-DD calendar dates and Date objects', () => {
    const day = q('day', { type: 'date' });
    assert.equal(value(day, '2024-02-29'), '2024-02-29');
    assert.equal(value(day, new Date('2024-03-01T00:00:00Z')), '2024-03-01');
    rejects(day, '2023-02-29', 'must be a date written YYYY-MM-DD');
    rejects(day, '2024-1-5', 'must be a date written YYYY-MM-DD');
  });
  it('hostname follows RFC 1123', () => {
    const host = q('host', { type: 'hostname' });
    assert.equal(value(host, 'a-1.example.com'), 'a-1.example.com');
    for (const bad of ['-a.com', 'a-.com', 'a..com', '*.example.com', 'a_b.com', `${'a'.repeat(64)}.com`, `${'a.'.repeat(127)}ab`]) {
      rejects(host, bad, 'must be a hostname');
    }
  });
  it('certificate needs a PEM block', () => {
    const cert = q('cert', { type: 'certificate' });
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    assert.equal(value(cert, pem), pem);
    rejects(cert, 'MIIB', 'must be a PEM block');
    rejects(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----', 'must be a PEM block');
  });
  it('service is SERVICE or STACK/SERVICE', () => {
    const svc = q('db', { type: 'service' });
    assert.equal(value(svc, 'db'), 'db');
    assert.equal(value(svc, 'shop/db-1'), 'shop/db-1');
    for (const bad of ['a/b/c', '/db', '-db', 'db name']) rejects(svc, bad, 'must be a service name or STACK/SERVICE');
  });
});

describe('checkAnswers: values, defaults and required', () => {
  const questions = [
    q('port', { type: 'int', default: 8080 }),
    q('tls', { type: 'boolean', default: false }),
    q('note'),
    q('title', { required: true }),
  ];
  it('gives every variable a value: answer, else default, else null', () => {
    const { values } = checkAnswers(questions, { title: 'Hi', port: '9090' });
    assert.deepEqual(values, { port: 9090, tls: false, note: null, title: 'Hi' });
  });
  it('coerces defaults written as strings', () => {
    assert.deepEqual(checkAnswers([q('port', { type: 'int', default: '80' })], {}).values, { port: 80 });
  });
  it('treats YAML null as no answer', () => {
    assert.deepEqual(checkAnswers(questions, { title: 'x', note: null, port: null }).values, { port: 8080, tls: false, note: null, title: 'x' });
  });
  it('reports a missing or empty required answer', () => {
    assert.match(messages(questions, {}, 'title')[0], /is required/);
    assert.match(messages(questions, { title: '' }, 'title')[0], /is required/);
  });
  it('does not require a question hidden by show_if, but keeps its value', () => {
    const qs = [q('tls', { type: 'boolean', default: false }), q('cert', { type: 'certificate', required: true, show_if: 'tls' }),
      q('mode', { type: 'enum', options: ['a', 'b'], default: 'a' }), q('b_key', { required: true, show_if: 'mode=b && tls=false' })];
    assert.deepEqual(checkAnswers(qs, {}).problems, []);
    assert.deepEqual(checkAnswers(qs, { tls: true }).problems.map((p) => p.field), ['cert']);
    assert.deepEqual(checkAnswers(qs, { mode: 'b' }).problems.map((p) => p.field), ['b_key']);
    assert.equal(checkAnswers(qs, { b_key: 'k' }).values.b_key, 'k');
  });
});

describe('checkAnswers: unknown answers and reporting', () => {
  const questions = [q('http_port', { type: 'int' }), q('admin_password', { type: 'password', min_length: 12, invalid_chars: '"' })];
  it('names unknown answers and suggests a close variable', () => {
    const { problems } = checkAnswers(questions, { http_prot: 1, HTTP_PORT: 2, colour: 'red' });
    assert.deepEqual(problems.map((p) => p.field), ['http_prot', 'HTTP_PORT', 'colour']);
    assert.match(problems[0].message, /did you mean "http_port"\?/);
    assert.match(problems[1].message, /did you mean "http_port"\?/);
    assert.doesNotMatch(problems[2].message, /did you mean/);
    assert.match(problems[2].message, /the questions are http_port, admin_password/);
  });
  it('reports every problem at once', () => {
    const { problems } = checkAnswers([...questions, q('site', { required: true })], { http_port: 'x', admin_password: 'short', extra: 1 });
    assert.deepEqual(problems.map((p) => p.field), ['http_port', 'admin_password', 'site', 'extra']);
  });
  it('never puts a password or secret value in a message', () => {
    const secret = 'hunter"2-secret';
    const all = [
      ...checkAnswers(questions, { admin_password: 'xyz"' }).problems,
      ...checkAnswers([q('token', { type: 'secret', valid_chars: 'abc' })], { token: secret }).problems,
      ...checkAnswers([q('pw', { type: 'password' })], { pw: 'line1\nline2' }).problems,
      ...checkAnswers([q('pw', { type: 'password' })], { pw: ['hunter2'] }).problems,
    ];
    assert.equal(all.length, 5);
    for (const p of all) {
      for (const leaked of ['xyz"', secret, 'hunter', 'line1', 'remove']) assert.ok(!p.message.includes(leaked), `leaked "${leaked}" in: ${p.message}`);
    }
    assert.match(all[4].message, /must be a single value/);
    assert.match(checkAnswers([q('pw', { type: 'password' })], { pw: 'line1\nline2' }).problems[0].message, /got a value of 11 characters/);
    assert.match(checkAnswers(questions, { admin_password: 'xyz"' }).problems[0].message, /got 4/);
  });
  it('checkAnswersOrThrow summarises the count and carries the problems', () => {
    assert.throws(() => checkAnswersOrThrow(questions, { http_port: 'x', admin_password: 'short' }, 'web@1.0.0'), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.code, 'ANSWERS_INVALID');
      assert.match(e.message, /^2 answers are wrong for web@1\.0\.0:/);
      assert.equal(e.problems.length, 2);
      return true;
    });
    assert.deepEqual(checkAnswersOrThrow(questions, { http_port: 1, admin_password: 'long-enough-pw' }, 'web@1'), { http_port: 1, admin_password: 'long-enough-pw' });
  });
  it('secretVariables lists password and secret questions', () => {
    assert.deepEqual(secretVariables([...questions, q('token', { type: 'secret' }), q('cert', { type: 'certificate' })]), ['admin_password', 'token']);
  });
});
