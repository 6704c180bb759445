/** The import report as markdown (for people and merge requests) and JSON (for scripts). Totals come first. */
import type { Finding, ImportReport, VersionReport } from './report-types.ts';

const where = (f: Finding): string => [f.service && `service ${f.service}`, f.file && (f.line ? `${f.file}:${f.line}` : f.file)].filter(Boolean).join(', ');
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function findingLine(f: Finding): string {
  const at = where(f);
  return `- **${f.kind}** \`${f.feature}\`${at ? ` (${at})` : ''}: ${f.message}`;
}

function versionSection(v: VersionReport): string[] {
  const head = `### ${v.template} ${v.version} (folder ${v.folder}): ${v.outcome}`;
  const lines = [head];
  if (v.reason) lines.push('', `Skipped: ${v.reason}`);
  const shown = v.findings.filter((f) => f.kind !== 'note');
  if (shown.length) lines.push('', ...shown.map(findingLine));
  const notes = v.findings.filter((f) => f.kind === 'note');
  if (notes.length) lines.push('', `Dropped Rancher-only metadata: ${notes.map((f) => `\`${f.feature}\``).join(', ')}.`);
  lines.push('');
  return lines;
}

export function reportMarkdown(r: ImportReport): string {
  const t = r.totals;
  const lines = [
    `# Rancher catalog import`,
    '',
    `From ${r.source} into ${r.dest}.`,
    '',
    '| templates | versions | converted | approximated | skipped |',
    '|---|---|---|---|---|',
    `| ${t.templates} | ${t.versions} | ${t.converted} | ${t.approximated} | ${t.skipped} |`,
    '',
    '*converted*: nothing lost; *approximated*: converted to the nearest equivalent, each difference listed;',
    '*skipped*: not imported, with the reason. Findings marked **decision** need a person.',
    '',
    '| template | latest imported | converted | approximated | skipped |',
    '|---|---|---|---|---|',
    ...r.templates.map((tpl) => {
      const n = (o: VersionReport['outcome']) => tpl.versions.filter((v) => v.outcome === o).length;
      return `| ${cell(tpl.name)} | ${tpl.latest ?? '—'} | ${n('converted')} | ${n('approximated')} | ${n('skipped')} |`;
    }),
    '',
  ];
  for (const tpl of r.templates) {
    lines.push(`## ${tpl.name}`, '', `From \`${tpl.source}\`.`, '');
    if (tpl.findings.some((f) => f.kind !== 'note')) lines.push(...tpl.findings.filter((f) => f.kind !== 'note').map(findingLine), '');
    for (const v of tpl.versions) lines.push(...versionSection(v));
  }
  return `${lines.join('\n')}\n`;
}

export function reportJson(r: ImportReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
