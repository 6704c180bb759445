/**
 * Loading a catalog folder: `templates/<name>/config.yml` and its version folders. Loading never stops at the
 * first mistake: everything that can load does, and every problem comes back located at a file and line.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { UserError, ValidationError, type Problem } from '../lib/errors.ts';
import { ConfineError, confinedKind, readConfined } from '../lib/confine.ts';
import { parseQuestions } from './questions.ts';
import { parseMigrations } from './migrations.ts';
import { berthVersion } from '../lib/version.ts';
import { describeVersions } from './resolve.ts';
import type { Catalog, ComposeKind, Template, TemplateConfig, TemplateVersion } from './types.ts';
import { MapReader, isPlainMap, kindOf, parseYamlFile, type YamlFile } from './yaml-file.ts';

export { berthVersion } from '../lib/version.ts';
export { isSupported } from './resolve.ts';

const CONFIG_KEYS = ['name', 'description', 'category', 'maintainer', 'license', 'projectURL', 'version', 'labels'] as const;
const VERSION_KEYS = ['version', 'description', 'upgrade_from', 'minimum_berth_version', 'questions', 'migrations'] as const;
const COMPOSE_FILES: [string, ComposeKind][] = [['docker-compose.yml.hbs', 'handlebars'], ['docker-compose.yml', 'interpolate']];
const ICON = /^(catalogIcon-.+|icon)\.(svg|png)$/;
const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Every catalog file is read through the confinement rule: inside the catalog root, bounded (docs/security.md). */
async function readText(root: string, file: string): Promise<string | undefined> {
  return readConfined(root, file, { rootName: 'catalog' });
}

/** The folder the operator named; trusted, unlike anything inside it. */
async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Folders of `dir`, following symlinks that stay inside `root`; a symlink that leaves it is a problem, not a
 * folder that silently isn't there.
 */
async function subdirs(root: string, dir: string, problems: Problem[] = []): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) out.push(e.name);
    else if (e.isSymbolicLink()) {
      try {
        if ((await confinedKind(root, path.join(dir, e.name), { rootName: 'catalog' })) === 'dir') out.push(e.name);
      } catch (err) {
        if (!(err instanceof ConfineError)) throw err;
        problems.push({ file: err.file, message: err.reason });
      }
    }
  }
  return out.sort();
}

/** Accepts a catalog root or its `templates/` folder; problems are always relative to the catalog root. */
async function locate(given: string): Promise<{ root: string; templatesDir: string }> {
  const abs = path.resolve(given);
  if (!(await isDir(abs))) {
    throw new UserError('CATALOG_NOT_FOUND', `no catalog folder at ${abs}`, {
      data: { path: abs },
      hint: 'Pass the folder that contains templates/<name>/config.yml (or the templates/ folder itself).',
    });
  }
  if ((await confinedKind(abs, 'templates', { rootName: 'catalog' })) === 'dir') return { root: abs, templatesDir: path.join(abs, 'templates') };
  for (const name of await subdirs(abs, abs)) {
    if ((await confinedKind(abs, path.join(name, 'config.yml')).catch(() => undefined)) === 'file') return { root: path.dirname(abs), templatesDir: abs };
  }
  throw new UserError('CATALOG_NOT_FOUND', `${abs} is not a catalog: it has no templates/ folder`, {
    data: { path: abs },
    hint: 'A catalog holds templates/<name>/config.yml with version folders beside it; create templates/ or pass the right folder.',
  });
}

function rel(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/');
}

/** `ifMissing` becomes a problem on the containing folder when the file does not exist. */
async function readYaml(root: string, abs: string, file: string, problems: Problem[], ifMissing: string): Promise<YamlFile | undefined> {
  const text = await readText(root, abs);
  if (text === undefined) {
    problems.push({ file: path.posix.dirname(file), message: ifMissing });
    return undefined;
  }
  const { yaml, problems: found } = parseYamlFile(text, file);
  problems.push(...found);
  if (yaml && !isPlainMap(yaml.data)) {
    problems.push({ file, line: 1, message: `must be a map of keys and values, got ${kindOf(yaml.data)}` });
    return undefined;
  }
  return yaml;
}

/**
 * Names, versions and descriptions reach commit messages, ledger trailers, branch names and MR titles: a control
 * character there could forge a `Berth-*` trailer or a header, so none is accepted (descriptions may break lines).
 */
function checkPlainText(r: MapReader, keys: readonly string[]): void {
  for (const key of keys) {
    const v = r.obj[key];
    if (typeof v !== 'string') continue;
    const multiline = key === 'description';
    const bad = multiline ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/ : /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
    const m = bad.exec(v);
    if (m) r.problem(key, `holds the control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}; ${multiline ? 'only line breaks and tabs are allowed' : 'write it on one line, without control characters'}`);
    if (!multiline && v.length > 200) r.problem(key, `is ${v.length} characters long; keep it under 200`);
  }
}

