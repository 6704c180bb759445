/**
 * What a bundle carries: for each stack (or, without an environment, each template of the catalogs), the
 * template versions that matter — the one installed and the one `berth upgrades` would propose, or every
 * version with `allVersions` — and the images each of those renders to. A version is rendered with the stack's
 * answers; a question it asks that the stack has not answered gets its default, else a sample value, since
 * what is wanted here is the image names, not a deploy.
 */
import { checkAnswers } from '../catalog/answers.ts';
import { loadCatalogOrThrow } from '../catalog/load.ts';
import { sampleValue } from '../catalog/lint.ts';
import { defaultVersion } from '../catalog/resolve.ts';
import { renderVersion } from '../catalog/render.ts';
import type { Catalog, Template, TemplateVersion } from '../catalog/types.ts';
import { catalogRoot, type Environment } from '../environment/environment.ts';
import { plainAnswers } from '../engines/standalone/desired.ts';
import { UserError } from '../lib/errors.ts';
import { chooseVersion } from '../upgrades/find.ts';
import type { BundleStack } from './manifest.ts';

export interface CatalogRef { name: string; root: string; builtin: boolean }

export interface Contents {
  catalogs: { ref: CatalogRef; catalog: Catalog }[];
  stacks: BundleStack[];
  /** Image reference → who uses it (for messages), in first-use order. */
  images: Map<string, string>;
}

function answersFor(version: TemplateVersion, given: Record<string, unknown>): Record<string, unknown> {
  const asked = new Set(version.questions.map((q) => q.variable));
  const answers: Record<string, unknown> = Object.fromEntries(Object.entries(given).filter(([k]) => asked.has(k)));
  for (const q of version.questions) {
    const answered = answers[q.variable] !== undefined && answers[q.variable] !== null && answers[q.variable] !== '';
    if (!answered && q.required && (q.default === undefined || q.default === null || q.default === '')) answers[q.variable] = sampleValue(q);
  }
  return answers;
}

/** The images one template version renders to with `given` answers. */
export function imagesOf(catalog: Catalog, template: Template, version: TemplateVersion, given: Record<string, unknown>, stack: string): string[] {
  const { values, problems } = checkAnswers(version.questions, answersFor(version, given));
  if (problems.length) {
    throw new UserError('BUNDLE_RENDER_FAILED', `${template.name} ${version.version} (stack ${stack}) cannot be rendered to find its images: ${problems[0].message}`, {
      hint: 'Fix the stack\'s answers, or leave that version out (without --all-versions).',
    });
  }
  const context = { stack, template: { name: template.name, version: version.version } };
  const { model } = renderVersion({ template, version, catalogRoot: catalog.root, values, context });
  return Object.values(model.services).map((s) => s.image);
}

function versionsFor(template: Template, installed: string | undefined, all: boolean): TemplateVersion[] {
  if (all) return template.versions;
  const picked = new Set<TemplateVersion>();
  const current = installed === undefined ? defaultVersion(template) : template.versions.find((v) => v.version === installed || v.folder === installed);
  if (current) picked.add(current);
  const next = chooseVersion(template, installed ?? current?.version ?? '0');
  if (next) picked.add(next);
  return template.versions.filter((v) => picked.has(v));
}

function addImages(images: Map<string, string>, refs: string[], who: string): void {
  for (const ref of refs) if (!images.has(ref)) images.set(ref, who);
}

/** Contents of a bundle of an environment's stacks (all, or those named). */
export async function environmentContents(env: Environment, opts: { stacks?: string[]; catalogs?: string[]; allVersions?: boolean; builtinRoot: string }): Promise<Contents> {
  const specs = opts.stacks?.length ? env.stacks.filter((s) => opts.stacks!.includes(s.name)) : env.stacks;
  const unknown = (opts.stacks ?? []).filter((n) => !env.stacks.some((s) => s.name === n));
  if (unknown.length) throw new UserError('STACK_NOT_FOUND', `no stack ${unknown.join(', ')} in ${env.root}/stacks`, { hint: `stacks here: ${env.stacks.map((s) => s.name).join(', ') || 'none'}` });
  const loaded = new Map<string, { ref: CatalogRef; catalog: Catalog }>();
  const catalogOf = async (name: string) => {
    const c = env.catalogs.find((x) => x.name === name);
    if (!c) throw new UserError('BUNDLE_CATALOG_UNKNOWN', `berth.yml declares no catalog ${name}`, { hint: `catalogs: ${env.catalogs.map((x) => x.name).join(', ')}` });
    const root = catalogRoot(c);
    if (!loaded.has(name)) loaded.set(name, { ref: { name, root, builtin: root === opts.builtinRoot }, catalog: await loadCatalogOrThrow(root) });
    return loaded.get(name)!;
  };
  for (const name of opts.catalogs ?? []) await catalogOf(name);
  const images = new Map<string, string>();
  const stacks: BundleStack[] = [];
  for (const spec of specs) {
    const catalogName = spec.catalog ?? env.catalogs[0].name;
    const { catalog } = await catalogOf(catalogName);
    const template = catalog.templates.get(spec.template);
    if (!template) throw new UserError('TEMPLATE_NOT_FOUND', `stack ${spec.name}: catalog ${catalogName} has no template ${spec.template}`);
    const { answers } = await plainAnswers(spec, {});
    const versions = versionsFor(template, spec.version, opts.allVersions === true);
    for (const v of versions) addImages(images, imagesOf(catalog, template, v, answers, spec.name), `stack ${spec.name}, ${template.name} ${v.version}`);
    stacks.push({ name: spec.name, template: template.name, catalog: catalogName, versions: versions.map((v) => v.version) });
  }
  return { catalogs: [...loaded.values()], stacks, images };
}

/** Contents of a bundle of whole catalogs (no environment): each template's default version, or every version. */
export async function catalogContents(roots: { name: string; root: string }[], opts: { allVersions?: boolean }): Promise<Contents> {
  const catalogs: Contents['catalogs'] = [];
  const images = new Map<string, string>();
  for (const { name, root } of roots) {
    const catalog = await loadCatalogOrThrow(root);
    catalogs.push({ ref: { name, root, builtin: false }, catalog });
    for (const template of catalog.templates.values()) {
      for (const v of versionsFor(template, undefined, opts.allVersions === true)) {
        addImages(images, imagesOf(catalog, template, v, {}, template.name.replace(/[^a-z0-9_-]/g, '-')), `${name}: ${template.name} ${v.version}`);
      }
    }
  }
  return { catalogs, stacks: [], images };
}
