import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate, InterpolationError, interpolationVariables } from '../../catalog/interpolate.ts';
import { renderVersion } from '../../catalog/render.ts';
import { ValidationError } from '../../lib/errors.ts';
import type { Answers, Template, TemplateVersion } from '../../catalog/types.ts';

const FILE = 'templates/t/0/docker-compose.yml';

function vars(values: Answers, questions: string[] = [], previous?: string) {
  const qs = questions.map((variable) => ({ variable, label: variable, type: 'string' as const, required: false }));
  return interpolationVariables(values, qs, { stack: 'demo', template: { name: 't', version: '2.0.0' }, ...(previous ? { previous: { version: previous } } : {}) });
}

function render(source: string, values: Answers = {}, questions: string[] = []) {
  const version: TemplateVersion = {
    folder: '0', version: '1.0.0', compose: { file: FILE, kind: 'interpolate', source },
    questions: questions.map((variable) => ({ variable, label: variable, type: 'string', required: false })),
  };
  const template: Template = { name: 't', dir: 'templates/t', config: { name: 't', description: 't' }, versions: [version] };
  return renderVersion({ template, version, catalogRoot: '/catalog', values, context: { stack: 'demo', template: { name: 't', version: '1.0.0' } } });
}

function fails(source: string, values: Answers = {}, questions: string[] = []): ValidationError {
  try {
    render(source, values, questions);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  return assert.fail('the render should have failed');
}

function throwsInterpolation(text: string, v: ReturnType<typeof vars>, pattern: RegExp): void {
  assert.throws(() => interpolate(text, v), (err: unknown) => err instanceof InterpolationError && pattern.test(err.message));
}

describe('interpolation forms', () => {
  const v = vars({ SET: 'x', EMPTY: '', NUM: 8080, NULLED: null }, ['UNSET']);

  test('$VAR, ${VAR} and $$', () => {
    assert.equal(interpolate('a $SET b ${SET}c $$SET $${SET} 100$$', v), 'a x b xc $SET ${SET} 100$');
    assert.equal(interpolate('port $NUM', v), 'port 8080');
  });

  test(':- and - defaults', () => {
    assert.equal(interpolate('${SET:-d}|${EMPTY:-d}|${UNSET:-d}|${NULLED:-d}', v), 'x|d|d|d');
    assert.equal(interpolate('${SET-d}|${EMPTY-d}|${UNSET-d}|${NULLED-d}', v), 'x||d|d');
  });

  test(':+ and + alternatives', () => {
    assert.equal(interpolate('${SET:+a}|${EMPTY:+a}|${UNSET:+a}', v), 'a||');
    assert.equal(interpolate('${SET+a}|${EMPTY+a}|${UNSET+a}', v), 'a|a|');
  });

  test('nested defaults', () => {
    assert.equal(interpolate('${UNSET:-${SET}}', v), 'x');
    assert.equal(interpolate('${UNSET:-${EMPTY:-${NUM}}-z}', v), '8080-z');
    assert.equal(interpolate('${UNSET:-a$${b}}', v), 'a${b}');
  });

  test(':? and ? fail with the message and the variable', () => {
    throwsInterpolation('${EMPTY:?give it}', v, /variable "EMPTY" is empty or not set: give it/);
    throwsInterpolation('${UNSET?needed}', v, /variable "UNSET" is not set: needed/);
    assert.equal(interpolate('${EMPTY?needed}', v), '');
    assert.equal(interpolate('${SET:?x}', v), 'x');
  });

  test('an unknown variable is an error unless a default form is used', () => {
    throwsInterpolation('$NOPE', v, /unknown variable "NOPE"/);
    throwsInterpolation('${NOPE}', v, /unknown variable "NOPE"/);
    assert.equal(interpolate('${NOPE:-d}|${NOPE-e}|${NOPE:+f}', v), 'd|e|');
  });

  test('a known but unset variable is empty', () => {
    assert.equal(interpolate('[${UNSET}]', v), '[]');
  });

  test('bad syntax', () => {
    throwsInterpolation('${', v, /variable name must follow/);
    throwsInterpolation('${ SET}', v, /variable name must follow/);
    throwsInterpolation('${SET', v, /followed by the end of the text/);
    throwsInterpolation('${SET:-x', v, /no closing/);
    throwsInterpolation('${SET!}', v, /expected "}"/);
    throwsInterpolation('cost: $5', v, /write \$\$ for a literal dollar/);
  });

  test('${…} nests at most 100 levels, whatever the values, and a deeper nesting is an error, not a crash', () => {
    const nest = (n: number, inner: string) => '${UNSET:-'.repeat(n) + inner + '}'.repeat(n);
    assert.equal(interpolate(nest(100, 'ok'), v), 'ok');
    throwsInterpolation(nest(101, 'ok'), v, /nests \$\{…\} deeper than 100 levels/);
    // SET has a value, so the default is never interpolated: the bound holds on the text itself.
    throwsInterpolation('${SET:-' + nest(5000, 'x') + '}', v, /deeper than 100 levels/);
    throwsInterpolation('a $$ ' + nest(5000, 'x'), v, /deeper than 100 levels/);
  });

  test('context variables, answers winning a clash', () => {
    const c = vars({ BERTH_STACK: 'mine' }, [], '1.0.0');
    assert.equal(interpolate('$BERTH_STACK $BERTH_TEMPLATE $BERTH_TEMPLATE_VERSION $BERTH_PREVIOUS_VERSION', c), 'mine t 2.0.0 1.0.0');
    assert.equal(interpolate('[${BERTH_PREVIOUS_VERSION-none}]', vars({})), '[none]');
  });
});

describe('interpolating a compose document', () => {
  const source = 'services:\n  web:\n    image: nginx:${TAG:-1.27}\n    environment:\n      MSG: $MSG\n      $KEY: kept\n    deploy:\n      replicas: ${N}\n';

  test('values are interpolated after parsing; keys are not', () => {
    const r = render(source, { MSG: 'a: b\n  evil: 1', N: 3, KEY: 'x' });
    const web = r.model.services.web;
    assert.equal(web.image, 'nginx:1.27');
    assert.deepEqual(web.environment, { MSG: 'a: b\n  evil: 1', $KEY: 'kept' });
    assert.equal(web.deploy.replicas, 3);
  });

  test('errors name file, line and variable', () => {
    const err = fails(source.replace('$MSG', '${MSGG}'), { N: 1 }, ['MSG']);
    assert.equal(err.code, 'RENDER_FAILED');
    assert.deepEqual(err.problems, [{ file: FILE, line: 5, field: 'services.web.environment.MSG', message: 'unknown variable "MSGG"' }]);
  });

  test(':? errors carry the line and message', () => {
    const err = fails('services:\n  web:\n    image: ${IMAGE:?choose an image}\n', {}, ['IMAGE']);
    assert.deepEqual(err.problems, [{ file: FILE, line: 3, field: 'services.web.image', message: 'variable "IMAGE" is empty or not set: choose an image' }]);
  });

  test('a 5 000-deep ${…} nesting names file, line and field', () => {
    const deep = '${X:-'.repeat(5000) + 'x' + '}'.repeat(5000);
    const err = fails(`services:\n  web:\n    image: nginx\n    command: "${deep}"\n`, {}, ['X']);
    assert.deepEqual(err.problems, [{ file: FILE, line: 4, field: 'services.web.command', message: '"${X" nests ${…} deeper than 100 levels; flatten the expression' }]);
  });

  test('every problem is reported at once', () => {
    const err = fails('services:\n  web:\n    image: $A\n    user: ${B\n');
    assert.deepEqual(err.problems.map((p) => p.line), [3, 4]);
  });

  test('a $ in a Handlebars-free document that is not a variable must be doubled', () => {
    const r = render('services:\n  web:\n    image: nginx\n    command: ["sh", "-c", "echo $$HOME"]\n');
    assert.deepEqual(r.model.services.web.command, ['sh', '-c', 'echo $HOME']);
  });
});
