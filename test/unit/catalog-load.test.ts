import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { compareVersions, isSupported, loadCatalog, loadCatalogOrThrow } from '../../catalog/load.ts';
import { resolveTemplate } from '../../catalog/resolve.ts';
import type { Catalog } from '../../catalog/types.ts';
import { BerthError, ValidationError, type Problem } from '../../lib/errors.ts';

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A temporary catalog root holding `files` (paths relative to it). */
async function makeCatalog(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-catalog-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  return root;
}

const CONFIG = 'name: Web\ndescription: A web server.\n';
const COMPOSE = 'services:\n  web:\n    image: nginx\n';

function version(folder: string, berth = 'questions: []\n', compose: Record<string, string> = { 'docker-compose.yml.hbs': COMPOSE }): Record<string, string> {
  const files: Record<string, string> = { [`templates/web/${folder}/berth.yml`]: berth };
  for (const [name, text] of Object.entries(compose)) files[`templates/web/${folder}/${name}`] = text;
  return files;
}

function at(problems: Problem[], file: string, field?: string): Problem {
  const found = problems.filter((p) => p.file === file && (field === undefined || p.field === field));
  assert.equal(found.length, 1, `expected one problem at ${file} ${field ?? ''}, got ${JSON.stringify(problems, null, 1)}`);
  return found[0];
}

