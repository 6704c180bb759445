import type { Command } from 'commander';
import { formatProblem } from '../lib/errors.ts';
import type { Question, Template } from '../catalog/types.ts';

// Loaded when a command runs, so the CLI starts without the catalog machinery.
const load = () => import('../catalog/load.ts');
const resolve = () => import('../catalog/resolve.ts');
const newTable = async (head: string[], widths?: (number | null)[]) => (await import('./table.ts')).table(head, widths);
import { catalogDir } from './options.ts';
import { registerImportCommands } from './catalog-import.ts';

export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description('inspect and check a catalog of templates');

  catalog.command('list')
    .description('list the templates of a catalog with their versions')
    .option('--catalog <dir>', 'catalog folder (default: $BERTH_CATALOG or the built-in catalog)')
    .option('--json', 'print JSON')
    .action(async (opts: { catalog?: string; json?: boolean }) => {
      const cat = await (await load()).loadCatalogOrThrow(catalogDir(opts.catalog));
      const templates = [...cat.templates.values()].sort((a, b) => a.name.localeCompare(b.name));
      const r = await resolve();
      if (opts.json) {
        out(JSON.stringify(templates.map((t) => ({ name: t.name, description: t.config.description, category: t.config.category, default: defaultVersion(t, r), versions: t.versions.map((v) => v.version) })), null, 2));
        return;
      }
      const table = await newTable(['TEMPLATE', 'DEFAULT', 'VERSIONS', 'CATEGORY', 'DESCRIPTION'], [null, null, null, null, 60]);
      for (const t of templates) table.push([t.name, defaultVersion(t, r), t.versions.map((v) => v.version).join(', '), t.config.category ?? '', t.config.description]);
      out(table.toString());
    });

  catalog.command('show')
    .description('show a template: its versions and the questions of one version')
    .argument('<template>', 'TEMPLATE or TEMPLATE@VERSION')
    .option('--catalog <dir>', 'catalog folder (default: $BERTH_CATALOG or the built-in catalog)')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: { catalog?: string; json?: boolean }) => {
      const cat = await (await load()).loadCatalogOrThrow(catalogDir(opts.catalog));
      const { template, version } = (await resolve()).resolveTemplate(cat, ref);
      if (opts.json) {
        out(JSON.stringify({ name: template.name, config: template.config, versions: template.versions.map((v) => ({ folder: v.folder, version: v.version, description: v.description, upgrade_from: v.upgrade_from })), shown: version.version, questions: version.questions }, null, 2));
        return;
      }
      out(`${template.name}: ${template.config.description}`);
      const versions = await newTable(['VERSION', 'FOLDER', 'UPGRADE FROM', 'DESCRIPTION']);
      for (const v of template.versions) versions.push([v.version === version.version ? `${v.version} *` : v.version, v.folder, v.upgrade_from ?? '', v.description ?? '']);
      out(versions.toString());
      out(`\nQuestions of ${template.name}@${version.version}:`);
      const questions = await newTable(['VARIABLE', 'TYPE', 'REQUIRED', 'DEFAULT', 'RULES', 'LABEL']);
      for (const q of version.questions) questions.push([q.variable, q.type, q.required ? 'yes' : '', showDefault(q), rules(q), q.label]);
      out(questions.toString());
    });

  catalog.command('lint')
    .description('check every template and version: metadata, questions, and a render with defaults')
    .argument('[dir]', 'catalog folder (default: $BERTH_CATALOG or the built-in catalog)')
    .action(async (dir: string | undefined) => {
      const { problems, checked } = await (await import('../catalog/lint.ts')).lintCatalog(catalogDir(dir));
      for (const c of checked) process.stderr.write(`checked ${c.template}@${c.version}\n`);
      if (problems.length > 0) {
        for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
        process.stderr.write(`${problems.length} problem(s) found; fix them and run berth catalog lint again\n`);
        process.exitCode = 1;
        return;
      }
      out(`catalog is clean: ${checked.length} template version(s) checked`);
    });

  registerImportCommands(catalog);
}

function defaultVersion(t: Template, r: Awaited<ReturnType<typeof resolve>>): string {
  return r.defaultVersion(t)?.version ?? '';
}

function showDefault(q: Question): string {
  if (q.default === undefined || q.default === null) return '';
  if (q.type === 'password' || q.type === 'secret') return '(set)';
  return String(q.default).replace(/\n/g, '⏎');
}

function rules(q: Question): string {
  const r: string[] = [];
  if (q.options) r.push(`one of: ${q.options.join(', ')}`);
  if (q.min !== undefined) r.push(`min ${q.min}`);
  if (q.max !== undefined) r.push(`max ${q.max}`);
  if (q.min_length !== undefined) r.push(`min length ${q.min_length}`);
  if (q.max_length !== undefined) r.push(`max length ${q.max_length}`);
  if (q.show_if) r.push(`if ${q.show_if}`);
  return r.join('; ');
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}
