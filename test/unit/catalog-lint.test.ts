import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { checkAnswers } from '../../catalog/answers.ts';
import { lintCatalog, sampleValue } from '../../catalog/lint.ts';
import { loadCatalogOrThrow } from '../../catalog/load.ts';
import { renderStack } from '../../catalog/stack.ts';
import { QUESTION_TYPES, type Question } from '../../catalog/types.ts';
import { BerthError, ValidationError } from '../../lib/errors.ts';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function makeCatalog(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-lint-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  return root;
}

const WEB_BERTH = [
  'version: 1.0.0',
  'questions:',
  '  - {variable: domain, type: hostname, required: true}',
  '  - {variable: port, type: int, default: 8080, min: 1, max: 65535}',
  '  - {variable: admin_password, type: password, required: true, min_length: 16}',
].join('\n');

const WEB_COMPOSE = [
  'services:',
  '  web:',
  '    image: nginx:1.27',
  '    ports: ["{{port}}:80"]',
  '    labels:',
  '      domain: "{{domain}}"',
  '      stack: "{{stack}}"',
  '      from: "{{#if previous}}{{previous.version}}{{else}}none{{/if}}"',
  '',
].join('\n');

const GOOD = {
  'templates/web/config.yml': 'name: Web\ndescription: d\n',
  'templates/web/0/berth.yml': WEB_BERTH,
  'templates/web/0/docker-compose.yml.hbs': WEB_COMPOSE,
  'templates/web/1/berth.yml': 'version: 2.0.0\nminimum_berth_version: 99.0.0\n',
  'templates/web/1/docker-compose.yml': 'services:\n  web:\n    image: nginx\n',
};

describe('sampleValue', () => {
  it('gives a value every question type accepts, within its rules', () => {
    const questions: Question[] = QUESTION_TYPES.map((type) => ({
      variable: `v_${type}`, label: type, type, required: true,
      ...(type === 'enum' ? { options: ['b', 'a'] } : {}),
      ...(type === 'int' ? { min: 1024 } : {}),
      ...(type === 'password' ? { min_length: 20, valid_chars: 'xyz' } : {}),
      ...(type === 'string' ? { max_length: 3 } : {}),
    }));
    const answers = Object.fromEntries(questions.map((q) => [q.variable, sampleValue(q)]));
    assert.deepEqual(checkAnswers(questions, answers).problems, []);
    assert.equal(answers.v_int, 1024);
    assert.equal(answers.v_enum, 'b');
  });
});

describe('lintCatalog', () => {
  it('renders every version with defaults and sample answers', async () => {
    const root = await makeCatalog(GOOD);
    const { problems, checked } = await lintCatalog(root);
    assert.deepEqual(problems, []);
    assert.deepEqual(checked, [{ template: 'web', version: '1.0.0' }, { template: 'web', version: '2.0.0' }]);
  });

  it('collects render problems and loader problems without stopping', async () => {
    const root = await makeCatalog({
      ...GOOD,
      'templates/web/config.yml': 'name: Web\ndescription: d\nversion: 3.0.0\n',
      'templates/bad/config.yml': 'name: Bad\ndescription: d\n',
      'templates/bad/0/berth.yml': 'questions: []\n',
      'templates/bad/0/docker-compose.yml.hbs': 'services:\n  web:\n    image: [\n',
    });
    const { problems, checked } = await lintCatalog(root);
    assert.ok(problems.some((p) => p.file === 'templates/web/config.yml' && p.field === 'version'), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.file?.startsWith('templates/bad/0/')), JSON.stringify(problems));
    assert.equal(checked.length, 3);
  });
});

describe('renderStack', () => {
  it('resolves, checks the answers and renders with the stack context', async () => {
    const catalog = await loadCatalogOrThrow(await makeCatalog(GOOD));
    const result = renderStack(catalog, { ref: 'web', stack: 'shop', answers: { domain: 'shop.example.com', admin_password: 'a-long-password-1' }, previousVersion: '0.9.0' });
    assert.equal(result.version.version, '1.0.0');
    assert.deepEqual(result.values, { domain: 'shop.example.com', port: 8080, admin_password: 'a-long-password-1' });
    assert.deepEqual(result.model.services.web.labels, { domain: 'shop.example.com', stack: 'shop', from: '0.9.0' });
    assert.match(result.yaml, /shop\.example\.com/);
  });

  it('refuses bad stack names, wrong answers and versions needing a newer Berth', async () => {
    const catalog = await loadCatalogOrThrow(await makeCatalog(GOOD));
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof BerthError ? e.code : String(e);
      }
      return 'no error';
    };
    const answers = { domain: 'a.example.com', admin_password: 'a-long-password-1' };
    assert.equal(code(() => renderStack(catalog, { ref: 'web', stack: 'Shop', answers })), 'STACK_NAME_INVALID');
    assert.equal(code(() => renderStack(catalog, { ref: 'web@2.0.0', stack: 'shop', answers: {} })), 'VERSION_UNSUPPORTED');
    assert.equal(code(() => renderStack(catalog, { ref: 'webb', stack: 'shop', answers })), 'TEMPLATE_NOT_FOUND');
    assert.throws(() => renderStack(catalog, { ref: 'web', stack: 'shop', answers: { domain: '-bad', admin_password: 'short', port: 'x' } }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.code, 'ANSWERS_INVALID');
      assert.match(e.message, /^3 answers are wrong for web@1\.0\.0:/);
      assert.ok(!e.message.includes('short'));
      return true;
    });
  });
});
