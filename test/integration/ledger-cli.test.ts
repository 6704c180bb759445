// The ledger from the other sides: a crash between apply and record (healed by the next reconcile, exactly one
// commit), `berth rollback` and `berth history` on a person's clone, and `berth apply` on a local environment
// repository recording into its own ledger branch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { desiredStack } from '../../engines/standalone/desired.ts';
import { driversFor, reconcileStack } from '../../controller/reconcile.ts';
import { dockerGate } from '../harness/env.ts';
import { runBerth } from './converge-fixtures.ts';
import { LEDGER, SECRET, useLedgerWorld } from './ledger-fixtures.ts';

const gate = await dockerGate();
const world = useLedgerWorld(gate, { 'lg-crash': '1', 'lg-cli': '1' }, ['lg-apply']);

test('a crash between apply and record: the next reconcile is unchanged and writes exactly the missing commit', gate.opts, async () => {
  const lw = world();
  const env = await lw.load();
  const spec = env.stacks.find((s) => s.name === 'lg-crash')!;
  const applied = await reconcileStack(env, spec, { why: 'test', drivers: driversFor(env.hosts), desired: await desiredStack(env, spec, { identities: [lw.identity] }) });
  assert.equal(applied.outcome, 'converged', applied.error?.message);
  assert.equal((await lw.ledger.history('lg-crash')).length, 0);

  const healed = await lw.deploy('lg-crash', 'timer');
  assert.equal(healed.outcome, 'unchanged');
  assert.ok(healed.ledgerCommit, 'the missing record is written');
  const again = await lw.deploy('lg-crash', 'timer');
  assert.equal(again.ledgerCommit, null);
  const history = await lw.ledger.history('lg-crash');
  assert.equal(history.length, 1);
  assert.equal(history[0].trigger, 'timer');
});

test('berth rollback on a clone reverts the latest deploy and pushes it; berth history lists it', gate.opts, async () => {
  const lw = world();
  const web1 = { h1: await lw.imageId('h1', 'berth-test/web:1'), h2: await lw.imageId('h2', 'berth-test/web:1') };
  const first = await lw.deploy('lg-cli');
  assert.ok(first.ledgerCommit, first.error?.message);
  await lw.commitEnv({ 'stacks/lg-cli.yml': await lw.stackText('2') }, 'lg-cli web 2');
  const second = await lw.deploy('lg-cli');
  assert.ok(second.ledgerCommit, second.error?.message);

  const clone = await lw.personClone('cli-clone');
  const r = await runBerth(['rollback', 'lg-cli', '--env', clone]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`lg-cli: reverted ${second.ledgerCommit!.slice(0, 7)} on ${LEDGER} \\(commit [0-9a-f]{7}\\), pushed\\.`));
  assert.match(r.stdout, /berth serve converges the hosts/);
  await lw.git(['fetch', '--quiet', 'origin'], clone);
  assert.equal(await lw.remoteHead(), (await lw.git(['rev-parse', `origin/${LEDGER}`], clone)).trim());
  assert.match(await lw.git(['log', '-1', '--format=%B', `origin/${LEDGER}`], clone), new RegExp(`^Revert "deploy lg-cli: [^\n]*"\n\nThis reverts commit ${second.ledgerCommit}\.`));

  const back = await lw.deploy('lg-cli');
  assert.equal(back.mode, 'rollback', back.error?.message);
  const images = await lw.images('lg-cli');
  assert.deepEqual(Object.entries(images).map(([k, id]) => id === web1[k.split('/')[0] as 'h1' | 'h2']), [true, true]);

  const h = await runBerth(['history', 'lg-cli', '--env', clone, '--json']);
  assert.equal(h.code, 0, h.stderr);
  const rows = JSON.parse(h.stdout) as { subject: string; mode: string; trigger: string }[];
  assert.deepEqual(rows.map((x) => [x.mode, x.trigger]), [['rollback', 'push'], ['rollback', 'revert'], ['render', 'push'], ['render', 'push']]);
  assert.match(rows[1].subject, /^Revert "deploy lg-cli: /);
  const table = await runBerth(['history', 'lg-cli', '--env', clone]);
  assert.match(table.stdout, /WHEN +COMMIT +WHAT +TRIGGER +OUTCOME/);

  const twice = await runBerth(['rollback', 'lg-cli', '--env', clone]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /rolled back already/);
  assert.match(twice.stderr, /--to COMMIT/);
});

test('berth apply on a local environment repository records into its berth/deployed branch', gate.opts, async () => {
  const lw = world();
  const dir = path.join(lw.tmp.path, 'local-env');
  mkdirSync(path.join(dir, 'stacks'), { recursive: true });
  const hosts = ['h1', 'h2'].map((name) => ({ name, endpoint: gate.host(name).dockerHost, labels: { role: 'web' } }));
  writeFileSync(path.join(dir, 'berth.yml'), stringify({ catalogs: [{ name: 'test', path: lw.catalogDir }], hosts }));
  writeFileSync(path.join(dir, 'stacks/lg-apply.yml'), await lw.stackText('1'));
  await lw.git(['init', '--quiet', '-b', 'main'], dir);
  await lw.git(['add', '.'], dir);
  await lw.git(['commit', '--quiet', '-m', 'env'], dir);

  const noKey = await runBerth(['apply', 'lg-apply', '--env', dir], { env: { BERTH_AGE_KEY: '', BERTH_AGE_KEY_FILE: '' } });
  assert.equal(noKey.code, 1);
  assert.match(noKey.stdout + noKey.stderr, /stack lg-apply: answer token is encrypted but no age key is configured/);

  const apply = await runBerth(['apply', 'lg-apply', '--env', dir], { env: { BERTH_AGE_KEY: lw.identity } });
  assert.equal(apply.code, 0, apply.stderr + apply.stdout);
  const sha = (await lw.git(['rev-parse', LEDGER], dir)).trim();
  assert.match(await lw.git(['log', '-1', '--format=%s', LEDGER], dir), /^deploy lg-apply: ledgered 1\.0\.0 on 2 hosts/);
  assert.match(await lw.git(['log', '-1', '--format=%B', LEDGER], dir), /\nBerth-Trigger: cli\n/);
  assert.ok(!(await lw.git(['grep', '-c', '-F', SECRET, LEDGER], dir).catch(() => '')));
  assert.equal((await lw.git(['status', '--porcelain'], dir)).trim(), '', 'the work tree is untouched');

  const again = await runBerth(['apply', 'lg-apply', '--env', dir], { env: { BERTH_AGE_KEY: lw.identity } });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await lw.git(['rev-parse', LEDGER], dir)).trim(), sha, 'nothing changed: no commit');
});
