// An upgrade deploy snapshots the stack's named volumes first and records them in its ledger commit: a template
// whose v1 writes a database file into a named volume and whose v2 start script rewrites it, deployed with
// `berth apply` from a local environment repository onto h1. A rollback without --with-data says the data stays;
// with it (`berth rollback --with-data`, or `restore_data: true` in a revert made by hand) the next deploy stops
// the service, restores the snapshot and runs v1 on v1's data, byte for byte, once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { dockerGate, tempDir } from '../harness/env.ts';
import { BUSYBOX_IMAGE } from '../harness/images.ts';
import { runBerth, useHarnessStacks, writeCatalog } from './converge-fixtures.ts';
import { listSnapshots } from '../../engines/docker/snapshot.ts';
import { volumeFileHex } from '../harness/volume-file.ts';

const gate = await dockerGate();
const STACK = 'snap-up';
const WD = 'snap-wd';
const TO = 'snap-to';
const LEDGER = 'berth/deployed';
useHarnessStacks(gate, [STACK, WD, TO]);
const tmp = tempDir('berth-snap-up-');

const compose = (script: string) => `services:
  db:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "${script}; exec sleep 600"]
    stop_grace_period: 1s
    volumes: [data:/data]
volumes:
  data: {}
`;
// v1 creates its database once; v2's start script migrates it on every start.
const V1 = "test -f /data/db || printf 'v1 rows\\\\001\\\\n' > /data/db";
const V2 = "printf 'v2 migrated: ' > /data/new && cat /data/db >> /data/new && mv /data/new /data/db";
const V3 = "printf 'v3 migrated: ' > /data/new && cat /data/db >> /data/new && mv /data/new /data/db";

async function cleanSnapshots(stack = STACK): Promise<void> {
  if (!gate.ok) return;
  const docker = gate.docker('h1');
  for (const s of await listSnapshots(docker, stack)) await docker.getVolume(s.id).remove({ force: true }).catch(() => undefined);
  await docker.getVolume(`${stack}_data`).remove({ force: true }).catch(() => undefined);
}
after(async () => {
  await cleanSnapshots();
  await cleanSnapshots(WD);
  await cleanSnapshots(TO);
  tmp.remove();
});

