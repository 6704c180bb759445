// The confinement rule and the bounded YAML parser: what a hostile catalog or environment file cannot make Berth do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfineError, readConfined } from '../../lib/confine.ts';
import { parseBounded, boundedToJS } from '../../lib/yaml-bounded.ts';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-confine-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

async function refused(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ConfineError, `expected a ConfineError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, message);
}

test('a file inside the root is read; a missing one is undefined', async () => {
  const root = tree({ 'a/b.txt': 'hello' });
  assert.equal(await readConfined(root, 'a/b.txt'), 'hello');
  assert.equal(await readConfined(root, 'a/none.txt'), undefined);
});

test('absolute paths and ../ outside the root are refused without reading them', async () => {
  const root = tree({ 'x.txt': 'x' });
  await refused(readConfined(root, '/etc/passwd', { rootName: 'environment' }), 'PATH_OUTSIDE_ROOT', /^\/etc\/passwd: is an absolute path outside the environment folder/);
  await refused(readConfined(root, '/proc/self/environ'), 'PATH_OUTSIDE_ROOT', /absolute path outside/);
  await refused(readConfined(root, '../../etc/passwd'), 'PATH_OUTSIDE_ROOT', /leaves the root folder/);
  await refused(readConfined(root, 'sub/../../x'), 'PATH_OUTSIDE_ROOT', /leaves/);
});

test('a symlink leaving the root is refused and its target never appears; one inside is followed', async () => {
  const outside = tree({ 'key.txt': 'AGE-SECRET-KEY-1SECRETSECRET' });
  const root = tree({ 'shared/README.md': 'notes' });
  symlinkSync(path.join(outside, 'key.txt'), path.join(root, 'README.md'));
  symlinkSync('/proc/self/environ', path.join(root, 'environ'));
  symlinkSync('shared/README.md', path.join(root, 'inside.md'));
  symlinkSync('loop', path.join(root, 'loop'));
  const err = await readConfined(root, 'README.md', { rootName: 'catalog' }).then(() => undefined, (e: Error) => e);
  assert.ok(err instanceof ConfineError);
  assert.match(err.message, /^README\.md: is a symlink to a place outside the catalog folder/);
  assert.doesNotMatch(`${err.message} ${err.hint} ${JSON.stringify(err)}`, /SECRET|key\.txt|berth-confine/);
  await refused(readConfined(root, 'environ'), 'PATH_OUTSIDE_ROOT', /symlink to a place outside/);
  await refused(readConfined(root, 'loop'), 'PATH_OUTSIDE_ROOT', /symlink loop/);
  assert.equal(await readConfined(root, 'inside.md'), 'notes');
});

test('files over the size limit and non-files are refused', async () => {
  const root = tree({ 'big.yml': 'x'.repeat(2000), 'dir/f': '' });
  await refused(readConfined(root, 'big.yml', { maxBytes: 1000 }), 'FILE_TOO_LARGE', /^big\.yml: is larger than the limit of 1000 bytes/);
  assert.equal((await readConfined(root, 'big.yml', { maxBytes: 2000 }))?.length, 2000);
  await refused(readConfined(root, 'dir'), 'FILE_NOT_REGULAR', /not a regular file/);
});

test('YAML: an alias bomb, deep nesting and self-reference are errors naming the file and line', () => {
  let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
  for (let i = 0; i < 9; i++) bomb += `b${i}: &b${i} [${Array(10).fill(i ? `*b${i - 1}` : '*a').join(', ')}]\n`;
  const started = Date.now();
  const b = parseBounded(bomb, 'stacks/bomb.yml');
  assert.match(`${b.problems[0].file}:${b.problems[0].line}: ${b.problems[0].message}`, /^stacks\/bomb\.yml:\d+: expands to more than 100000 values/);
  const deep = parseBounded(`a: ${'['.repeat(5000)}${']'.repeat(5000)}`, 'berth.yml');
  assert.deepEqual(deep.problems, [{ file: 'berth.yml', line: 1, message: 'nests deeper than 100 levels; flatten the document' }]);
  const hidden = parseBounded(`a: don't\nb: ${'{'.repeat(500)}`, 'x.yml');
  assert.equal(hidden.problems[0].line, 2);
  const block = parseBounded(Array.from({ length: 500 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'), 'x.yml');
  assert.match(block.problems[0].message, /nests deeper/);
  assert.match(parseBounded('a: &a [*a]', 'x.yml').problems[0].message, /refers to itself/);
  assert.ok(Date.now() - started < 5000, 'bounded checks are fast');
});

test('YAML: merge keys reused by many services pass: the expanded size is bounded, not the alias count', () => {
  const services = Array.from({ length: 300 }, (_, i) => `  s${i}:\n    <<: *defaults\n    image: img${i}`).join('\n');
  const r = parseBounded(`x-defaults: &defaults\n  restart: always\n  labels: { a: b }\nservices:\n${services}\n`, 'docker-compose.yml', { merge: true });
  assert.deepEqual(r.problems, []);
  const data = boundedToJS(r.doc!) as { services: Record<string, { restart: string; image: string }> };
  assert.equal(Object.keys(data.services).length, 300);
  assert.equal(data.services.s299.restart, 'always');
});

test('YAML: duplicate keys are found in linear time and located', () => {
  const r = parseBounded('a: 1\nb: 2\na: 3\n', 'x.yml');
  assert.deepEqual(r.problems, [{ file: 'x.yml', line: 3, message: 'the key "a" appears twice in the same map; keep one' }]);
  const many = Array.from({ length: 20000 }, (_, i) => `k${i}: v`).join('\n');
  assert.deepEqual(parseBounded(many, 'x.yml').problems, []);
});
