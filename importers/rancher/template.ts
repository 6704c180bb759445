/** Where a Rancher catalog keeps its templates, and a template's config.yml as Berth's. */
import { ImportError, parseCatalogYaml, type Findings } from './report-types.ts';
import type { CatalogSource } from './source.ts';

export const ICON = /^(catalogIcon-.+|icon)\.(svg|png)$/;
const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Cattle's layouts; `kubernetes-templates` and the others target orchestrators Berth does not replace. */
const LAYOUTS = ['templates', 'infra-templates'];
const CONFIG_TEXT = ['name', 'description', 'category', 'maintainer', 'license', 'projectURL', 'version'] as const;

export async function templateRoots(src: CatalogSource): Promise<{ dir: string; name: string }[]> {
  const top = await src.list('.');
  const layouts = LAYOUTS.filter((l) => top.dirs.includes(l));
  if (layouts.length === 0) {
    // The older layout: template folders at the catalog's root.
    const out: { dir: string; name: string }[] = [];
    for (const d of top.dirs) if ((await src.list(d)).files.includes('config.yml')) out.push({ dir: d, name: d });
    if (out.length === 0) throw new ImportError('no templates/ or infra-templates/ folder, and no template folders with config.yml at the top', src.describe);
    return out;
  }
  const out: { dir: string; name: string }[] = [];
  for (const layout of layouts) for (const d of (await src.list(layout)).dirs) out.push({ dir: `${layout}/${d}`, name: d });
  return out;
}

export async function versionFolders(src: CatalogSource, dir: string): Promise<string[]> {
  const { dirs } = await src.list(dir);
  const out: string[] = [];
  for (const d of dirs) {
    const { files } = await src.list(`${dir}/${d}`);
    if (files.some((f) => f === 'rancher-compose.yml' || f.startsWith('docker-compose.yml'))) out.push(d);
  }
  return out.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export async function readConfig(src: CatalogSource, dir: string, name: string, findings: Findings): Promise<Record<string, unknown>> {
  if (!TEMPLATE_NAME.test(name)) throw new ImportError(`"${name}" is not a usable template name (letters, digits, ".", "_" and "-")`);
  const file = `${dir}/config.yml`;
  const text = await src.read(file);
  if (text === undefined) throw new ImportError('has no config.yml', dir);
  const raw = parseCatalogYaml(text, file) as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ImportError('is not a map', file);
  const config: Record<string, unknown> = { name, description: typeof raw.description === 'string' && raw.description.trim() ? raw.description : String(raw.name ?? name) };
  if (raw.name !== undefined && String(raw.name) !== name) findings.add('note', 'config.yml name', `the display name "${String(raw.name)}" became the template name "${name}" (its folder)`);
  for (const key of CONFIG_TEXT) {
    if (key === 'name' || key === 'description') continue;
    if (raw[key] !== undefined && raw[key] !== null && typeof raw[key] !== 'object') config[key] = String(raw[key]);
  }
  if (raw.labels && typeof raw.labels === 'object' && !Array.isArray(raw.labels)) {
    config.labels = Object.fromEntries(Object.entries(raw.labels as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  for (const key of Object.keys(raw)) {
    if (![...CONFIG_TEXT, 'labels'].includes(key as (typeof CONFIG_TEXT)[number])) findings.add('note', `config.yml ${key}`, `"${key}" has no Berth equivalent and was dropped`);
  }
  return config;
}