describe('loadCatalog', () => {
  it('loads templates, versions, metadata, readme, icon and release notes', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': `${CONFIG}version: "2.0"\nlabels:\n  tier: web\n`,
      'templates/web/README.md': '# Web',
      'templates/web/catalogIcon-web.svg': '<svg/>',
      ...version('0', 'version: "1.0"\nquestions:\n  - variable: port\n    type: int\n    default: 80\n'),
      ...version('1', 'version: "2.0"\nupgrade_from: ">=1.0.0"\n', { 'docker-compose.yml': COMPOSE }),
      'templates/web/1/README.md': 'notes',
      'templates/web/assets/x.txt': 'not a version',
    });
    const { catalog, problems } = await loadCatalog(root);
    assert.deepEqual(problems, []);
    assert.equal(catalog.root, root);
    const web = catalog.templates.get('web')!;
    assert.equal(web.dir, 'templates/web');
    assert.equal(web.icon, 'templates/web/catalogIcon-web.svg');
    assert.equal(web.readme, '# Web');
    assert.deepEqual(web.config, { name: 'Web', description: 'A web server.', version: '2.0', labels: { tier: 'web' } });
    assert.deepEqual(web.versions.map((v) => [v.folder, v.version, v.compose.kind, v.compose.file]), [
      ['0', '1.0', 'handlebars', 'templates/web/0/docker-compose.yml.hbs'],
      ['1', '2.0', 'interpolate', 'templates/web/1/docker-compose.yml'],
    ]);
    assert.equal(web.versions[0].questions[0].default, 80);
    assert.equal(web.versions[1].releaseNotes, 'notes');
    assert.equal(web.versions[1].upgrade_from, '>=1.0.0');
  });

  it('accepts the templates/ folder itself, keeping paths relative to the catalog root', async () => {
    const root = await makeCatalog({ 'templates/web/config.yml': CONFIG, ...version('0') });
    const { catalog, problems } = await loadCatalog(path.join(root, 'templates'));
    assert.deepEqual(problems, []);
    assert.equal(catalog.root, root);
    assert.equal(catalog.templates.get('web')!.dir, 'templates/web');
  });

  it('throws CATALOG_NOT_FOUND for a missing folder or one without templates', async () => {
    const empty = await makeCatalog({ 'other.txt': '' });
    for (const where of [path.join(empty, 'nope'), empty]) {
      await assert.rejects(loadCatalog(where), (e: unknown) => e instanceof BerthError && e.code === 'CATALOG_NOT_FOUND' && e.hint !== undefined);
    }
  });

  it('points broken YAML at its line and still loads the other versions', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': CONFIG,
      ...version('0', 'questions:\n  - variable: a\n    default: [oops\n'),
      ...version('1'),
    });
    const { catalog, problems } = await loadCatalog(root);
    const broken = problems.filter((p) => p.file === 'templates/web/0/berth.yml');
    assert.ok(broken.length >= 1);
    assert.ok(broken.every((p) => p.line !== undefined && p.line >= 3), JSON.stringify(broken));
    assert.match(broken[0].message, /is not valid YAML/);
    assert.deepEqual(catalog.templates.get('web')!.versions.map((v) => v.folder), ['1']);
  });

  it('names unknown keys at their line, with suggestions', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': `${CONFIG}maintainr: me\n`,
      ...version('0', 'description: x\nupgrade_form: ">=1"\ncolour: red\n'),
    });
    const { problems } = await loadCatalog(root);
    const config = at(problems, 'templates/web/config.yml', 'maintainr');
    assert.equal(config.line, 3);
    assert.match(config.message, /did you mean "maintainer"\?/);
    const berth = at(problems, 'templates/web/0/berth.yml', 'upgrade_form');
    assert.equal(berth.line, 2);
    assert.match(berth.message, /did you mean "upgrade_from"\?/);
    assert.match(at(problems, 'templates/web/0/berth.yml', 'colour').message, /remove it; the keys allowed here are version, description/);
  });

  it('reports bad defaults, unknown show_if variables and bad metadata with file and line', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': 'name: Web\nversion: 1.0\n',
      ...version('0', 'upgrade_from: "not a range"\nminimum_berth_version: soon\nquestions:\n  - variable: http_port\n    type: int\n    default: http\n  - variable: cert\n    show_if: tls\n'),
    });
    const { problems } = await loadCatalog(root);
    const file = 'templates/web/0/berth.yml';
    assert.equal(at(problems, file, 'questions.http_port.default').line, 6);
    const showIf = at(problems, file, 'questions.cert.show_if');
    assert.equal(showIf.line, 8);
    assert.match(showIf.message, /"tls"/);
    assert.equal(at(problems, file, 'upgrade_from').line, 1);
    assert.equal(at(problems, file, 'minimum_berth_version').line, 2);
    assert.match(at(problems, 'templates/web/config.yml', 'description').message, /is required/);
    assert.match(at(problems, 'templates/web/config.yml', 'version').message, /put it in quotes/);
  });

  it('requires exactly one compose template and a berth.yml per version', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': CONFIG,
      ...version('0', 'questions: []\n', { 'docker-compose.yml.hbs': COMPOSE, 'docker-compose.yml': COMPOSE }),
      ...version('1', 'questions: []\n', {}),
      'templates/web/2/docker-compose.yml': COMPOSE,
      ...version('3'),
    });
    const { catalog, problems } = await loadCatalog(root);
    assert.match(at(problems, 'templates/web/0').message, /has both docker-compose\.yml\.hbs and docker-compose\.yml/);
    assert.match(at(problems, 'templates/web/1').message, /has no compose template/);
    assert.match(at(problems, 'templates/web/2').message, /has no berth\.yml/);
    assert.deepEqual(catalog.templates.get('web')!.versions.map((v) => v.folder), ['3']);
  });

  it('reports a config version that names no version, a template without config.yml, and duplicate versions', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': `${CONFIG}version: "9.9"\n`,
      ...version('0', 'version: "1.0"\n'),
      ...version('1', 'version: "1.0"\n'),
      'templates/empty/README.md': '',
    });
    const { problems } = await loadCatalog(root);
    const wrong = at(problems, 'templates/web/config.yml', 'version');
    assert.equal(wrong.line, 3);
    assert.match(wrong.message, /names version "9\.9"/);
    assert.match(at(problems, 'templates/empty').message, /has no config\.yml/);
    assert.match(at(problems, 'templates/web/1/berth.yml', 'version').message, /also the version of folder 0/);
  });

  it('loadCatalogOrThrow throws CATALOG_INVALID with every problem', async () => {
    const root = await makeCatalog({ 'templates/web/config.yml': 'name: Web\n', ...version('0', 'colour: red\n') });
    await assert.rejects(loadCatalogOrThrow(root), (e: unknown) => e instanceof ValidationError && e.code === 'CATALOG_INVALID' && e.problems.length === 2);
  });

  it('flags versions that need a newer Berth but still loads them', async () => {
    const root = await makeCatalog({ 'templates/web/config.yml': CONFIG, ...version('0'), ...version('1', 'minimum_berth_version: 99.0.0\n') });
    const { catalog, problems } = await loadCatalog(root);
    assert.deepEqual(problems, []);
    const [v0, v1] = catalog.templates.get('web')!.versions;
    assert.equal(isSupported(v0), true);
    assert.equal(isSupported(v1), false);
    assert.equal(isSupported(v1, '99.0.0'), true);
    assert.equal(resolveTemplate(catalog, 'web').version.folder, '0');
  });
});

