// Every reader of YAML that someone else wrote — the ledger branch, stack files read for upgrade merge requests,
// the console and `berth secret encrypt`, `--answers FILE`, a Rancher catalog being imported — goes through the
// bounded parser: an alias bomb or a deep nesting is an error naming the file and line, fast, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { recordFromYaml } from '../../ledger/record.ts';
import { yamlToModel } from '../../catalog/compose-yaml.ts';
import { editStackFile, parseStackText } from '../../upgrades/content.ts';
import { encryptAnswerInFile, parseStackFile } from '../../lib/secrets.ts';
import { parseStackDocument } from '../../console/stack-file.ts';
import { readAnswersFile } from '../../cli/options.ts';
import { importRancher } from '../../importers/rancher/import.ts';
import { BerthError, formatProblem, ValidationError } from '../../lib/errors.ts';
import { writeTree } from './import-rancher-fixtures.ts';
import { aliasBomb, DEEP, DEEP_BLOCK } from './hostile-fixtures.ts';

/** Runs `fn`, which must fail within a second with an error naming `file`; returns the whole error text. */
async function refusedNaming(fn: () => unknown, file: string, reason: RegExp): Promise<string> {
  const started = Date.now();
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof BerthError, `expected a BerthError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  assert.notEqual(err.kind, 'internal');
  const problems = err instanceof ValidationError ? err.problems : ((err.data.problems as never[]) ?? []);
  const text = [err.message, ...problems.map(formatProblem)].join('\n');
  assert.ok(text.includes(file), `the error names ${file}: ${text}`);
  assert.match(text, reason);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  return text;
}

const BOMB = /alias bomb|expands to more than/;
const TOO_DEEP = /nests deeper than 100 levels/;

test('the ledger: deploy.yml and the pinned compose file', async () => {
  const file = 'stacks/shop/deploy.yml';
  await refusedNaming(() => recordFromYaml(`stack: shop\ntemplate: t\nhosts: {}\n${aliasBomb()}`, file), file, BOMB);
  await refusedNaming(() => recordFromYaml(`stack: shop\ntemplate: t\nhosts: {}\n${DEEP}`, file), `${file}:4`, TOO_DEEP);
  const compose = 'ledger:stacks/shop/compose.yml';
  await refusedNaming(() => yamlToModel(`services: {}\nx-${aliasBomb('x-')}`, 'shop', compose), compose, BOMB);
  await refusedNaming(() => yamlToModel(`services: {}\n${DEEP_BLOCK}`, 'shop', compose), compose, TOO_DEEP);
  // A record that reads well still does.
  assert.equal(recordFromYaml('stack: shop\ntemplate: t\nversion: 1\nhosts: {}\n', file).stack, 'shop');
});

test('stack files read for upgrade merge requests, by the console and by berth secret encrypt', async () => {
  const file = 'stacks/shop.yml';
  const bomb = `template: t\nversion: 1\nanswers:\n  ${aliasBomb().trimEnd().split('\n').join('\n  ')}\n`;
  await refusedNaming(() => parseStackText('shop', file, bomb), file, BOMB);
  await refusedNaming(() => parseStackText('shop', file, `template: t\nversion: 1\n${DEEP}`), `${file}:3`, TOO_DEEP);
  await refusedNaming(() => editStackFile(bomb, '2', {}, file), file, BOMB);
  await refusedNaming(() => parseStackDocument(bomb, file), file, BOMB);
  await refusedNaming(() => parseStackFile(`template: t\n${DEEP_BLOCK}`, file), file, TOO_DEEP);
  await refusedNaming(() => encryptAnswerInFile(bomb, 'pw', 'x', [], file), file, BOMB);
  await refusedNaming(() => parseStackText('shop', file, 'template: t\ntemplate: u\nversion: 1\n'), `${file}:2`, /appears twice/);
  assert.equal(parseStackText('shop', file, 'template: t\nversion: 1\nanswers: { a: 1 }\n').answers.a, 1);
});

test('--answers FILE: bounded in size, aliases and nesting', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-answers-'));
  try {
    const file = (name: string, text: string) => writeFile(path.join(dir, name), text).then(() => path.join(dir, name));
    const bomb = await file('bomb.yml', aliasBomb());
    await refusedNaming(() => readAnswersFile(bomb), bomb, BOMB);
    const deep = await file('deep.yml', DEEP);
    await refusedNaming(() => readAnswersFile(deep), `${deep}:1`, TOO_DEEP);
    // 50 MB never finished parsing before; it is refused after reading one chunk past the limit.
    const huge = await file('huge.yml', `a: ${'x'.repeat(50 * 1024 * 1024)}\n`);
    await refusedNaming(() => readAnswersFile(huge), huge, /larger than the limit of 1 MiB/);
    assert.deepEqual(await readAnswersFile(await file('ok.yml', 'http_port: 8080\n')), { http_port: 8080 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a Rancher catalog being imported: a bomb in config.yml or rancher-compose.yml skips that template or version, naming the file', async () => {
  const src = await writeTree({
    'templates/bomb/config.yml': `name: bomb\n${aliasBomb()}`,
    'templates/deep/config.yml': 'name: deep\n',
    'templates/deep/0/docker-compose.yml': 'services:\n  web:\n    image: nginx\n',
    'templates/deep/0/rancher-compose.yml': `.catalog:\n  version: 1.0.0\n${DEEP}`,
  });
  const dest = await mkdtemp(path.join(tmpdir(), 'berth-rancher-bounded-'));
  try {
    const started = Date.now();
    const report = await importRancher({ src, dest });
    assert.ok(Date.now() - started < 5000);
    const bomb = report.templates.find((t) => t.name === 'bomb')!;
    assert.match(bomb.findings[0].message, /skipped: .*templates\/bomb\/config\.yml.*(alias bomb|expands to more than)/);
    const deep = report.templates.find((t) => t.name === 'deep')!;
    assert.equal(deep.versions[0].outcome, 'skipped');
    assert.match(`${deep.versions[0].reason}`, /templates\/deep\/0\/rancher-compose\.yml.*nests deeper than 100 levels/);
    assert.equal(await readFile(path.join(dest, 'templates/bomb/config.yml'), 'utf8').catch(() => 'absent'), 'absent');
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});
