import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from 'yaml';
import { renderVersion, type RenderResult } from '../../catalog/render.ts';
import { renderHandlebars, handlebarsContext } from '../../catalog/handlebars.ts';
import { fillPlaceholders } from '../../catalog/placeholders.ts';
import { RANGE_LIMIT } from '../../catalog/helpers.ts';
import { ValidationError } from '../../lib/errors.ts';
import type { Answers, Template, TemplateVersion } from '../../catalog/types.ts';

const FILE = 'templates/t/0/docker-compose.yml.hbs';

interface Opts { questions?: string[]; stack?: string; previous?: string }

function fixture(source: string, opts: Opts = {}): { template: Template; version: TemplateVersion } {
  const version: TemplateVersion = {
    folder: '0',
    version: '1.0.0',
    questions: (opts.questions ?? []).map((variable) => ({ variable, label: variable, type: 'string', required: false })),
    compose: { file: FILE, kind: 'handlebars', source },
  };
  return { version, template: { name: 't', dir: 'templates/t', config: { name: 't', description: 't' }, versions: [version] } };
}

function render(source: string, values: Answers = {}, opts: Opts = {}): RenderResult {
  const { template, version } = fixture(source, opts);
  const context = { stack: opts.stack ?? 'demo', template: { name: 't', version: '1.0.0' }, ...(opts.previous ? { previous: { version: opts.previous } } : {}) };
  return renderVersion({ template, version, catalogRoot: '/catalog', values, context });
}

