/**
 * `berth upgrades`: which stacks have a newer version in their catalog, and with `--open`, the merge requests
 * proposing them (opened, updated, or closed when obsolete) on the forge berth.yml names.
 */
import { Option, type Command } from 'commander';
import { envOption } from './options.ts';
import type { UpgradesOpts } from './upgrades-actions.ts';

// The forge clients are heavy; they load only when this command runs.
const actions = () => import('./upgrades-actions.ts');

export function registerUpgradesCommand(program: Command): void {
  program.command('upgrades')
    .description('list the stacks a newer template version is available for; with --open, propose each as a merge request')
    .addOption(envOption())
    .option('--open', 'open or update one merge request per upgrade, and close the obsolete ones (on the forge: of berth.yml; without one, local branches berth/upgrade/<stack> in the environment repository)')
    .option('--json', 'print JSON')
    .addOption(new Option('--remote <url>', 'the environment repository to push upgrade branches to (default: derived from forge:)').env('BERTH_UPGRADES_REMOTE'))
    .addOption(new Option('--cache-dir <dir>', 'where the environment repository is cloned').env('BERTH_CACHE_DIR').default('.berth/cache'))
    .addHelpText('after', '\nSee docs/upgrades.md.')
    .action(async (opts: UpgradesOpts) => {
      const { listUpgrades, openUpgrades } = await actions();
      return opts.open ? openUpgrades(opts) : listUpgrades(opts);
    });
}