function parseConfig(yaml: YamlFile, folder: string, problems: Problem[]): TemplateConfig {
  const r = new MapReader(yaml, [], '', yaml.data as Record<string, unknown>, problems);
  r.unknownKeys(CONFIG_KEYS);
  checkPlainText(r, ['name', 'description', 'category', 'maintainer', 'license', 'projectURL', 'version']);
  const config: TemplateConfig = { name: r.string('name', true) ?? folder, description: r.string('description', true) ?? '' };
  for (const key of ['category', 'maintainer', 'license', 'projectURL', 'version'] as const) {
    const v = r.string(key);
    if (v !== undefined) config[key] = v;
  }
  const labels = r.stringMap('labels');
  if (labels) config.labels = labels;
  return config;
}

function parseVersionMeta(yaml: YamlFile, folder: string, problems: Problem[]) {
  const r = new MapReader(yaml, [], '', yaml.data as Record<string, unknown>, problems);
  r.unknownKeys(VERSION_KEYS);
  checkPlainText(r, ['version', 'description', 'upgrade_from', 'minimum_berth_version']);
  const meta: Omit<TemplateVersion, 'compose' | 'releaseNotes'> = { folder, version: r.string('version') ?? folder, questions: [] };
  const description = r.string('description');
  if (description !== undefined) meta.description = description;
  const range = r.string('upgrade_from');
  if (range !== undefined && !semver.validRange(range)) r.problem('upgrade_from', `"${range}" is not a semver range; write e.g. ">=1.0.0 <2.0.0" or "^1.2.0"`);
  else if (range !== undefined) meta.upgrade_from = range;
  const min = r.string('minimum_berth_version');
  if (min !== undefined && !semver.valid(min)) r.problem('minimum_berth_version', `"${min}" is not a semver version; write e.g. "${berthVersion()}"`);
  else if (min !== undefined) meta.minimum_berth_version = min;
  const { questions, problems: found } = parseQuestions(yaml, r.obj.questions);
  problems.push(...found);
  meta.questions = questions;
  const { migrations, problems: wrong } = parseMigrations(yaml, r.obj.migrations);
  problems.push(...wrong);
  if (migrations.length) meta.migrations = migrations;
  return meta;
}

async function findCompose(root: string, abs: string, dir: string, problems: Problem[]): Promise<TemplateVersion['compose'] | undefined> {
  const present: TemplateVersion['compose'][] = [];
  for (const [name, kind] of COMPOSE_FILES) {
    const source = await readText(root, path.join(abs, name));
    if (source !== undefined) present.push({ file: `${dir}/${name}`, kind, source });
  }
  if (present.length === 1) return present[0];
  const message = present.length === 0
    ? 'has no compose template; add docker-compose.yml.hbs (Handlebars) or docker-compose.yml (${VAR} interpolation)'
    : 'has both docker-compose.yml.hbs and docker-compose.yml; keep one: .hbs for Handlebars, .yml for ${VAR} interpolation';
  problems.push({ file: dir, message });
  return undefined;
}

async function loadVersion(root: string, abs: string, problems: Problem[]): Promise<TemplateVersion | undefined> {
  const dir = rel(root, abs);
  const compose = await findCompose(root, abs, dir, problems);
  const yaml = await readYaml(root, path.join(abs, 'berth.yml'), `${dir}/berth.yml`, problems, 'has no berth.yml; add one (it may be just "questions: []")');
  if (!yaml) return undefined;
  const meta = parseVersionMeta(yaml, path.basename(abs), problems);
  if (!compose) return undefined;
  const releaseNotes = await readText(root, path.join(abs, 'README.md'));
  return { ...meta, compose, ...(releaseNotes !== undefined ? { releaseNotes } : {}) };
}

export function isVersionFolder(name: string): boolean {
  return /^\d+$/.test(name) || semver.valid(name) !== null;
}

/** Revisions by number, semver folders by semver; a mix by the versions' own strings when both are semver. */
export function compareVersions(a: Pick<TemplateVersion, 'folder' | 'version'>, b: Pick<TemplateVersion, 'folder' | 'version'>): number {
  const numeric = /^\d+$/;
  if (numeric.test(a.folder) && numeric.test(b.folder)) return Number(a.folder) - Number(b.folder);
  if (semver.valid(a.folder) && semver.valid(b.folder)) return semver.compare(a.folder, b.folder);
  if (semver.valid(a.version) && semver.valid(b.version)) return semver.compare(a.version, b.version);
  return a.folder.localeCompare(b.folder, 'en', { numeric: true });
}

