// `berth serve` SIGKILLed at every step of a rolling update (each Docker event of the update, start-first and
// stop-first, as serve's own startup reconcile makes it) and at every failpoint of its ledger write, the push to the
// environment's server included; the next serve, on the same cache folder, must converge: one container under
// its own name on the pushed version, nothing `-old-` left, Ready on the pushed commit, and exactly one record
// of the deploy on the server's ledger branch. crash-apply.test.ts does the same for `berth apply`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dockerGate, waitFor } from '../harness/env.ts';
import { useHarnessStacks } from './converge-fixtures.ts';
import { ServeWorld, type Serve } from './serve-fixtures.ts';
import { describeEvent, followSteps } from './crash-fixtures.ts';
import { LEDGER_FAILPOINTS } from '../../lib/failpoint.ts';
import type { StackState } from '../../controller/stack-state.ts';

const gate = await dockerGate();
const STACK = 'sv-crashall';
let world: ServeWorld | undefined;
const serves: Serve[] = [];

useHarnessStacks(gate, [STACK], async () => {
  for (const s of serves) await s.stop();
  await world?.dispose();
});

async function setup(): Promise<{ w: ServeWorld; cacheDir: string }> {
  world ??= await ServeWorld.create(gate, STACK, { web_version: '1' });
  return { w: world, cacheDir: path.join(world.catalogDir, '..', 'crash-cache') };
}

async function serve(w: ServeWorld, cacheDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Serve> {
  const s = await w.serve({ cacheDir, extraEnv });
  serves.push(s);
  return s;
}

const exited = (s: Serve) => new Promise<void>((r) => (s.proc.exitCode !== null || s.proc.signalCode !== null ? r() : s.proc.once('exit', () => r())));

/** A serve that must be SIGKILLed by `arm` within the time a deploy takes; fails the test if it never is. */
async function killed(s: Serve, what: string, arm: (kill: () => void) => void): Promise<void> {
  let hit = false;
  arm(() => {
    hit = true;
    s.proc.kill('SIGKILL');
  });
  const late = setTimeout(() => s.proc.kill('SIGKILL'), 120_000);
  await exited(s);
  clearTimeout(late);
  assert.ok(hit, `serve was never at ${what}: killed after 2 minutes instead`);
}

/** The next serve converges on `sha`, with exactly one new ledger record; then it is stopped. */
async function recovers(w: ServeWorld, cacheDir: string, version: string, sha: string, recordsBefore: number, at: string): Promise<void> {
  const s = await serve(w, cacheDir);
  await w.converged(version, 1, 90_000);
  const st = await waitFor(async () => {
    const x = await s.json<StackState>(`/api/stacks/${STACK}`);
    return x.status === 'Ready' && x.desiredCommit === sha && x.deployedCommit ? x : undefined;
  }, { timeoutMs: 90_000, what: `Ready on ${sha.slice(0, 7)} after a kill at ${at}` });
  assert.deepEqual((await w.containers()).map((c) => `${c.name} ${c.state} ${c.image}`), [`${STACK}-web-1 running berth-test/web:${version}`], `after a kill at ${at}`);
  const ledger = await w.ledgerUpTo(st.deployedCommit);
  assert.equal(ledger.length, recordsBefore + 1, `exactly one record of the deploy after a kill at ${at}:\n${ledger.map((c) => c.message.split('\n')[0]).join('\n')}`);
  assert.match(ledger[0].message, new RegExp(`^Berth-Environment-Commit: ${sha}$`, 'm'));
  await s.stop();
}

let version = '1';
let order: 'start-first' | 'stop-first' = 'start-first';

interface KillPoint {
  /** Where serve is to be killed, for messages. */
  at: string;
  /** Made ready before serve starts (a step follower must see its first event), armed once it listens. */
  arm(s: Serve, kill: () => void): void;
  done?(): void;
}

/** Pushes the other version; a serve started on it is killed at `point`; the next one must make it right. */
async function round(point: () => Promise<KillPoint>, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const { w, cacheDir } = await setup();
  version = version === '1' ? '2' : '1';
  const before = (await w.ledger()).length;
  const sha = w.push({ web_version: version, order }, `web:${version}`);
  const p = await point();
  try {
    const s = await serve(w, cacheDir, env);
    await killed(s, p.at, (kill) => p.arm(s, kill));
  } finally {
    p.done?.();
  }
  await recovers(w, cacheDir, version, sha, before, p.at);
}

for (const o of ['start-first', 'stop-first'] as const) {
  test(`berth serve killed at every Docker step of a ${o} update converges when it starts again`, gate.opts, async (t) => {
    const { w, cacheDir } = await setup();
    order = o;
    // The version now running, then the steps of one uninterrupted update to the other, as the engine reports them.
    // Pushed before serve starts: serve's startup reconcile deploys it (the timer is an hour, no webhook is sent).
    const settledSha = w.push({ web_version: version, order }, `${o}: web:${version}`);
    const first = await serve(w, cacheDir);
    await w.converged(version);
    await waitFor(async () => {
      const x = await first.json<StackState>(`/api/stacks/${STACK}`);
      return x.status === 'Ready' && x.desiredCommit === settledSha;
    }, { timeoutMs: 90_000, what: `the ${o} setting deployed` });
    await first.stop();
    const follow = await followSteps(gate.docker('h1'), STACK, () => {});
    version = version === '1' ? '2' : '1';
    const sha = w.push({ web_version: version, order }, `web:${version}`);
    const whole = await serve(w, cacheDir);
    await waitFor(async () => {
      const x = await whole.json<StackState>(`/api/stacks/${STACK}`);
      return x.status === 'Ready' && x.desiredCommit === sha;
    }, { timeoutMs: 90_000, what: 'the uninterrupted update' });
    await whole.stop();
    follow.stop();
    const steps = follow.events.map(describeEvent);
    assert.ok(steps.length >= 5, `an update is several steps: ${steps.join(', ')}`);
    for (let i = 0; i < steps.length; i++) {
      await t.test(`killed at step ${i + 1} of ${steps.length}: ${steps[i].replace(/[0-9a-f]{12}/, '…')}`, () =>
        round(async () => {
          let kill: (() => void) | undefined;
          let due = false;
          const f = await followSteps(gate.docker('h1'), STACK, (_e, n) => {
            if (n !== i) return;
            due = true;
            kill?.();
          });
          return {
            at: `step ${i + 1}`,
            arm: (_s, k) => (due ? k() : (kill = k)),
            done: () => f.stop(),
          };
        }),
      );
    }
  });
}

test('berth serve killed at every step of its ledger write, its push included, records the deploy exactly once', gate.opts, async (t) => {
  for (const point of LEDGER_FAILPOINTS) {
    await t.test(`killed at ${point}`, async () => {
      await round(async () => ({
        at: point,
        arm: (s, kill) => {
          let err = '';
          s.proc.stderr!.on('data', (d: Buffer) => {
            err += d.toString('utf8');
            if (err.includes(`berth failpoint: ${point}\n`)) kill();
          });
        },
      }), { BERTH_FAILPOINTS: point });
    });
  }
});
