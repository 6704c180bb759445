/** Finding a template version from a `NAME[@VERSION]` reference, and the near-miss suggestions used across the catalog. */
import semver from 'semver';
import { UserError } from '../lib/errors.ts';
import { berthVersion } from '../lib/version.ts';
import type { Catalog, Template, TemplateVersion } from './types.ts';

/** Versions needing a newer Berth still load (so `catalog show` can list them) but must not be deployed. */
export function isSupported(version: Pick<TemplateVersion, 'minimum_berth_version'>, running = berthVersion()): boolean {
  const min = version.minimum_berth_version;
  return !min || !semver.valid(min) || semver.lte(min, running);
}

/** Edit distance counting a swap of neighbours as one edit, the commonest typo (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The candidate a typo most likely meant: equal ignoring case, else the nearest within `maxDistance` edits. */
export function closest(word: string, candidates: Iterable<string>, maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const c of candidates) {
    if (c.toLowerCase() === word.toLowerCase()) return c;
    const d = editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

export function parseRef(ref: string): { name: string; version?: string } {
  const at = ref.indexOf('@');
  const [name, version] = at < 0 ? [ref, undefined] : [ref.slice(0, at), ref.slice(at + 1)];
  if (!name || version === '') {
    throw new UserError('TEMPLATE_REF_INVALID', `"${ref}" is not a template reference`, {
      data: { ref },
      hint: 'Write NAME or NAME@VERSION, e.g. "web" or "web@1.2.0".',
    });
  }
  return version === undefined ? { name } : { name, version };
}

/** A version by its user-facing `version` string first, then by folder name. */
export function findVersion(template: Template, wanted: string): TemplateVersion | undefined {
  return template.versions.find((v) => v.version === wanted) ?? template.versions.find((v) => v.folder === wanted);
}

/** config.yml's `version` when it names one; else the newest this Berth supports; else the newest. */
export function defaultVersion(template: Template): TemplateVersion | undefined {
  const configured = template.config.version === undefined ? undefined : findVersion(template, template.config.version);
  if (configured) return configured;
  const supported = template.versions.filter((v) => isSupported(v));
  return supported.at(-1) ?? template.versions.at(-1);
}

export function describeVersions(template: Template): string {
  return template.versions.map((v) => (v.version === v.folder ? v.version : `${v.version} (folder ${v.folder})`)).join(', ') || '(none)';
}

export function resolveTemplate(catalog: Catalog, ref: string): { template: Template; version: TemplateVersion } {
  const { name, version: wanted } = parseRef(ref);
  const template = catalog.templates.get(name);
  if (!template) {
    const names = [...catalog.templates.keys()].sort();
    const near = closest(name, names);
    throw new UserError('TEMPLATE_NOT_FOUND', `no template "${name}" in the catalog at ${catalog.root}${near ? `; did you mean "${near}"?` : ''}`, {
      data: { name, available: names, ...(near ? { suggestion: near } : {}) },
      hint: names.length ? `Available templates: ${names.join(', ')}.` : 'The catalog has no templates; add templates/<name>/config.yml.',
    });
  }
  const version = wanted === undefined ? defaultVersion(template) : findVersion(template, wanted);
  if (!version) {
    const what = wanted === undefined ? 'has no versions that loaded' : `has no version "${wanted}"`;
    throw new UserError('VERSION_NOT_FOUND', `template "${name}" ${what}`, {
      data: { name, version: wanted, available: template.versions.map((v) => v.version) },
      hint: `Versions of ${name}: ${describeVersions(template)}.`,
    });
  }
  return { template, version };
}