function checkVersions(t: Template, configYaml: YamlFile, problems: Problem[]): void {
  if (t.versions.length === 0) return;
  const seen = new Map<string, string>();
  for (const v of t.versions) {
    const other = seen.get(v.version);
    if (other !== undefined) problems.push({ file: `${t.dir}/${v.folder}/berth.yml`, field: 'version', message: `"${v.version}" is also the version of folder ${other}; versions must be distinct` });
    seen.set(v.version, v.folder);
  }
  const wanted = t.config.version;
  if (wanted !== undefined && !t.versions.some((v) => v.version === wanted || v.folder === wanted)) {
    const line = configYaml.line(['version']);
    problems.push({ file: configYaml.file, ...(line ? { line } : {}), field: 'version', message: `names version "${wanted}", which this template does not have; versions are ${describeVersions(t)}` });
  }
}

async function loadTemplate(root: string, abs: string, problems: Problem[]): Promise<Template | undefined> {
  const name = path.basename(abs);
  const dir = rel(root, abs);
  if (!TEMPLATE_NAME.test(name)) problems.push({ file: dir, message: `"${name}" is not a usable template name; use letters, digits, ".", "_" and "-", starting with a letter or digit` });
  const configYaml = await readYaml(root, path.join(abs, 'config.yml'), `${dir}/config.yml`, problems, 'has no config.yml; every folder in templates/ is a template and needs one');
  if (!configYaml) return undefined;
  const config = parseConfig(configYaml, name, problems);
  const folders = (await subdirs(root, abs, problems)).filter(isVersionFolder);
  if (folders.length === 0) problems.push({ file: dir, message: `has no version folders; add ${dir}/0/ with berth.yml and a compose template` });
  const versions: TemplateVersion[] = [];
  for (const folder of folders) {
    const v = await loadVersion(root, path.join(abs, folder), problems);
    if (v) versions.push(v);
  }
  const files = await readdir(abs);
  const icon = files.filter((f) => ICON.test(f)).sort()[0];
  const readme = await readText(root, path.join(abs, 'README.md'));
  const template: Template = { name, dir, config, versions: versions.sort(compareVersions), ...(icon ? { icon: `${dir}/${icon}` } : {}), ...(readme !== undefined ? { readme } : {}) };
  checkVersions(template, configYaml, problems);
  return template;
}

export async function loadCatalog(root: string): Promise<{ catalog: Catalog; problems: Problem[] }> {
  const located = await locate(root);
  const problems: Problem[] = [];
  const templates = new Map<string, Template>();
  for (const name of await subdirs(located.root, located.templatesDir, problems)) {
    const t = await loadTemplate(located.root, path.join(located.templatesDir, name), problems).catch((err: unknown) => {
      // A refused file (outside the catalog, too large) fails its template, never the others.
      if (!(err instanceof ConfineError)) throw err;
      problems.push({ file: err.file, message: err.reason });
      return undefined;
    });
    if (t) templates.set(name, t);
  }
  return { catalog: { root: located.root, templates, templatesDir: rel(located.root, located.templatesDir) }, problems };
}

/**
 * The catalog as stacks use it: a template with problems fails only the stacks that use it (with its problems),
 * the others render. A problem outside every template folder fails them all.
 */
export async function loadCatalogForStacks(root: string): Promise<Catalog> {
  const { catalog, problems } = await loadCatalog(root);
  return { ...catalog, problems };
}

export function assertTemplateLoads(catalog: Catalog, template: string): void {
  const dir = `${catalog.templatesDir ?? 'templates'}/${template}`;
  const inTemplate = (file: string | undefined) => file !== undefined && file.startsWith(`${catalog.templatesDir ?? 'templates'}/`);
  const mine = (catalog.problems ?? []).filter((p) => !inTemplate(p.file) || p.file === dir || p.file!.startsWith(`${dir}/`));
  if (mine.length === 0) return;
  throw new ValidationError('TEMPLATE_INVALID', `Template ${template} of the catalog at ${catalog.root} has ${mine.length} problem${mine.length === 1 ? '' : 's'}:`, mine,
    'Fix each file and line listed (`berth catalog lint` checks the whole catalog); stacks of other templates are not affected.');
}

export async function loadCatalogOrThrow(root: string): Promise<Catalog> {
  const { catalog, problems } = await loadCatalog(root);
  if (problems.length === 0) return catalog;
  throw new ValidationError('CATALOG_INVALID', `The catalog at ${catalog.root} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`, problems,
    'Fix each file and line listed; `berth catalog lint` checks the whole catalog, renders included.');
}
