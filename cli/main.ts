import { Command, CommanderError } from 'commander';
import { BerthError, ValidationError } from '../lib/errors.ts';
import { registerCatalogCommands } from './catalog.ts';
import { registerRenderCommand } from './render.ts';
import { registerStackCommands } from './stacks.ts';
import { registerDemoCommand } from './demo.ts';
import { registerLedgerCommands } from './ledger.ts';
import { registerUpgradesCommand } from './upgrades.ts';
import { registerServeCommand } from './serve.ts';
import { registerBundleCommands } from './bundle.ts';
import { registerUserCommands } from './user.ts';
import { berthVersion } from '../lib/version.ts';
import { mask } from '../lib/mask.ts';

/** Builds the command tree; each stage registers its own verbs so this file stays an index. */
export function buildProgram(): Command {
  const program = new Command('berth')
    .description('GitOps controller for Docker hosts: renders catalog templates and converges hosts to them.')
    .version(berthVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCatalogCommands(program);
  registerRenderCommand(program);
  registerStackCommands(program);
  registerDemoCommand(program);
  registerUpgradesCommand(program);
  registerServeCommand(program);
  registerLedgerCommands(program);
  registerBundleCommands(program);
  registerUserCommands(program);
  return program;
}

/** Runs the CLI and returns the exit code, so tests can call it in-process. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const restore = maskOutput();
  try {
    await program.parseAsync(argv);
    // Commands report "done, but not OK" (a failed apply, a stack not converged) by setting process.exitCode;
    // bin/berth.js assigns what main returns to process.exitCode, so returning 0 here would erase it.
    return Number(process.exitCode ?? 0) || 0;
  } catch (err) {
    return reportError(err);
  } finally {
    restore();
  }
}

/**
 * Everything a command prints — tables, --json, progress, errors — passes the one masking step (lib/mask.ts)
 * on its way to stdout and stderr, so no command can print a secret it happened to hold.
 */
function maskOutput(): () => void {
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  streams.forEach((stream, i) => {
    const write = originals[i];
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : chunk;
      return (write as (...a: unknown[]) => boolean).call(this, typeof text === 'string' ? mask(text) : text, ...rest);
    } as typeof stream.write;
  });
  return () => streams.forEach((stream, i) => void (stream.write = originals[i]));
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed help or the usage error; --help and --version exit 0.
    return err.exitCode;
  }
  if (err instanceof BerthError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return err instanceof ValidationError || err.kind === 'user' ? 1 : 2;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`internal error: ${message}\nThis is a bug in Berth; please report it with the command you ran.\n`);
  return 70;
}
