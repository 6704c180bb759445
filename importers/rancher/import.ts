/**
 * `berth catalog import rancher`: every template of a Rancher 1.x catalog converted into a Berth catalog.
 * Each template is written to a staging folder, loaded and linted version by version with Berth's own loader
 * and renderer; a version that does not lint is skipped with the reason, so DEST always lints clean.
 */
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { formatProblem, type Problem } from '../../lib/errors.ts';
import { loadCatalog, isVersionFolder } from '../../catalog/load.ts';
import { lintVersion } from '../../catalog/lint.ts';
import { questionYaml } from './questions.ts';
import { Findings, ImportError, type ImportReport, type VersionReport } from './report-types.ts';
import { CatalogSource, openSource, SourceFileError } from './source.ts';
import { convertVersion, type ConvertedVersion } from './version.ts';
import { readConfig, templateRoots, versionFolders, ICON } from './template.ts';

export interface ImportOptions {
  src: string;
  dest: string;
  templates?: string[];
  /** Called as each template is done, for progress. */
  progress?(name: string, versions: VersionReport[]): void;
}

export async function importRancher(opts: ImportOptions): Promise<ImportReport> {
  const { source, close } = await openSource(opts.src);
  const dest = path.resolve(opts.dest);
  const report: ImportReport = { source: source.describe, dest, totals: { templates: 0, versions: 0, converted: 0, approximated: 0, skipped: 0 }, templates: [] };
  await mkdir(path.join(dest, 'templates'), { recursive: true });
  const stage = await mkdtemp(path.join(dest, '.import-'));
  try {
    const roots = await templateRoots(source);
    const seen = new Set<string>();
    for (const { dir, name } of roots) {
      if (opts.templates?.length && !opts.templates.includes(name)) continue;
      if (seen.has(name)) {
        report.templates.push({ name, source: dir, versions: [], findings: [{ kind: 'decision', feature: 'template name', message: `another template is also named ${name}; this one was skipped` }] });
        continue;
      }
      seen.add(name);
      const t = await importTemplate(source, dir, name, stage, dest);
      report.templates.push(t);
      opts.progress?.(name, t.versions);
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
    await close();
  }
  for (const t of report.templates) {
    if (t.versions.length) report.totals.templates++;
    for (const v of t.versions) {
      report.totals.versions++;
      report.totals[v.outcome]++;
    }
  }
  return report;
}

function outcomeOf(v: ConvertedVersion): VersionReport['outcome'] {
  return v.findings.some((f) => f.kind !== 'note') ? 'approximated' : 'converted';
}

async function importTemplate(src: CatalogSource, dir: string, name: string, stage: string, dest: string): Promise<ImportReport['templates'][number]> {
  const findings = new Findings(`${dir}/config.yml`);
  const reports: VersionReport[] = [];
  const converted: ConvertedVersion[] = [];
  const skip = (folder: string, version: string, reason: string, more: VersionReport['findings'] = []) => reports.push({ template: name, folder, version, outcome: 'skipped', reason, findings: more });
  let config: Record<string, unknown>;
  try {
    config = await readConfig(src, dir, name, findings);
  } catch (e) {
    return { name, source: dir, versions: [], findings: [{ kind: 'decision', feature: 'config.yml', message: `the template was skipped: ${describe(e)}` }] };
  }
  // Newest folder first: of two folders with the same version string, the newer one is kept (a republished fix).
  const byVersion = new Map<string, string>();
  for (const folder of (await versionFolders(src, dir)).reverse()) {
    try {
      if (!isVersionFolder(folder)) throw new ImportError(`the folder name "${folder}" is not a revision number or a semver version`);
      const v = await convertVersion(src, dir, folder);
      const other = byVersion.get(v.version);
      if (other !== undefined) {
        skip(folder, v.version, `version "${v.version}" is also the version of the newer folder ${other}, which was imported; versions must be distinct`);
        continue;
      }
      byVersion.set(v.version, folder);
      converted.unshift(v);
    } catch (e) {
      skip(folder, folder, describe(e));
    }
  }
  const staged = path.join(stage, 'templates', name);
  await rm(path.join(stage, 'templates'), { recursive: true, force: true });
  await writeTemplate(src, dir, staged, config, converted);
  const failed = await lintStaged(stage, name);
  for (const v of converted) {
    const problems = failed.get(v.folder);
    if (problems) {
      skip(v.folder, v.version, `does not lint after conversion: ${problems.map(formatProblem).join('; ')}`, v.findings);
      await rm(path.join(staged, v.folder), { recursive: true, force: true });
    } else reports.push({ template: name, folder: v.folder, version: v.version, outcome: outcomeOf(v), findings: v.findings });
  }
  const kept = converted.filter((v) => !failed.has(v.folder));
  if (typeof config.version === 'string' && !kept.some((v) => v.version === config.version || v.folder === config.version)) {
    if (kept.length) findings.add('approximated', 'config.yml version', `the default version "${config.version}" was not imported; the newest imported version is the default`);
    delete config.version;
    await writeFile(path.join(staged, 'config.yml'), stringify(config, { lineWidth: 0 }));
  }
  const final = path.join(dest, 'templates', name);
  await rm(final, { recursive: true, force: true });
  if (kept.length) await rename(staged, final);
  reports.sort((a, b) => a.folder.localeCompare(b.folder, 'en', { numeric: true }));
  const latest = kept.at(-1)?.version;
  return { name, source: dir, ...(latest ? { latest } : {}), versions: reports, findings: findings.list };
}

async function writeTemplate(src: CatalogSource, dir: string, staged: string, config: Record<string, unknown>, versions: ConvertedVersion[]): Promise<void> {
  await mkdir(staged, { recursive: true });
  await writeFile(path.join(staged, 'config.yml'), stringify(config, { lineWidth: 0 }));
  const { files } = await src.list(dir);
  for (const f of files) {
    if (!ICON.test(f) && f !== 'README.md') continue;
    const bytes = await src.readBytes(`${dir}/${f}`).catch(() => undefined);
    if (bytes) await writeFile(path.join(staged, f), bytes);
  }
  for (const v of versions) {
    const at = path.join(staged, v.folder);
    await mkdir(at, { recursive: true });
    await writeFile(path.join(at, 'berth.yml'), stringify({ ...v.meta, questions: v.questions.map(questionYaml) }, { lineWidth: 0 }));
    await writeFile(path.join(at, v.compose.name), v.compose.text);
    if (v.releaseNotes !== undefined) await writeFile(path.join(at, 'README.md'), v.releaseNotes);
  }
}

/** Problems by version folder, from Berth's loader and a render of each version with its defaults. */
async function lintStaged(stage: string, name: string): Promise<Map<string, Problem[]>> {
  const failed = new Map<string, Problem[]>();
  const note = (folder: string, p: Problem) => failed.set(folder, [...(failed.get(folder) ?? []), p]);
  const { catalog, problems } = await loadCatalog(stage);
  const prefix = `templates/${name}/`;
  for (const p of problems) {
    const folder = p.file?.startsWith(prefix) ? p.file.slice(prefix.length).split('/')[0] : undefined;
    if (folder && isVersionFolder(folder)) note(folder, p);
  }
  const template = catalog.templates.get(name);
  for (const v of template?.versions ?? []) for (const p of lintVersion(catalog, template!, v)) note(v.folder, p);
  return failed;
}

function describe(e: unknown): string {
  if (e instanceof ImportError) return [e.file && (e.line ? `${e.file}:${e.line}` : e.file), e.message].filter(Boolean).join(': ');
  if (e instanceof SourceFileError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export { cp };
