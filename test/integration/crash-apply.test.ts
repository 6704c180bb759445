// `berth apply` SIGKILLed at every step of a rolling update — each Docker event of the update on the engine, in
// stop-first and start-first order — and at every failpoint of its ledger write; the next `berth apply` must
// converge: the replica once, under its own name, on the new version and healthy, no `-old-` container left,
// and exactly one ledger record for the deploy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { dockerGate } from '../harness/env.ts';
import { useHarnessStacks, World, type TemplateDef } from './converge-fixtures.ts';
import { cliContext } from '../../cli/context.ts';
import { deployStack } from '../../controller/deploy.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import { assertKilled, containersOf, describeEvent, followSteps, git, killAtEvent, killAtFailpoint, ledgerRecords, startBerth, type Killed } from './crash-fixtures.ts';
import { LEDGER_FAILPOINTS } from '../../lib/failpoint.ts';

const gate = await dockerGate();
const STACKS = ['crash-stop', 'crash-start'];

const roll: TemplateDef = {
  description: 'One web replica on h1, updated in the order asked for',
  versions: {
    '1.0.0': {
      questions: [{ variable: 'v', type: 'string', default: '1' }, { variable: 'order', type: 'string', default: 'stop-first' }],
      compose: `services:
  web:
    image: berth-test/web:{{v}}
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/"]
      interval: 300ms
      timeout: 10s
      retries: 5
    stop_grace_period: 1s
    deploy:
      placement:
        constraints: [node.hostname == h1]
      update_config:
        order: {{order}}
        failure_action: rollback
        monitor: 60s
`,
    },
  },
};

let world: World | undefined;
useHarnessStacks(gate, STACKS, () => world?.dispose());

async function setup(): Promise<World> {
  if (world) return world;
  world = new World(gate, undefined, { roll });
  await git(world.envDir, 'init', '-q', '-b', 'main');
  return world;
}

async function commitStack(w: World, stack: string, order: string, v: string): Promise<void> {
  writeFileSync(path.join(w.envDir, 'stacks', `${stack}.yml`), stringify({ template: 'roll', version: '1.0.0', answers: { v, order } }));
  await git(w.envDir, 'add', '-A');
  await git(w.envDir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', `${stack} web:${v}`);
}

/** What `berth apply STACK` does (deploy and record), in this process: the machine is shared, processes are slow to start. */
async function apply(w: World, stack: string): Promise<void> {
  const env = await loadEnvironment(w.envDir);
  const ctx = await cliContext(env);
  const o = await deployStack(ctx, env.stacks.find((s) => s.name === stack)!, { kind: 'cli', why: 'cli' });
  const failed = Object.entries(o.result?.hosts ?? {}).filter(([, h]) => h.error).map(([h, r]) => `${h}: ${r.error}`);
  assert.ok(!o.error && (o.outcome === 'converged' || o.outcome === 'unchanged'), `apply ${stack}: ${o.outcome} ${o.error?.message ?? ''} ${failed.join('\n')}`);
}

/** v1 deployed; v2 applied by a `berth apply` process `kill` kills; the next apply must make it all right. */
async function round(stack: string, order: string, kill: (args: string[]) => Promise<Killed>, again = false): Promise<Killed> {
  const w = await setup();
  const h1 = gate.docker('h1');
  await commitStack(w, stack, order, '1');
  await apply(w, stack);
  assert.deepEqual(await containersOf(h1, stack), [`${stack}-web-1 running berth-test/web:1 healthy`]);
  const before = await ledgerRecords(w.envDir, stack);
  await commitStack(w, stack, order, '2');
  const killed = await kill(['apply', stack, '--env', w.envDir]);
  await apply(w, stack);
  assert.deepEqual(await containersOf(h1, stack), [`${stack}-web-1 running berth-test/web:2 healthy`], `after a kill at ${killed.at}`);
  const after = await ledgerRecords(w.envDir, stack);
  assert.equal(after.length, before.length + 1, `exactly one record of the deploy after a kill at ${killed.at}:\n${after.slice(before.length).join('\n')}`);
  assert.match(await git(w.envDir, 'show', `berth/deployed:stacks/${stack}/deploy.yml`), /berth-test\/web:2/);
  if (again) {
    // And it stays put: a further apply changes and records nothing.
    await apply(w, stack);
    assert.equal((await ledgerRecords(w.envDir, stack)).length, after.length);
  }
  return killed;
}

for (const [stack, order] of [['crash-stop', 'stop-first'], ['crash-start', 'start-first']] as const) {
  test(`berth apply killed at every Docker step of a ${order} update converges on the next run`, gate.opts, async (t) => {
    // The steps of one uninterrupted update, as the engine reports them.
    let steps: string[] = [];
    await round(stack, order, async (args) => {
      const follow = await followSteps(gate.docker('h1'), stack, () => {});
      const p = startBerth(args);
      const code = await p.done;
      follow.stop();
      assert.equal(code, 0, p.out.stderr);
      steps = follow.events.map(describeEvent);
      return { killed: false, code, ...p.out, at: 'nothing' };
    });
    assert.ok(steps.length >= 6, `an update is several steps: ${steps.join(', ')}`);
    for (let i = 0; i < steps.length; i++) {
      await t.test(`killed at step ${i + 1} of ${steps.length}: ${steps[i].replace(/[0-9a-f]{12}/, '…')}`, async () => {
        const k = await round(stack, order, (args) => killAtEvent(gate.docker('h1'), stack, i, args), i === steps.length - 1);
        assertKilled(k, `step ${i + 1}`);
      });
    }
  });
}

test('berth apply killed at every step of its ledger write records the deploy exactly once on the next run', gate.opts, async (t) => {
  // A local repository has no remote to push to: `push` is the serve harness's.
  for (const point of LEDGER_FAILPOINTS.filter((p) => p !== 'push')) {
    await t.test(`killed at ${point}`, async () => {
      const k = await round('crash-stop', 'stop-first', (args) => killAtFailpoint(point, args));
      assertKilled(k, point);
    });
  }
});
