/** `berth catalog import rancher SRC DEST`: see importers/rancher/import.ts. */
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';

interface ImportFlags { template?: string[]; report?: string; json?: boolean }

export function registerImportCommands(catalog: Command): void {
  const imp = catalog.command('import').description('convert a catalog of another tool into a Berth catalog');
  imp.command('rancher')
    .description('convert a Rancher 1.x (Cattle) catalog: templates, versions, questions, Go templates, rancher-compose.yml')
    .argument('<src>', 'the Rancher catalog: a folder (holding templates/ or infra-templates/) or a git URL[#branch]')
    .argument('<dest>', 'the Berth catalog folder to write (templates/<name> are replaced one by one)')
    .option('--template <name...>', 'import only these templates')
    .option('--report <file>', 'write the report to FILE (markdown; JSON when FILE ends in .json)')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', '\nVersions that cannot be converted, or do not pass `berth catalog lint` once converted, are skipped and\nthe report says why; everything approximated is listed. See docs/rancher.md for what each Rancher feature becomes.')
    .action(async (src: string, dest: string, opts: ImportFlags) => {
      const { importRancher } = await import('../importers/rancher/import.ts');
      const { reportJson, reportMarkdown } = await import('../importers/rancher/report.ts');
      const report = await importRancher({
        src,
        dest,
        ...(opts.template ? { templates: opts.template } : {}),
        progress: (name, versions) => {
          const n = (o: string) => versions.filter((v) => v.outcome === o).length;
          process.stderr.write(`${name}: ${n('converted')} converted, ${n('approximated')} approximated, ${n('skipped')} skipped\n`);
        },
      });
      if (opts.report) await writeFile(opts.report, opts.report.endsWith('.json') ? reportJson(report) : reportMarkdown(report));
      if (opts.json) {
        process.stdout.write(reportJson(report));
        return;
      }
      const t = report.totals;
      process.stdout.write(`imported ${t.templates} template(s) into ${report.dest}: ${t.versions} version(s), ${t.converted} converted, ${t.approximated} approximated, ${t.skipped} skipped\n`);
      if (!opts.report) process.stdout.write('pass --report FILE for what was approximated or skipped, and why\n');
      if (opts.template?.length && report.templates.length === 0) {
        process.stderr.write(`no template named ${opts.template.join(', ')} in ${report.source}\n`);
        process.exitCode = 1;
      }
    });
}
