// `__proto__`, `constructor` and `prototype` as a question's variable, an answer, a stack file key, an environment
// variable, a label, an env file line or a --set key: never a lost value, never a polluted prototype, always
// an error naming the file (and line) or a value kept as written.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseQuestions } from '../../catalog/questions.ts';
import { parseYamlFile } from '../../catalog/yaml-file.ts';
import { checkAnswers } from '../../catalog/answers.ts';
import { renderVersion } from '../../catalog/render.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import { parseEnvFile } from '../../engines/standalone/desired.ts';
import { collectSet, readAnswersFile } from '../../cli/options.ts';
import { convertQuestion } from '../../importers/rancher/questions.ts';
import { Findings, ImportError } from '../../importers/rancher/report-types.ts';
import { ValidationError, formatProblem } from '../../lib/errors.ts';
import type { Question, Template, TemplateVersion } from '../../catalog/types.ts';

const NAMES = ['__proto__', 'constructor', 'prototype'];

afterEach(() => {
  // Whatever a test fed in, no object gained a property through its prototype.
  for (const probe of [{}, Object.create(Object.prototype), []]) {
    assert.equal((probe as Record<string, unknown>).polluted, undefined);
    assert.equal((probe as Record<string, unknown>).isAdmin, undefined);
  }
  assert.equal(typeof Object.prototype.toString, 'function');
});

test('a question whose variable is __proto__, constructor or prototype is refused with its file and line', () => {
  const FILE = 'templates/web/1/berth.yml';
  const text = `questions:\n${NAMES.map((n) => `  - variable: ${n}\n`).join('')}  - variable: ok\n`;
  const { yaml, problems: parseProblems } = parseYamlFile(text, FILE);
  assert.deepEqual(parseProblems, []);
  const { questions, problems } = parseQuestions(yaml!, (yaml!.data as { questions: unknown }).questions);
  assert.deepEqual(questions.map((q) => q.variable), ['ok']);
  assert.deepEqual(problems.map(formatProblem), NAMES.map((n, i) => `${FILE}:${2 + i}: questions[${i}].variable: "${n}" is reserved (every JavaScript object has it); choose another variable name`));
});

test('answers under those names are "not a question", never silently lost or read through the prototype', () => {
  const q = (variable: string): Question => ({ variable, label: variable, type: 'string', required: false });
  const given = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "c", "prototype": "p", "name": "n"}') as Record<string, unknown>;
  const { values, problems } = checkAnswers([q('name'), q('other')], given);
  assert.deepEqual(values, { name: 'n', other: null });
  assert.deepEqual(problems.map((p) => p.field).sort(), ['__proto__', 'constructor', 'prototype']);
  assert.ok(problems.every((p) => /is not a question of this version/.test(p.message)));
  // No answer given: a question's value is never what every object inherits.
  assert.deepEqual(checkAnswers([q('name')], {}).values, { name: null });
  // --set: a key of that name becomes an own answer, so it is reported rather than lost.
  const set = collectSet('__proto__={"polluted":1}', collectSet('constructor=x'));
  assert.deepEqual(Object.keys(set).sort(), ['__proto__', 'constructor']);
  assert.deepEqual(checkAnswers([q('name')], set).problems.map((p) => p.field).sort(), ['__proto__', 'constructor']);
});

test('a __proto__ key in a stack file or answers file is an error naming the file and line', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-proto-'));
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
    return path.join(root, rel);
  };
  write('env/berth.yml', 'catalogs:\n  - name: main\n    path: ../catalog\nhosts:\n  - name: a\n    endpoint: unix:///var/run/docker.sock\n');
  write('catalog/templates/.keep', '');
  write('env/stacks/evil.yml', 'template: t\nversion: 1\nanswers:\n  name: x\n  __proto__:\n    polluted: 1\n');
  write('env/stacks/good.yml', 'template: t\nversion: 1\nanswers:\n  constructor: c\n');
  const env = await loadEnvironment(path.join(root, 'env'));
  const evil = env.stacks.find((s) => s.name === 'evil')!;
  assert.ok(evil.invalid instanceof ValidationError);
  assert.deepEqual(evil.invalid.problems.map(formatProblem), ['stacks/evil.yml:5: "__proto__" cannot be a key (JavaScript reads it as an object\'s prototype); rename it']);
  const good = env.stacks.find((s) => s.name === 'good')!;
  assert.equal(good.invalid, undefined);
  assert.ok(Object.hasOwn(good.answers, 'constructor'));
  const answers = write('answers.yml', 'a: 1\n__proto__: { isAdmin: true }\n');
  const err = await readAnswersFile(answers).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ValidationError);
  assert.deepEqual(err.problems.map(formatProblem), [`${answers}:2: "__proto__" cannot be a key (JavaScript reads it as an object's prototype); rename it`]);
});

