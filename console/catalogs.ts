/**
 * The catalogs of the environment as last synced, loaded once per revision: the console's catalog pages and
 * forms read them, never the controller's own cache (which a reconcile may be refilling).
 */
import { loadCatalog } from '../catalog/load.ts';
import { defaultVersion, findVersion } from '../catalog/resolve.ts';
import type { Catalog, Question, Template, TemplateVersion } from '../catalog/types.ts';
import type { Snapshot } from '../environment/sources.ts';
import { UserError } from '../lib/errors.ts';

export interface CatalogEntry {
  catalog: string;
  template: Template;
}

export interface TemplateSummary {
  catalog: string;
  name: string;
  description: string;
  category: string;
  latest: string;
  versions: string[];
  icon: boolean;
}

/** What the browser's form needs of one version: the questions and nothing of the catalog's files. */
export interface VersionForm {
  catalog: string;
  template: string;
  version: string;
  versions: string[];
  questions: Question[];
}

export class CatalogView {
  private cache = new Map<string, Promise<Catalog>>();

  async all(snap: Snapshot): Promise<{ name: string; catalog: Catalog }[]> {
    const env = snap.env;
    if (!env) return [];
    const fresh = new Map<string, Promise<Catalog>>();
    // A url: catalog that never synced offers no templates until it does.
    const out = await Promise.all(env.catalogs.flatMap((c) => (c.unavailable ? [] : [c])).map(async (c) => {
      const key = `${c.root}@${snap.catalogs[c.name] ?? snap.loadedAt ?? ''}`;
      const loading = this.cache.get(key) ?? loadCatalog(c.root).then((r) => r.catalog);
      fresh.set(key, loading);
      return { name: c.name, catalog: await loading };
    }));
    this.cache = fresh;
    return out;
  }

  async templates(snap: Snapshot): Promise<TemplateSummary[]> {
    const out: TemplateSummary[] = [];
    for (const { name, catalog } of await this.all(snap)) {
      for (const t of catalog.templates.values()) {
        if (!t.versions.length) continue;
        out.push({
          catalog: name, name: t.name, description: t.config.description, category: t.config.category ?? 'Other',
          latest: defaultVersion(t)?.version ?? t.versions.at(-1)!.version, versions: t.versions.map((v) => v.version), icon: Boolean(t.icon),
        });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.catalog.localeCompare(b.catalog));
  }

  /** A template by name, from the named catalog or the first that has it. */
  async find(snap: Snapshot, name: string, catalog?: string): Promise<CatalogEntry & { root: string }> {
    for (const c of await this.all(snap)) {
      if (catalog && c.name !== catalog) continue;
      const template = c.catalog.templates.get(name);
      if (template) return { catalog: c.name, template, root: c.catalog.root };
    }
    throw new UserError('TEMPLATE_NOT_FOUND', `no template "${name}"${catalog ? ` in catalog ${catalog}` : ''}`, { hint: 'Pick one from the catalog.' });
  }

  static version(template: Template, wanted?: string): TemplateVersion {
    const v = wanted ? findVersion(template, wanted) : defaultVersion(template);
    if (!v) throw new UserError('VERSION_NOT_FOUND', `template ${template.name} has no version "${wanted}"`, { hint: `versions: ${template.versions.map((x) => x.version).join(', ')}` });
    return v;
  }

  static form(entry: CatalogEntry, version: TemplateVersion): VersionForm {
    return { catalog: entry.catalog, template: entry.template.name, version: version.version, versions: entry.template.versions.map((v) => v.version), questions: version.questions };
  }
}