const gitEnv = { PATH: process.env.PATH, HOME: tmp.path, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Ops', GIT_AUTHOR_EMAIL: 'ops@example.com', GIT_COMMITTER_NAME: 'Ops', GIT_COMMITTER_EMAIL: 'ops@example.com' };
const git = async (args: string[], cwd: string) => (await promisify(execFile)('git', args, { cwd, env: gitEnv })).stdout;

/** The volume's database file on h1 (hex, so every byte counts). */
const dbBytes = (stack = STACK) => volumeFileHex(gate.docker('h1'), `${stack}_data`, 'db');

/** A catalog with snapdb 1.0.0 and 2.0.0, and an environment repository deploying `stack` at 1.0.0 onto h1. */
/** `declared`: the helper image named in berth.yml's `snapshots:` instead of $BERTH_SNAPSHOT_HELPER_IMAGE. */
async function world(stack: string, declared = false) {
  await cleanSnapshots(stack);
  const catalog = path.join(tmp.path, `catalog-${stack}`);
  writeCatalog(catalog, { snapdb: { description: 'A database-like service', versions: { '1.0.0': { compose: compose(V1) }, '2.0.0': { compose: compose(V2) }, '3.0.0': { compose: compose(V3) } } } });
  const dir = path.join(tmp.path, `env-${stack}`);
  mkdirSync(path.join(dir, 'stacks'), { recursive: true });
  writeFileSync(path.join(dir, 'berth.yml'), stringify({
    catalogs: [{ name: 'test', path: catalog }], hosts: [{ name: 'h1', endpoint: gate.host('h1').dockerHost }], ...(declared ? { snapshots: { keep: 2, helper_image: BUSYBOX_IMAGE } } : {}),
  }));
  const stackFile = (v: string) => writeFileSync(path.join(dir, `stacks/${stack}.yml`), `template: snapdb\nversion: ${v}\n`);
  stackFile('1.0.0');
  await git(['init', '--quiet', '-b', 'main'], dir);
  await git(['add', '.'], dir);
  await git(['commit', '--quiet', '-m', 'v1'], dir);
  const berth = (args: string[]) => runBerth([...args, '--env', dir], declared ? {} : { env: { BERTH_SNAPSHOT_HELPER_IMAGE: BUSYBOX_IMAGE } });
  return { dir, stackFile, berth };
}

test('an upgrade snapshots the named volume before v2 migrates it and records the snapshot in its ledger commit', gate.opts, async () => {
  const { dir, stackFile, berth } = await world(STACK);

  const v1 = await berth(['apply', STACK]);
  assert.equal(v1.code, 0, v1.stderr + v1.stdout);
  const v1Bytes = await dbBytes();
  assert.equal(Buffer.from(v1Bytes, 'hex').toString('latin1'), 'v1 rows\u0001\n');
  assert.equal(parse(await git(['show', `${LEDGER}:stacks/${STACK}/deploy.yml`], dir)).snapshots, undefined, 'a first deploy has no data to keep');

  stackFile('2.0.0');
  await git(['commit', '--quiet', '-am', 'v2'], dir);
  const v2 = await berth(['apply', STACK]);
  assert.equal(v2.code, 0, v2.stderr + v2.stdout);
  assert.equal(Buffer.from(await dbBytes(), 'hex').toString('latin1'), 'v2 migrated: v1 rows\u0001\n');

  const record = parse(await git(['show', `${LEDGER}:stacks/${STACK}/deploy.yml`], dir)) as { version: string; snapshots?: Record<string, Record<string, string>> };
  assert.equal(record.version, '2.0.0');
  const id = record.snapshots?.h1?.[`${STACK}_data`];
  assert.match(id ?? '', new RegExp(`^berth-snap-${STACK}-${STACK}_data-[0-9a-f]{8}$`), JSON.stringify(record.snapshots));
  const message = await git(['log', '-1', '--format=%B', LEDGER], dir);
  assert.match(message, new RegExp(`Data snapshot before the upgrade on h1: ${STACK}_data → ${id}`));
  const listed = await listSnapshots(gate.docker('h1'), STACK);
  assert.deepEqual(listed.map((s) => [s.id, s.version]), [[id, '1.0.0']], 'labelled with the version whose data it holds');

  // The same version again: no new snapshot, no commit (the record keeps naming the upgrade's snapshot).
  const head = await git(['rev-parse', LEDGER], dir);
  const again = await berth(['apply', STACK]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await git(['rev-parse', LEDGER], dir), head);
  assert.equal((await listSnapshots(gate.docker('h1'), STACK)).length, 1);

  const table = await berth(['snapshots', STACK]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`h1 +│? *${STACK}_data +│? *1\\.0\\.0 `));

  // Exported off the host when asked: a tar of the volume's files as v1 left them.
  const out = path.join(tmp.path, 'exported.tar');
  const exported = await berth(['snapshot', 'export', id!, '--out', out]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stderr, new RegExp(`exported ${id} \\(${STACK}_data of ${STACK} 1\\.0\\.0, [\\d.]+ (B|KiB)\\) from h1 to ${out.replace(/[.]/g, '\\.')}`));
  assert.equal((await promisify(execFile)('tar', ['-xOf', out, './db'], { encoding: 'latin1' })).stdout, 'v1 rows\u0001\n');
  const missing = await berth(['snapshot', 'export', 'berth-snap-nope', '--out', path.join(tmp.path, 'nope.tar')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /no host of the environment has snapshot berth-snap-nope/);
  assert.ok(!existsSync(path.join(tmp.path, 'nope.tar')), 'nothing written for a snapshot that is not there');

  // A rollback without --with-data brings v1's containers back over v2's data, and says so.
  const rb = await berth(['rollback', STACK]);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, new RegExp(`The data was not restored: the volumes hold what ${STACK} 2\\.0\\.0 left in them`));
  assert.match(rb.stdout, new RegExp(`h1: ${STACK}_data ← ${id}`));
  const back = await berth(['apply', STACK]);
  assert.equal(back.code, 0, back.stderr + back.stdout);
  assert.match(await git(['log', '-1', '--format=%s', LEDGER], dir), /^roll back snap-up to /);
  const running = await gate.docker('h1').listContainers({ filters: JSON.stringify({ label: [`berth.stack=${STACK}`] }) });
  assert.equal(running.length, 1);
  assert.match(running[0].Command, /test -f \/data\/db/, 'v1 runs again');
  assert.equal(Buffer.from(await dbBytes(), 'hex').toString('latin1'), 'v2 migrated: v1 rows\u0001\n', "v2's data stays");
});