function render(source: string) {
  const FILE = 'templates/t/0/docker-compose.yml';
  const version: TemplateVersion = { folder: '0', version: '1.0.0', questions: [], compose: { file: FILE, kind: 'interpolate', source } };
  const template: Template = { name: 't', dir: 'templates/t', config: { name: 't', description: 't' }, versions: [version] };
  return renderVersion({ template, version, catalogRoot: '/catalog', values: {}, context: { stack: 'demo', template: { name: 't', version: '1.0.0' } } });
}

function renderFails(source: string): string[] {
  try {
    render(source);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.problems.map(formatProblem);
  }
  return assert.fail('the render should have failed');
}

test('compose maps: constructor and prototype are kept as written; __proto__ is refused in map and list form', () => {
  const web = render('services:\n  web:\n    image: nginx\n    environment:\n      constructor: c\n      prototype: p\n    labels: [constructor=l]\n    sysctls:\n      prototype: "1"\n').model.services.web;
  assert.deepEqual(web.environment, { constructor: 'c', prototype: 'p' });
  assert.ok(Object.hasOwn(web.labels, 'constructor'));
  assert.deepEqual({ ...web.labels }, { constructor: 'l' });
  assert.deepEqual({ ...web.sysctls }, { prototype: '1' });
  const FILE = 'templates/t/0/docker-compose.yml';
  assert.deepEqual(renderFails('services:\n  web:\n    image: nginx\n    environment:\n      __proto__: { polluted: 1 }\n'),
    [`${FILE}:5: "__proto__" cannot be a key (JavaScript reads it as an object's prototype); rename it`]);
  assert.deepEqual(renderFails('services:\n  web:\n    image: nginx\n    labels:\n      __proto__: x\nx-a: &a\n  __proto__: y\n'),
    [`${FILE}:7: "__proto__" cannot be a key (JavaScript reads it as an object's prototype); rename it`, `${FILE}:5: "__proto__" cannot be a key (JavaScript reads it as an object's prototype); rename it`]);
  const list = renderFails('services:\n  web:\n    image: nginx\n    environment: ["__proto__=x", "A=1"]\n    labels: ["__proto__"]\n');
  assert.equal(list.length, 2);
  assert.match(list[0], /:4: services\.web\.environment: service "web": environment: "__proto__" cannot be a name/);
  assert.match(list[1], /:5: services\.web\.labels: service "web": labels: "__proto__" cannot be a name/);
});

test('env files: __proto__ is a problem with its line; a bare name reads only the allowed variables, never inherited ones', () => {
  const problems: string[] = [];
  const vars = parseEnvFile('A=1\n__proto__={"polluted":1}\nconstructor\ntoString\nprototype=p\nALLOWED\n', { ALLOWED: 'yes' }, problems);
  assert.deepEqual(vars, { A: '1', prototype: 'p', ALLOWED: 'yes' });
  assert.deepEqual(problems, ['line 2: "__proto__" cannot be a name (JavaScript reads it as an object\'s prototype); rename it']);
});

test('a Rancher question named __proto__ or constructor is not imported', () => {
  for (const name of NAMES) {
    assert.throws(() => convertQuestion({ variable: name, type: 'string' }, 0, new Findings('rc.yml')), (e: unknown) => e instanceof ImportError && e.message.includes(`"${name}" is reserved`));
  }
});
