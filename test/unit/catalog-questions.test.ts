import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuestions } from '../../catalog/questions.ts';
import { isShown, parseShowIf } from '../../catalog/show-if.ts';
import { parseYamlFile } from '../../catalog/yaml-file.ts';
import type { Problem } from '../../lib/errors.ts';

const FILE = 'templates/web/1/berth.yml';

function parse(text: string) {
  const { yaml, problems } = parseYamlFile(text, FILE);
  assert.deepEqual(problems, []);
  return parseQuestions(yaml!, (yaml!.data as { questions: unknown }).questions);
}

function only(problems: Problem[], field: string): Problem {
  const found = problems.filter((p) => p.field === field);
  assert.equal(found.length, 1, `expected one problem at ${field}, got ${JSON.stringify(problems)}`);
  assert.equal(found[0].file, FILE);
  return found[0];
}

describe('parseQuestions', () => {
  it('fills in label, type and required, and turns YAML numbers in options into strings', () => {
    const { questions, problems } = parse('questions:\n  - variable: size\n    type: enum\n    options: [1, 3, large]\n    default: 3\n  - variable: name\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(questions, [
      { variable: 'size', label: 'size', type: 'enum', required: false, options: ['1', '3', 'large'], default: '3' },
      { variable: 'name', label: 'name', type: 'string', required: false },
    ]);
  });

  it('keeps YAML int, bool and null defaults as their types', () => {
    const { questions, problems } = parse('questions:\n  - {variable: port, type: int, default: 8080}\n  - {variable: tls, type: boolean, default: true}\n  - {variable: note, default: null}\n  - {variable: code, default: 42}\n');
    assert.deepEqual(problems, []);
    assert.deepEqual(questions.map((q) => q.default), [8080, true, undefined, '42']);
  });

  it('refuses numbers that would lose their written form as text', () => {
    const { questions, problems } = parse('questions:\n  - {variable: v, default: 1.10}\n  - {variable: e, type: enum, options: [1.0, "2.0"]}\n  - {variable: f, type: float, default: 1.10}\n');
    assert.match(only(problems, 'questions.v.default').message, /YAML reads 1\.10 as the number 1\.1; put it in quotes/);
    assert.match(only(problems, 'questions.e.options').message, /YAML reads 1\.0 as the number 1/);
    assert.equal(problems.length, 2);
    assert.equal(questions[2].default, 1.1);
  });

  it('reports a default that breaks its own question at the default line', () => {
    const { problems } = parse([
      'questions:',
      '  - variable: http_port',
      '    type: int',
      '    default: "80a"',
      '  - variable: mode',
      '    type: enum',
      '    options: [a, b]',
      '    default: c',
      '  - variable: name',
      '    max_length: 3',
      '    default: toolong',
    ].join('\n'));
    assert.equal(problems.length, 3);
    const port = only(problems, 'questions.http_port.default');
    assert.equal(port.line, 4);
    assert.match(port.message, /must be an integer, got "80a"/);
    assert.equal(only(problems, 'questions.mode.default').line, 8);
    assert.equal(only(problems, 'questions.name.default').line, 11);
  });

  it('reports bad variables, duplicates, unknown fields and unknown types with suggestions', () => {
    const { questions, problems } = parse([
      'questions:',
      '  - variable: 1port',
      '  - label: no variable',
      '  - variable: name',
      '    lable: Name',
      '    type: strng',
      '  - variable: name',
    ].join('\n'));
    assert.deepEqual(questions.map((q) => q.variable), ['name']);
    assert.equal(only(problems, 'questions[0].variable').line, 2);
    assert.equal(only(problems, 'questions[1].variable').line, 3);
    const unknown = only(problems, 'questions.name.lable');
    assert.equal(unknown.line, 5);
    assert.match(unknown.message, /is not a known key; did you mean "label"\?/);
    assert.match(only(problems, 'questions.name.type').message, /did you mean "string"\?/);
    assert.equal(only(problems, 'questions.name.variable').line, 7);
  });

  it('checks options, bounds and field types', () => {
    const { problems } = parse([
      'questions:',
      '  - {variable: a, type: enum}',
      '  - {variable: b, type: enum, options: []}',
      '  - {variable: c, options: [x]}',
      '  - {variable: d, type: int, min: 5, max: 1}',
      '  - {variable: e, type: int, min_length: 2}',
      '  - {variable: f, required: "yes", max_length: -1}',
    ].join('\n'));
    assert.match(only(problems, 'questions.a.options').message, /needs a non-empty list of options/);
    assert.match(only(problems, 'questions.b.options').message, /at least one option/);
    assert.match(only(problems, 'questions.c.options').message, /only enum questions have options/);
    assert.match(only(problems, 'questions.d.min').message, /greater than max/);
    assert.match(only(problems, 'questions.e.min_length').message, /only text questions/);
    assert.match(only(problems, 'questions.f.required').message, /must be true or false/);
    assert.equal(only(problems, 'questions.f.max_length').line, 7);
  });

  it('checks show_if against the version\'s questions', () => {
    const { problems } = parse([
      'questions:',
      '  - {variable: tls, type: boolean}',
      '  - {variable: mode, type: enum, options: [a, b]}',
      '  - {variable: cert, show_if: tsl}',
      '  - {variable: key, show_if: "mode=c"}',
      '  - {variable: x, show_if: "mode"}',
      '  - {variable: y, show_if: "tls=yes && mode=a"}',
      '  - {variable: z, show_if: "tls && mode=a"}',
      '  - {variable: w, show_if: "= 3"}',
    ].join('\n'));
    const cert = only(problems, 'questions.cert.show_if');
    assert.equal(cert.line, 4);
    assert.match(cert.message, /refers to "tsl", which is no question of this version/);
    assert.match(only(problems, 'questions.key.show_if').message, /"c" is not an option of mode/);
    assert.match(only(problems, 'questions.x.show_if').message, /mode is a question of type enum/);
    assert.match(only(problems, 'questions.y.show_if').message, /compare it with true or false/);
    assert.match(only(problems, 'questions.w.show_if').message, /is not a condition/);
    assert.equal(problems.filter((p) => p.field === 'questions.z.show_if').length, 0);
  });
});

describe('show_if', () => {
  it('parses conditions joined with &&', () => {
    assert.deepEqual(parseShowIf('tls && mode = b'), { conditions: [{ variable: 'tls' }, { variable: 'mode', value: 'b' }] });
  });
  it('a bare variable needs boolean true; VAR=VALUE compares text', () => {
    assert.equal(isShown({ show_if: 'tls' }, { tls: true }), true);
    assert.equal(isShown({ show_if: 'tls' }, { tls: 'true' }), false);
    assert.equal(isShown({ show_if: 'port=80' }, { port: 80 }), true);
    assert.equal(isShown({ show_if: 'port=80 && tls=false' }, { port: 80, tls: true }), false);
    assert.equal(isShown({}, {}), true);
  });
});