function fails(source: string, values: Answers = {}, opts: Opts = {}): ValidationError {
  try {
    render(source, values, opts);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`);
    return err;
  }
  return assert.fail('the render should have failed');
}

/** Renders, parses and fills, returning the plain data: for checking values without the compose schema. */
function data(source: string, values: Answers = {}): unknown {
  const out = renderHandlebars(source, FILE, handlebarsContext(values, [], { stack: 'demo', template: { name: 't', version: '1' } }));
  const doc = parseDocument(out.text);
  assert.deepEqual(fillPlaceholders(doc, out, FILE, () => undefined), []);
  return doc.toJS();
}

const web = (body: string): string => `services:\n  web:\n    image: nginx\n${body}`;

describe('handlebars context', () => {
  test('answers, stack, template and previous (null on a first install)', () => {
    const out = data('a: {{x}}\ns: {{stack}}\nt: {{template.name}}@{{template.version}}\np: {{#if previous}}up{{else}}fresh{{/if}}\nb: {{berth.stack}}\n', { x: 'y' });
    assert.deepEqual(out, { a: 'y', s: 'demo', t: 't@1', p: 'fresh', b: 'demo' });
  });

  test('an upgrade sees previous.version', () => {
    const r = render(web('    labels:\n      from: "{{#if previous}}{{previous.version}}{{else}}none{{/if}}"\n'), {}, { previous: '0.9.0' });
    assert.equal(r.model.services.web.labels.from, '0.9.0');
    assert.equal(render(web('    labels:\n      from: "{{#if previous}}{{previous.version}}{{else}}none{{/if}}"\n')).model.services.web.labels.from, 'none');
  });

  test('an answer named like a context name wins at the top level; berth.* stays the context', () => {
    assert.deepEqual(data('a: {{stack}}\nb: {{berth.stack}}\n', { stack: 'mine' }), { a: 'mine', b: 'demo' });
    const unanswered = handlebarsContext({}, [{ variable: 'stack', label: 's', type: 'string', required: false }], { stack: 'demo', template: { name: 't', version: '1' } });
    assert.equal(unanswered.stack, 'demo');
  });

  test('an answer named berth is refused', () => {
    const err = fails(web(''), { berth: 'x' });
    assert.equal(err.code, 'RENDER_FAILED');
    assert.equal(err.problems[0].field, 'berth');
  });

  test('an unanswered question is null, so strict lookups of it pass', () => {
    const r = render(web('{{#if opt}}\n    user: nobody\n{{/if}}\n'), {}, { questions: ['opt'] });
    assert.equal(r.model.services.web.user, undefined);
  });
});

describe('strictness and errors', () => {
  test('an unknown variable names file, line and variable', () => {
    const err = fails(web('    user: {{usr}}\n'));
    assert.equal(err.code, 'RENDER_FAILED');
    assert.deepEqual(err.problems, [{ file: FILE, line: 4, field: 'usr', message: 'unknown variable "usr"' }]);
  });

  test('unknown variables in helper arguments and conditions are errors too', () => {
    assert.equal(fails(web('{{#if enable_tsl}}\n{{/if}}\n'), { enable_tls: true }).problems[0].field, 'enable_tsl');
    assert.equal(fails(web('    user: {{default usr "x"}}\n')).problems[0].field, 'usr');
  });

  test('an unknown helper is an error with its line', () => {
    const err = fails(web('    user: {{shout name}}\n'), { name: 'x' });
    assert.equal(err.code, 'RENDER_FAILED');
    assert.equal(err.problems[0].line, 4);
    assert.match(err.problems[0].message, /unknown helper "shout"/);
  });

  test('a syntax error names its line', () => {
    const err = fails(web('    user: {{default x=}}\n    tty: true\n'), { x: true });
    assert.equal(err.code, 'RENDER_FAILED');
    assert.match(err.problems[0].message, /template syntax error/);
    assert.equal(err.problems[0].file, FILE);
    assert.equal(err.problems[0].line, 4);
  });

  test('a mismatched block names its line', () => {
    const err = fails(web('{{#if x}}\n{{/each}}\n'), { x: true });
    assert.equal(err.problems[0].line, 4);
  });

  test('partials are refused', () => {
    const err = fails(web('{{> other}}\n'));
    assert.match(err.problems[0].message, /partials are not supported/);
    assert.equal(err.problems[0].line, 4);
  });

  test('a list or object emitted through a mustache is an error naming the line', () => {
    const err = fails(web('    command: {{split args " "}}\n'), { args: 'a b' });
    assert.equal(err.problems[0].line, 4);
    assert.match(err.problems[0].message, /produces a list.*\{\{#each\}\}/);
  });

  test('helper errors carry their line', () => {
    const err = fails(web('\n    user: "{{#each (range 1 5000)}}x{{/each}}"\n'));
    assert.equal(err.problems[0].line, 5);
    assert.match(err.problems[0].message, new RegExp(`range: .*more than ${RANGE_LIMIT}`));
  });

  test('the log helper is gone', () => {
    assert.match(fails(web('{{log "x" 1}}\n')).problems[0].message, /unknown helper "log"/);
  });
});

describe('helpers', () => {
  test('comparisons and logic, options hash ignored', () => {
    const out = data(
      'eq: {{eq a 80}}\nne: {{ne a "81"}}\nnot: {{not b}}\nand: {{and a b}}\nor: {{or b b a}}\ngt: {{gt a 79}}\nlt: {{lt a "79"}}\n',
      { a: '80', b: false },
    );
    assert.deepEqual(out, { eq: true, ne: true, not: true, and: false, or: true, gt: true, lt: false });
  });

  test('default, contains, join, split, toInt, lower, upper, trim', () => {
    const out = data(
      [
        'd1: {{default missing 80}}', 'd2: {{default empty "fb"}}', 'd3: {{default zero 5}}',
        'c1: {{contains list "b"}}', 'c2: {{contains list "z"}}', 'c3: {{contains (split list ",") "c"}}',
        'j: {{join (split csv ",") "+"}}', 'i: {{toInt "42abc"}}', 'l: {{lower "AbC"}}', 'u: {{upper "AbC"}}', 't: "{{trim "  x  "}}"', '',
      ].join('\n'),
      { missing: null, empty: '', zero: 0, list: 'a, b,c', csv: 'a,b,c' },
    );
    assert.deepEqual(out, { d1: 80, d2: 'fb', d3: 0, c1: true, c2: false, c3: true, j: 'a+b+c', i: 42, l: 'abc', u: 'ABC', t: 'x' });
  });

  test('range is inclusive and drives #each', () => {
    assert.deepEqual(data('xs:\n{{#each (range 2 4)}}\n  - {{this}}\n{{/each}}\n'), { xs: [2, 3, 4] });
    assert.deepEqual(data('xs: [{{#each (range 3 1)}}{{this}}{{/each}}]\n'), { xs: [] });
  });

  test('quote makes the value a string even where it would be a number', () => {
    assert.deepEqual(data('a: {{quote n}}\nb: {{n}}\n', { n: 8080 }), { a: '8080', b: 8080 });
  });

  test('#each over range generates services', () => {
    const r = render('services:\n{{#each (range 1 n)}}\n  web{{this}}:\n    image: nginx\n{{/each}}\n', { n: 3 });
    assert.deepEqual(Object.keys(r.model.services), ['web1', 'web2', 'web3']);
  });
});

describe('typing and placement of values', () => {
  test('a placeholder alone in a plain scalar keeps its type; elsewhere it is text', () => {
    const out = data('n: {{n}}\nb: {{b}}\nz: {{z}}\ns: {{s}}\nq: "{{n}}"\nlong: x-{{n}}-{{z}}\n', { n: 3, b: true, z: null, s: '123' });
    assert.deepEqual(out, { n: 3, b: true, z: null, s: '123', q: '3', long: 'x-3-' });
  });

  test('a placeholder in a key is replaced by text', () => {
    assert.deepEqual(data('{{k}}: 1\npre-{{k}}: 2\n', { k: 'name' }), { name: 1, 'pre-name': 2 });
  });

  test('keys that collide once filled are reported', () => {
    const out = renderHandlebars('{{a}}: 1\n{{b}}: 2\n', FILE, { a: 'x', b: 'x' });
    const doc = parseDocument(out.text);
    const problems = fillPlaceholders(doc, out, FILE, () => 2);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].field, 'x');
  });

  test('a key that becomes << is not a merge key', () => {
    assert.deepEqual(data('m:\n  {{k}}: {a: 1}\n', { k: '<<' }), { m: { '<<': { a: 1 } } });
  });

  test('a placeholder in a comment vanishes', () => {
    assert.deepEqual(data('a: 1 # {{secret}}\n', { secret: 'x' }), { a: 1 });
  });

  test('triple-stash is routed like double-stash: no YAML injection', () => {
    assert.deepEqual(data('a: {{{v}}}\n', { v: 'x\nb: 2' }), { a: 'x\nb: 2' });
  });

  test('HTML escaping never applies', () => {
    assert.deepEqual(data('a: {{v}}\n', { v: '<&>"\'' }), { a: '<&>"\'' });
  });
});

describe('whitespace control', () => {
  test('a standalone {{#if}} block inside an indented mapping leaves no blank line or indentation damage', () => {
    const source = 'services:\n  web:\n    environment:\n      A: "1"\n      {{#if extra}}\n      B: "2"\n      {{/if}}\n      C: "3"\n';
    const on = renderHandlebars(source, FILE, { extra: true }).text;
    const off = renderHandlebars(source, FILE, { extra: false }).text;
    assert.equal(on, 'services:\n  web:\n    environment:\n      A: "1"\n      B: "2"\n      C: "3"\n');
    assert.equal(off, 'services:\n  web:\n    environment:\n      A: "1"\n      C: "3"\n');
  });

  test('~ strips whitespace as in Handlebars', () => {
    const r = render('services:\n  web:\n    image: nginx\n    {{~#if tag}}:{{tag}}{{/if}}\n', { tag: '1.27' });
    assert.equal(r.model.services.web.image, 'nginx:1.27');
  });
});

describe('lines', () => {
  test('a YAML error is reported at its template line, after a block that expanded', () => {
    const source = 'services:\n  web:\n    image: nginx\n    environment:\n{{#each (range 1 4)}}\n      V{{this}}: x\n{{/each}}\n    labels: a: b\n    user: x\n';
    const err = fails(source);
    assert.equal(err.code, 'YAML_INVALID');
    assert.equal(err.problems[0].file, FILE);
    assert.equal(err.problems[0].line, 8);
    assert.match(err.problems[0].message, /\(line 9 of the rendered output\)$/);
  });

  test('a schema problem after stripped lines is reported at its template line', () => {
    const source = 'services:\n  web:\n{{#if x}}\n    user: a\n{{/if}}\n    imgae: nginx\n';
    const err = fails(source, { x: false });
    assert.equal(err.code, 'COMPOSE_INVALID');
    const problem = err.problems.find((p) => p.field === 'services.web.imgae');
    assert.ok(problem);
    assert.equal(problem.line, 6);
    assert.equal(problem.file, FILE);
  });
});

test('a lookup through null says how to guard it', () => {
  const err = fails(web('    user: {{previous.version}}\n'));
  assert.equal(err.code, 'RENDER_FAILED');
  assert.equal(err.problems[0].line, 4);
  assert.match(fails(web('{{#if previous.version}}\n{{/if}}\n')).problems[0].message, /cannot look up "version"/);
  assert.match(err.problems[0].message, /cannot look up "version" in a value that is null; guard it with \{\{#if/);
});

test('a tagged placeholder is refused unless the tag is !!str', () => {
  assert.deepEqual(data('a: !!str {{n}}\n', { n: 5 }), { a: '5' });
  const out = renderHandlebars('x: 1\na: !!int {{n}}\n', FILE, { n: 5 });
  const problems = fillPlaceholders(parseDocument(out.text), out, FILE, () => undefined);
  assert.deepEqual(problems, [{ file: FILE, line: 2, message: 'a value from an answer cannot carry the tag tag:yaml.org,2002:int' }]);
});
