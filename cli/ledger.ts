/**
 * `berth history` and `berth rollback`: the deploy ledger of an environment repository, read and reverted from
 * the command line. A rollback here only writes the ledger branch; `berth serve` (or `berth apply`) then
 * converges the hosts to it, exactly as after a `git revert` pushed by hand.
 */
import type { Command } from 'commander';
import { envOption } from './options.ts';
import { registerSecretCommands } from './secret.ts';

// The implementations load only when a command runs, so `berth --help` and other commands start fast.
const actions = () => import('./ledger-actions.ts');

export function registerLedgerCommands(program: Command): void {
  program.command('history')
    .description("list a stack's deploys and rollbacks from the ledger branch, newest first")
    .argument('<stack>', 'the stack')
    .addOption(envOption('environment folder, in a git repository'))
    .option('--json', 'print JSON')
    .option('--limit <n>', 'at most this many entries', '20')
    .action(async (stack: string, opts: { env: string; json?: boolean; limit: string }) => (await actions()).historyAction(stack, opts));

  program.command('rollback')
    .description('roll a stack back on the ledger branch: revert its latest deploy, or restore the state of --to COMMIT')
    .argument('<stack>', 'the stack')
    .option('--to <commit>', 'a ledger commit (see berth history) whose state to restore')
    .option('--with-data', 'also restore the data snapshots the reverted upgrade took — with --to, those of the upgrade away from that state (its deploy stops the services, restores the volumes, then starts the older version on them)')
    .addOption(envOption('environment folder, in a git repository'))
    .action(async (stack: string, opts: { env: string; to?: string; withData?: boolean }) => (await actions()).rollbackAction(stack, opts));

  program.command('snapshots')
    .description("list the data snapshots of a stack's volumes on each host and Swarm node berth.yml reaches (host, volume, version, time, size)")
    .argument('<stack>', 'the stack')
    .addOption(envOption())
    .option('--json', 'print JSON')
    .action(async (stack: string, opts: { env: string; json?: boolean }) => (await import('./snapshots-actions.ts')).snapshotsAction(stack, opts));

  const snapshot = program.command('snapshot').description('work with one data snapshot');
  snapshot.command('export')
    .description("copy a snapshot off its host or Swarm node: a tar of the volume's files as they were (see berth snapshots STACK)")
    .argument('<snapshot>', 'the snapshot, as berth snapshots names it (berth-snap-…)')
    .option('--out <file>', 'where to write it; - for stdout (default: SNAPSHOT.tar)')
    .option('--host <name>', 'the host or Swarm node holding it (default: the first that has it)')
    .addOption(envOption())
    .action(async (id: string, opts: { env: string; out?: string; host?: string }) => (await import('./snapshots-actions.ts')).snapshotExportAction(id, opts));

  registerSecretCommands(program);
}