describe('version order', () => {
  const sorted = (items: [string, string?][]) => items.map(([folder, v]) => ({ folder, version: v ?? folder })).sort(compareVersions).map((v) => v.folder);
  it('sorts revisions by number and semver folders by semver', () => {
    assert.deepEqual(sorted([['10'], ['2'], ['0']]), ['0', '2', '10']);
    assert.deepEqual(sorted([['1.10.0'], ['1.2.0'], ['1.2.0-rc.1']]), ['1.2.0-rc.1', '1.2.0', '1.10.0']);
  });
  it('sorts a mix by the versions\' own strings when they are semver', () => {
    assert.deepEqual(sorted([['1.0.0'], ['0', '0.9.0'], ['1', '1.1.0']]), ['0', '1.0.0', '1']);
  });
  it('orders loaded versions oldest to newest', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': CONFIG,
      ...version('10', 'version: 2.0.0\n'),
      ...version('9', 'version: 1.0.0\n'),
      ...version('1.2.0'),
    });
    const { catalog } = await loadCatalog(root);
    assert.deepEqual(catalog.templates.get('web')!.versions.map((v) => v.folder), ['9', '1.2.0', '10']);
  });
});

describe('resolveTemplate', () => {
  let catalog: Catalog;
  it('finds versions by version string or folder, defaulting to config.version then the newest', async () => {
    const root = await makeCatalog({
      'templates/web/config.yml': `${CONFIG}version: "1.0"\n`,
      ...version('0', 'version: "1.0"\n'),
      ...version('1', 'version: "2.0"\n'),
      'templates/db/config.yml': 'name: DB\ndescription: d\n',
      'templates/db/0/berth.yml': '{}\n',
      'templates/db/0/docker-compose.yml': COMPOSE,
      'templates/db/1/berth.yml': '{}\n',
      'templates/db/1/docker-compose.yml': COMPOSE,
    });
    ({ catalog } = await loadCatalog(root));
    assert.equal(resolveTemplate(catalog, 'web').version.folder, '0');
    assert.equal(resolveTemplate(catalog, 'web@2.0').version.folder, '1');
    assert.equal(resolveTemplate(catalog, 'web@1').version.version, '2.0');
    assert.equal(resolveTemplate(catalog, 'db').version.folder, '1');
  });
  it('names the available templates and suggests a close one', () => {
    assert.throws(() => resolveTemplate(catalog, 'wbe'), (e: unknown) => {
      assert.ok(e instanceof BerthError);
      assert.equal(e.code, 'TEMPLATE_NOT_FOUND');
      assert.match(e.message, /did you mean "web"\?/);
      assert.match(e.hint!, /db, web/);
      return true;
    });
  });
  it('lists the versions when one is unknown, and rejects malformed references', () => {
    assert.throws(() => resolveTemplate(catalog, 'web@3.0'), (e: unknown) => e instanceof BerthError && e.code === 'VERSION_NOT_FOUND' && /1\.0 \(folder 0\), 2\.0 \(folder 1\)/.test(e.hint!));
    assert.throws(() => resolveTemplate(catalog, 'web@'), (e: unknown) => e instanceof BerthError && e.code === 'TEMPLATE_REF_INVALID');
  });
});
