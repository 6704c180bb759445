/** What the benchmarks print: aligned tables, seconds, the verdict beside a target. */
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const secs = (s: number) => `${s.toFixed(2)} s`;
export const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export function say(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** The first column left-aligned, the others right-aligned, a rule under the header row. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The machine, for the report's first line. */
export const machine = () => `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), node ${process.version}`;

/**
 * Whether other work competed for the CPUs while the benchmark ran (the 1-minute load average above the CPU count).
 * A benchmark whose own workload loads the machine (`selfLoading`) is judged by the load before it started.
 */
export function loadLine(atStart: number, selfLoading = false): string {
  const end = os.loadavg()[0];
  const busy = (selfLoading ? atStart : Math.max(atStart, end)) > os.cpus().length;
  return `load average (1 min) at start ${atStart.toFixed(2)}, at end ${end.toFixed(2)}${selfLoading ? ' (the end includes the benchmark\'s own work)' : ''}${busy ? ' — the machine was busy with other work: figures are noisy, run again on a quiet machine' : ''}`;
}

/** What bin/berth.js would run: dist/ when it is at least as new as every source file, else the sources via tsx. */
export function buildState(root: string): { distFresh: boolean; distExists: boolean } {
  let built = 0;
  try {
    built = statSync(path.join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return { distFresh: false, distExists: false };
  }
  let newest = 0;
  for (const dir of ['cli', 'catalog', 'controller', 'engines', 'environment', 'ledger', 'server', 'console', 'lib', 'webhooks', 'upgrades', 'bundle', 'importers']) {
    let names: string[] = [];
    try {
      names = readdirSync(path.join(root, dir), { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const n of names) if (String(n).endsWith('.ts')) newest = Math.max(newest, statSync(path.join(root, dir, String(n))).mtimeMs);
  }
  return { distFresh: built >= newest, distExists: true };
}

/** Runs a benchmark's main; Ctrl-C cleans up what it made first (a second Ctrl-C leaves at once). */
export function runBench(main: () => Promise<void>, cleanup: () => Promise<unknown>): void {
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: cleaning up …\n');
    cleanup().finally(() => process.exit(130));
  });
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? (e as Error).message}\n`);
    process.exitCode = 1;
  });
}