test('berth rollback --with-data, and restore_data: true in a revert made by hand: v1 runs again on v1\'s data, restored once', gate.opts, async () => {
  // The helper image and the keep count from berth.yml (snapshots:), not from Berth's environment variables.
  const { dir, stackFile, berth } = await world(WD, true);
  const apply = async () => {
    const r = await berth(['apply', WD]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  };
  const runsV1 = async () => {
    const running = await gate.docker('h1').listContainers({ filters: JSON.stringify({ label: [`berth.stack=${WD}`] }) });
    assert.equal(running.length, 1);
    assert.match(running[0].Command, /test -f \/data\/db/, 'v1 runs again');
  };

  await apply();
  const v1Data = await dbBytes(WD);
  assert.equal(Buffer.from(v1Data, 'hex').toString('latin1'), 'v1 rows\u0001\n');
  stackFile('2.0.0');
  await git(['commit', '--quiet', '-am', 'v2'], dir);
  await apply();
  assert.equal(Buffer.from(await dbBytes(WD), 'hex').toString('latin1'), 'v2 migrated: v1 rows\u0001\n');

  const history = await berth(['history', WD, '--json']);
  assert.deepEqual((JSON.parse(history.stdout) as Array<{ snapshots?: true }>).map((h) => h.snapshots === true), [true, false], 'the upgrade is the deploy whose rollback can restore data');
  const rb = await berth(['rollback', WD, '--with-data']);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, /The deploy of this rollback restores the data snap-wd had before 2\.0\.0: it stops the services using the volumes/);
  assert.match(await git(['log', '-1', '--format=%B', LEDGER], dir), /^Berth-Restore-Data: true$/m);
  await apply();
  await runsV1();
  assert.equal(await dbBytes(WD), v1Data, "v1's data, byte for byte");
  const message = await git(['log', '-1', '--format=%B', LEDGER], dir);
  assert.match(message, new RegExp(`^roll back ${WD} to `));
  assert.match(message, new RegExp(`^Data restored on h1: ${WD}_data ← berth-snap-${WD}-${WD}_data-[0-9a-f]{8}$`, 'm'));
  // Restored once: the next deploy of the same rollback changes nothing, data included.
  const head = await git(['rev-parse', LEDGER], dir);
  await apply();
  assert.equal(await git(['rev-parse', LEDGER], dir), head);
  assert.equal(await dbBytes(WD), v1Data);

  // A new environment commit supersedes the rollback: v2 again, over a new snapshot; then a revert by hand.
  await git(['commit', '--quiet', '--allow-empty', '-m', 'v2 again'], dir);
  await apply();
  assert.equal(Buffer.from(await dbBytes(WD), 'hex').toString('latin1'), 'v2 migrated: v1 rows\u0001\n');
  const wt = path.join(tmp.path, 'ledger-wd');
  await git(['worktree', 'add', '--quiet', wt, LEDGER], dir);
  const upgrade = (await git(['rev-parse', 'HEAD'], wt)).trim();
  await git(['revert', '--no-edit', '--no-commit', 'HEAD'], wt);
  // As `git revert --edit` leaves it, with a line the person added.
  await git(['commit', '--quiet', '-m', `Revert the upgrade of ${WD}\n\nThis reverts commit ${upgrade}.\nThe migration broke reports; back to 1.0.0 with its data.\n\nrestore_data: true`], wt);
  await apply();
  await runsV1();
  assert.equal(await dbBytes(WD), v1Data, 'restored by the hand-made revert too');
  assert.match(await git(['log', '-1', '--format=%B', LEDGER], dir), /^Data restored on h1: /m);

  // Asking for data a deploy never snapshotted is refused before anything is written.
  const before = await git(['rev-parse', LEDGER], dir);
  await git(['commit', '--quiet', '--allow-empty', '-m', 'v2 once more'], dir);
  stackFile('1.0.0');
  await git(['commit', '--quiet', '-am', 'pin 1.0.0 in the environment'], dir);
  await apply();
  const refused = await berth(['rollback', WD, '--with-data']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /took no data snapshots: there is no data to restore/);
  assert.match(refused.stderr, /hint: .*without --with-data/);
  assert.notEqual(await git(['rev-parse', LEDGER], dir), before, 'the deploys after were recorded');
  assert.doesNotMatch(await git(['log', '-1', '--format=%B', LEDGER], dir), /Berth-Restore-Data/, 'no revert was made');
});

