/**
 * V8 tuning for a process that runs for weeks and is idle almost all the time (`berth serve`), set from
 * inside because operators start it as `berth serve` or `node …/berth.js serve`, not with V8 flags.
 *
 * - The young generation: V8 doubles it, up to 2 × 16 MiB of semi-spaces on 64-bit, whenever enough objects
 *   survive its scavenges, and keeps that size for good; for `berth serve` that was a third of its resident
 *   memory. `--max-semi-space-size` would cap it but only counts at start-up; the growth factor is read at each
 *   growth, so setting it to 1 before the process has grown keeps the young generation at its initial 1 MiB
 *   semi-spaces (V8 clamps the flag to ≥ 2 only when it reads the command line).
 * - The optimizing compiler (TurboFan): its machine code and deoptimization data were another 10 MiB, and it
 *   buys nothing here: a controller's time goes to waiting on Docker and git, and bench/serve.ts measured the
 *   same idle CPU and the same converge time without it. Ignition and Sparkplug still run everything.
 *
 * Flags given on the command line or in NODE_OPTIONS win: an operator who tunes V8 keeps what they chose.
 */
import v8 from 'node:v8';

const TUNING: Array<{ flag: string; unless: RegExp }> = [
  { flag: '--semi-space-growth-factor=1', unless: /--(max-semi-space-size|semi-space-growth-factor)\b/ },
  { flag: '--no-opt', unless: /--(no-)?(opt|turbofan)\b/ },
];

/** Applies the tuning; returns the flags set (for the log). */
export function tuneForLongIdleProcess(): string[] {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  const set = TUNING.filter((t) => !t.unless.test(given)).map((t) => t.flag);
  for (const flag of set) v8.setFlagsFromString(flag);
  return set;
}
