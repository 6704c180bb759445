/**
 * Named points in multi-step writes where the crash tests (test/integration/crash-*.test.ts) stop a real
 * process, the way etcd's gofail does: with `BERTH_FAILPOINTS=ref-locked` in its environment, a Berth process
 * reaching that point says so on stderr (`berth failpoint: ref-locked`) and waits there for its SIGKILL.
 * Unset — always, outside those tests — a failpoint is one lookup in a set made once.
 */
const armed = new Set((process.env.BERTH_FAILPOINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** The points a crash test can arm, in the order a ledger write passes them. */
export const LEDGER_FAILPOINTS = ['objects-written', 'ref-locked', 'ref-lock-written', 'ref-updated', 'push'] as const;
export type FailpointName = (typeof LEDGER_FAILPOINTS)[number];

export async function failpoint(name: FailpointName): Promise<void> {
  if (!armed.has(name)) return;
  process.stderr.write(`berth failpoint: ${name}\n`);
  await new Promise<never>(() => setInterval(() => {}, 60_000));
}
