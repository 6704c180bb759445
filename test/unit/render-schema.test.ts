import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, nearest, parsePath, validateCompose } from '../../catalog/schema.ts';
import { renderVersion } from '../../catalog/render.ts';
import { ValidationError, type Problem } from '../../lib/errors.ts';
import type { Template, TemplateVersion } from '../../catalog/types.ts';

const FILE = 'templates/t/0/docker-compose.yml.hbs';

function renderFails(source: string): ValidationError {
  const version: TemplateVersion = { folder: '0', version: '1.0.0', questions: [], compose: { file: FILE, kind: 'handlebars', source } };
  const template: Template = { name: 't', dir: 'templates/t', config: { name: 't', description: 't' }, versions: [version] };
  try {
    renderVersion({ template, version, catalogRoot: '/catalog', values: {}, context: { stack: 'demo', template: { name: 't', version: '1.0.0' } } });
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  return assert.fail('the render should have failed');
}

const only = (problems: Problem[], field: string): Problem => {
  const found = problems.filter((p) => p.field === field);
  assert.equal(found.length, 1, `one problem at ${field}, got ${JSON.stringify(problems)}`);
  return found[0];
};

describe('schema validation', () => {
  test('a valid document has no problems', () => {
    assert.deepEqual(validateCompose({ services: { web: { image: 'nginx', ports: ['80:80'], deploy: { replicas: 2 } } } }, FILE), []);
  });

  test('an unknown key names the service and suggests the nearest key', () => {
    const p = only(validateCompose({ services: { web: { imgae: 'nginx' } } }, FILE), 'services.web.imgae');
    assert.equal(p.message, 'unknown key "imgae" in service "web" (did you mean "image"?)');
    assert.equal(p.file, FILE);
  });

  test('unknown keys deeper down and at the top level', () => {
    const problems = validateCompose({ services: { web: { image: 'x', deploy: { replica: 2 } } }, volume: {} }, FILE);
    assert.equal(only(problems, 'services.web.deploy.replica').message, 'unknown key "replica" in "deploy" of service "web" (did you mean "replicas"?)');
    assert.equal(only(problems, 'volume').message, 'unknown key "volume" at the top level (did you mean "volumes"?)');
  });

  test('no suggestion when nothing is close', () => {
    assert.equal(only(validateCompose({ services: { web: { image: 'x', zzzzzz: 1 } } }, FILE), 'services.web.zzzzzz').message, 'unknown key "zzzzzz" in service "web"');
  });

  test('oneOf noise collapses to one problem per path', () => {
    const problems = validateCompose({ services: { web: { image: 'x', command: 5, networks: { front: { aliasess: ['a'] } }, ports: [[1]] } } }, FILE);
    assert.equal(problems.length, 3, JSON.stringify(problems));
    assert.equal(only(problems, 'services.web.command').message, 'service "web": command must be null, a string or a list, got 5');
    assert.match(only(problems, 'services.web.networks.front.aliasess').message, /unknown key "aliasess" in "networks.front" of service "web" \(did you mean "aliases"\?\)/);
    assert.match(only(problems, 'services.web.ports[0]').message, /service "web": ports\[0\] must be a number, a string or a mapping/);
  });

  test('a value of the right shape failing deeper reports only the deeper problem', () => {
    const problems = validateCompose({ services: { web: { image: 'x', depends_on: { db: { condition: 'ready' } }, environment: { A: [1] } } } }, FILE);
    assert.deepEqual(problems.map((p) => p.field).sort(), ['services.web.depends_on.db.condition', 'services.web.environment.A']);
    assert.match(only(problems, 'services.web.depends_on.db.condition').message, /must be one of "service_started", .*got "ready"/);
  });

  test('services must exist and hold at least one service', () => {
    assert.equal(only(validateCompose({}, FILE), 'services').message, 'the document defines no services; a stack needs at least one');
    assert.equal(validateCompose({ services: {} }, FILE).length, 1);
    assert.equal(only(validateCompose({ services: null }, FILE), 'services').message, 'services must be a mapping, got null');
  });

  test('every service needs an image; build is refused', () => {
    const problems = validateCompose({ services: { a: { command: 'x' }, b: { build: '.' }, c: { build: '.', image: 'x' } } }, FILE);
    assert.equal(only(problems, 'services.a.image').message, 'service "a" has no image');
    assert.match(only(problems, 'services.b.build').message, /^service "b": "build" is not supported: Berth deploys images and never builds them/);
    assert.ok(only(problems, 'services.c.build'));
    assert.equal(problems.length, 3);
  });

  test('an invalid service name', () => {
    assert.match(only(validateCompose({ services: { 'my web': { image: 'x' } } }, FILE), 'services["my web"]').message, /invalid name "my web"/);
  });
});

describe('paths and lines', () => {
  test('formatPath and parsePath round-trip, quoting keys with dots', () => {
    const path = ['services', 'web', 'labels', 'com.example.x', 0, 'a b'];
    assert.equal(formatPath(path), 'services.web.labels["com.example.x"][0]["a b"]');
    assert.deepEqual(parsePath(formatPath(path)), path);
  });

  test('nearest counts a swap of neighbours as one edit', () => {
    assert.equal(nearest('imgae', ['image', 'init']), 'image');
    assert.equal(nearest('xyz', ['image']), undefined);
  });

  test('rendered problems carry the line of the offending key', () => {
    const err = renderFails('services:\n  web:\n    image: nginx\n    ports:\n      - "80:80"\n      - [1]\n    restrat: always\n');
    assert.equal(err.code, 'COMPOSE_INVALID');
    assert.equal(only(err.problems, 'services.web.ports[1]').line, 6);
    const typo = only(err.problems, 'services.web.restrat');
    assert.equal(typo.line, 7);
    assert.equal(typo.file, FILE);
    assert.equal(typo.message, 'unknown key "restrat" in service "web" (did you mean "restart"?)');
  });

  test('a missing image points at the service', () => {
    const err = renderFails('services:\n  web:\n    user: x\n  db:\n    user: y\n');
    assert.deepEqual(err.problems.map((p) => [p.field, p.line]), [['services.web.image', 2], ['services.db.image', 4]]);
  });
});
