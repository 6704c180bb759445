import type { Command } from 'commander';
import { catalogDir, collectSet, readAnswersFile } from './options.ts';

const collectList = (value: string, list: string[]): string[] => [...list, value];

export function registerRenderCommand(program: Command): void {
  program.command('render')
    .description('render a template with answers and print the normalized compose YAML')
    .argument('<template>', 'TEMPLATE or TEMPLATE@VERSION')
    .option('--catalog <dir>', 'catalog folder (default: $BERTH_CATALOG or the built-in catalog)')
    .option('--answers <file>', 'YAML file of answers (variable: value)')
    .option('--set <key=value>', 'an answer; repeat for several (wins over --answers)', collectSet, {})
    .option('--stack <name>', 'stack name (compose project name)', 'demo')
    .option('--previous <version>', 'render as an upgrade from this installed version')
    .option('--profile <name>', 'only the services this compose profile enables (repeat for several; * for all), as the stack file\'s profiles: does; default: every service', collectList, [])
    .action(async (ref: string, opts: { catalog?: string; answers?: string; set: Record<string, string>; stack: string; previous?: string; profile: string[] }) => {
      const { assertTemplateLoads, loadCatalogForStacks } = await import('../catalog/load.ts');
      const { renderStack } = await import('../catalog/stack.ts');
      // Another template's mistakes don't stop this one from rendering (`berth catalog lint` shows them all).
      const catalog = await loadCatalogForStacks(catalogDir(opts.catalog));
      assertTemplateLoads(catalog, ref.split('@')[0]);
      const fromFile = opts.answers ? await readAnswersFile(opts.answers) : {};
      const result = renderStack(catalog, { ref, answers: { ...fromFile, ...opts.set }, stack: opts.stack, previousVersion: opts.previous });
      if (!opts.profile.length) return void process.stdout.write(result.yaml);
      const [{ activateProfiles }, { modelToYaml }] = await Promise.all([import('../catalog/profiles.ts'), import('../catalog/compose-yaml.ts')]);
      process.stdout.write(modelToYaml(activateProfiles(result.model, opts.profile, `${ref} (--profile)`)));
    });
}