test('berth rollback --to an older deploy --with-data: the data as that state left it, from the upgrade away from it', gate.opts, async () => {
  const { dir, stackFile, berth } = await world(TO);
  const apply = async () => {
    const r = await berth(['apply', TO]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  };
  const head = async () => (await git(['rev-parse', LEDGER], dir)).trim();
  await apply();
  const v1Data = await dbBytes(TO);
  const v1Deploy = await head();
  for (const v of ['2.0.0', '3.0.0']) {
    stackFile(v);
    await git(['commit', '--quiet', '-am', v], dir);
    await apply();
  }
  assert.equal(Buffer.from(await dbBytes(TO), 'hex').toString('latin1'), 'v3 migrated: v2 migrated: v1 rows\u0001\n');
  const v3Deploy = await head();
  const v2Deploy = (await git(['rev-parse', `${LEDGER}~1`], dir)).trim();
  const v2Snapshot = (parse(await git(['show', `${v2Deploy}:stacks/${TO}/deploy.yml`], dir)) as { snapshots: Record<string, Record<string, string>> }).snapshots.h1![`${TO}_data`];

  const rb = await berth(['rollback', TO, '--to', v1Deploy, '--with-data']);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, new RegExp(`restores the data ${TO} had before 2\\.0\\.0 \\(snapshots of ${v2Deploy.slice(0, 7)}\\)`));
  const restore = await git(['log', '-1', '--format=%B', LEDGER], dir);
  assert.match(restore, new RegExp(`^Berth-Rollback-To: ${v1Deploy}$`, 'm'));
  assert.match(restore, new RegExp(`^Berth-Restore-Data-From: ${v2Deploy}$`, 'm'));
  await apply();
  const running = await gate.docker('h1').listContainers({ filters: JSON.stringify({ label: [`berth.stack=${TO}`] }) });
  assert.match(running[0]?.Command ?? '', /test -f \/data\/db/, 'v1 runs again');
  assert.equal(await dbBytes(TO), v1Data, "v1's data, byte for byte: the snapshot taken before 2.0.0, not the one before 3.0.0");
  assert.match(await git(['log', '-1', '--format=%B', LEDGER], dir), new RegExp(`^Data restored on h1: ${TO}_data ← ${v2Snapshot}$`, 'm'));

  // The state of the 3.0.0 deploy: what came after it (this rollback) took no snapshots of 3.0.0's data.
  const before = await head();
  const refused = await berth(['rollback', TO, '--to', v3Deploy, '--with-data']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /moved snap-to from 3\.0\.0 to 1\.0\.0, took no data snapshots/);
  assert.match(refused.stderr, new RegExp(`hint: Roll back without --with-data: berth rollback ${TO} --to ${v3Deploy.slice(0, 7)}`));
  assert.equal(await head(), before, 'nothing committed');
});
