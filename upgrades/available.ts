/**
 * Upgrades of a loaded environment: the catalogs are read (once each) and every stack is matched against its
 * template. A stack whose catalog or template is missing simply has no upgrade: `berth plan` reports that.
 */
import { assertTemplateLoads, loadCatalogForStacks } from '../catalog/load.ts';
import type { Catalog } from '../catalog/types.ts';
import { stackCatalog, type Environment } from '../environment/environment.ts';
import type { StackSpec } from '../environment/types.ts';
import { findUpgrade, needsDraft, type Upgrade } from './find.ts';

export interface AvailableOptions {
  /** Loaded catalogs by root folder, shared with the caller so each loads once. */
  catalogs?: Map<string, Catalog>;
  /** Which Berth will deploy the result; default this one. */
  berthVersion?: string;
  /** A stack whose catalog fails to load is skipped and reported here, so one bad catalog hides nothing else. */
  onError?: (stack: string, error: unknown) => void;
}

export interface AvailableUpgrade extends Upgrade {
  /** Whether the merge request would be a draft: answers to add, or answers to remove, before it can deploy. */
  draft: boolean;
}

export async function catalogForStack(env: Environment, spec: Pick<StackSpec, 'name' | 'catalog' | 'template'>, cache: Map<string, Catalog>): Promise<Catalog | undefined> {
  const ref = stackCatalog(env, spec);
  if (!ref) return undefined;
  let catalog = cache.get(ref.root);
  if (!catalog) cache.set(ref.root, (catalog = await loadCatalogForStacks(ref.root)));
  assertTemplateLoads(catalog, spec.template);
  return catalog;
}

/** The upgrade of one stack, or undefined. A catalog that fails to load throws: that is worth seeing. */
export type StackRef = Pick<StackSpec, 'name' | 'template' | 'version' | 'answers' | 'catalog'>;

export async function upgradeForStack(env: Environment, spec: StackRef, opts: AvailableOptions = {}): Promise<AvailableUpgrade | undefined> {
  const catalog = await catalogForStack(env, spec, opts.catalogs ?? new Map());
  const template = catalog?.templates.get(spec.template);
  if (!template) return undefined;
  const found = findUpgrade(template, { name: spec.name, version: spec.version, answers: spec.answers }, opts.berthVersion);
  return found && { ...found, draft: needsDraft(found, spec.answers) };
}

/** Every stack's upgrade, in stack order; `/api/stacks` and `berth status` show these as "upgrade available". */
export async function availableUpgrades(env: Environment, opts: AvailableOptions = {}): Promise<AvailableUpgrade[]> {
  const shared = { ...opts, catalogs: opts.catalogs ?? new Map<string, Catalog>() };
  const out: AvailableUpgrade[] = [];
  for (const spec of env.stacks) {
    if (spec.invalid) continue;
    try {
      const u = await upgradeForStack(env, spec, shared);
      if (u) out.push(u);
    } catch (err) {
      opts.onError?.(spec.name, err);
    }
  }
  return out;
}

/** Why the merge request would be a draft, or undefined when it would be ready. */
export function draftReason(u: AvailableUpgrade): string | undefined {
  if (!u.draft) return undefined;
  return u.needsAnswers.length ? `answers needed: ${u.needsAnswers.map((q) => q.variable).join(', ')}` : 'answers to remove';
}

/** One line for listings: `static-site 1.0.0 → 1.1.0 (draft: answers needed: admin_email)`. */
export function describeUpgrade(u: AvailableUpgrade): string {
  const why = draftReason(u);
  return `${u.template} ${u.from} → ${u.to}${why ? ` (draft: ${why})` : ''}`;
}
