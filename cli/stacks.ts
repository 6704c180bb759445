import type { Command } from 'commander';
import { envOption } from './options.ts';
import type { EnvOpts } from './stacks-actions.ts';

// The implementations load only when a command runs, so `berth --help` and other commands start fast.
const actions = () => import('./stacks-actions.ts');

export function registerStackCommands(program: Command): void {
  program.command('plan')
    .description('show what apply would do on each host, and why, without changing anything')
    .argument('[stack]', 'one stack (default: every stack of the environment)')
    .addOption(envOption())
    .option('--json', 'print JSON')
    .option('-v, --verbose', 'also list what stays as it is')
    .action(async (stack: string | undefined, opts: EnvOpts) => (await actions()).planAction(stack, opts));

  program.command('apply')
    .description('converge the hosts to the environment: pull, create, roll out and remove, then report per host')
    .argument('[stack]', 'one stack (default: every stack of the environment)')
    .addOption(envOption())
    .option('--json', 'print the outcome as JSON')
    .action(async (stack: string | undefined, opts: EnvOpts) => (await actions()).applyAction(stack, opts));

  program.command('status')
    .description('per host and service: desired replicas against running ones')
    .argument('[stack]', 'one stack (default: every stack of the environment)')
    .addOption(envOption())
    .option('--json', 'print JSON')
    .action(async (stack: string | undefined, opts: EnvOpts) => (await actions()).statusAction(stack, opts));
}
