/**
 * How much of a Rancher 1.x catalog imports: `node --import tsx bench/rancher-import.ts PATH [--keep DIR]`.
 * Imports PATH with `berth catalog import rancher`'s code into a fresh folder, then checks the result again with
 * `berth catalog lint`'s code (load, then a render of every version with its defaults), and prints, per layout,
 * how many of the latest versions and of all versions came through. Nothing is fetched: PATH is a local copy.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importRancher } from '../importers/rancher/import.ts';
import { lintCatalog } from '../catalog/lint.ts';

const args = process.argv.slice(2);
const src = args[0];
const keepAt = args.indexOf('--keep');
if (!src || src === '--help') {
  process.stderr.write('usage: node --import tsx bench/rancher-import.ts RANCHER_CATALOG_PATH [--keep DIR]\n');
  process.exit(src ? 0 : 2);
}

async function dirs(p: string): Promise<string[]> {
  try {
    return (await readdir(p, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return [];
  }
}

/** Source versions per layout: template → version folders (those holding a compose or rancher-compose file). */
async function sourceVersions(root: string, layout: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const t of await dirs(path.join(root, layout))) {
    const folders: string[] = [];
    for (const v of await dirs(path.join(root, layout, t))) {
      const files = await readdir(path.join(root, layout, t, v));
      if (files.some((f) => f === 'rancher-compose.yml' || f.startsWith('docker-compose.yml'))) folders.push(v);
    }
    if (folders.length) out.set(t, folders.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  }
  return out;
}

const pct = (n: number, d: number): string => (d === 0 ? '—' : `${((100 * n) / d).toFixed(1)}%`);

const dest = keepAt >= 0 ? path.resolve(args[keepAt + 1]) : await mkdtemp(path.join(tmpdir(), 'berth-rancher-bench-'));
const started = Date.now();
const report = await importRancher({ src, dest });
const seconds = (Date.now() - started) / 1000;
const { problems } = await lintCatalog(dest);
const broken = new Set(problems.map((p) => (p.file ?? '').split('/').slice(0, 3).join('/')));
const ok = async (template: string, folder: string): Promise<boolean> =>
  !broken.has(`templates/${template}/${folder}`) && (await stat(path.join(dest, 'templates', template, folder)).then(() => true, () => false));

process.stdout.write(`Rancher catalog ${path.resolve(src)}: imported in ${seconds.toFixed(1)} s; berth catalog lint on the result: ${problems.length} problem(s)\n\n`);
process.stdout.write('| layout | templates | latest versions that import, lint and render | all versions that do |\n|---|---|---|---|\n');
for (const layout of ['templates', 'infra-templates']) {
  const versions = await sourceVersions(path.resolve(src), layout);
  if (versions.size === 0) continue;
  let latestOk = 0;
  let allOk = 0;
  let all = 0;
  for (const [t, folders] of versions) {
    const imported = report.templates.find((x) => x.source === `${layout}/${t}`);
    for (const f of folders) {
      all++;
      const good = imported !== undefined && (await ok(t, f));
      if (good) allOk++;
      if (good && f === folders.at(-1)) latestOk++;
    }
  }
  process.stdout.write(`| ${layout} | ${versions.size} | ${latestOk}/${versions.size} (${pct(latestOk, versions.size)}) | ${allOk}/${all} (${pct(allOk, all)}) |\n`);
}
const t = report.totals;
process.stdout.write(`\nreport totals: ${t.versions} versions, ${t.converted} converted, ${t.approximated} approximated, ${t.skipped} skipped\n`);
if (keepAt < 0) await rm(dest, { recursive: true, force: true });
