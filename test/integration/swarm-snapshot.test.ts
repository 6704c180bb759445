// Data snapshots around an upgrade on the real test Swarm (#15): a database-like service pinned to bsw2 writes its
// file into a named volume at 1.0.0; 2.0.0's start rewrites it. The upgrade snapshots the volume on bsw2 through
// that node's own engine (berth.yml `swarms[].nodes`) and records it in the ledger commit; `berth snapshots` lists
// it by node; `berth rollback --with-data` scales the service to 0, restores the volume, and the rollback deploy
// runs 1.0.0 on 1.0.0's data, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type Docker from 'dockerode';
import { listSnapshots } from '../../engines/docker/snapshot.ts';
import { volumeFileHex } from '../harness/volume-file.ts';
import { BUSYBOX_IMAGE, busyboxImage } from '../harness/images.ts';
import { SWARM_IMAGES, swarmGate, testSwarm } from '../harness/swarm.ts';
import { runBerth, writeCatalog } from './converge-fixtures.ts';
import { useSwarmWorld } from './swarm-fixtures.ts';

const found = await testSwarm([...SWARM_IMAGES, busyboxImage()]);
const STACK = 'bt-swsnap';
const VOLUME = `${STACK}_data`;
const LEDGER = 'berth/deployed';

const cleanSnapshots = async () => {
  for (const n of found.swarm?.nodes ?? []) {
    for (const s of await listSnapshots(n.docker, STACK).catch(() => [])) await n.docker.getVolume(s.id).remove({ force: true }).catch(() => undefined);
  }
};
const world = useSwarmWorld(found, STACK, () => void cleanSnapshots());

const compose = (script: string) => `services:
  db:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "${script}; exec sleep 600"]
    stop_grace_period: 1s
    volumes: [data:/data]
    deploy:
      endpoint_mode: dnsrr
      placement:
        constraints: [node.labels.berth-test.node == bsw2]
volumes:
  data: {}
`;
const V1 = "test -f /data/db || printf 'v1 rows\\\\001\\\\n' > /data/db";
const V2 = "printf 'v2 migrated: ' > /data/new && cat /data/db >> /data/new && mv /data/new /data/db";

/** The volume's file on the node (hex: every byte counts). */
const dbBytes = (docker: Docker) => volumeFileHex(docker, VOLUME, 'db');
const text = (hex: string) => Buffer.from(hex, 'hex').toString('latin1');

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('an upgrade on the Swarm snapshots the volume on its node; rollback --with-data restores it there', swarmGate(found), async () => {
  if (!found.swarm) throw new Error(found.reason);
  await cleanSnapshots();
  const swarm = found.swarm;
  const bsw2 = swarm.node('bsw2').docker;
  const w = world();
  writeCatalog(path.join(w.tmp.path, 'catalog'), { snapdb: { description: 'A database-like service', versions: { '1.0.0': { compose: compose(V1) }, '2.0.0': { compose: compose(V2) } } } });
  writeFileSync(path.join(w.envDir, 'berth.yml'), stringify({
    catalogs: [{ name: 'test', path: '../catalog' }], hosts: [], snapshots: { helper_image: BUSYBOX_IMAGE },
    swarms: [{ name: 'test', managers: [swarm.manager], nodes: swarm.nodes.map((n) => n.dockerHost) }],
  }));
  const version = (v: string) => {
    writeFileSync(path.join(w.envDir, 'stacks', `${STACK}.yml`), stringify({ template: 'snapdb', version: v, swarm: 'test' }));
    w.git('add', '-A');
    w.git('commit', '-qm', `${STACK} ${v}`);
  };
  const deploy = async (mode = 'render') => {
    const o = await w.deploy(STACK);
    assert.equal(o.outcome, 'converged', `${o.error?.message ?? ''}\n${o.events.join('\n')}`);
    assert.equal(o.mode, mode);
  };
  const running = async (script: RegExp) => until(`a task running ${script}`, async () => {
    const cs = await bsw2.listContainers({ filters: JSON.stringify({ label: [`com.docker.stack.namespace=${STACK}`] }) });
    return cs.some((c) => script.test(c.Command)) ? true : undefined;
  });

  version('1.0.0');
  await deploy();
  await running(/test -f \/data\/db/);
  const v1Data = await until('v1 to write its data', async () => dbBytes(bsw2).then((b) => (b ? b : undefined)));
  assert.equal(text(v1Data), 'v1 rows\u0001\n');

  version('2.0.0');
  await deploy();
  await until('v2 to migrate the data', async () => (text(await dbBytes(bsw2)).startsWith('v2 migrated: ') ? true : undefined));
  const record = parse(w.gitIn(w.envDir, 'show', `${LEDGER}:stacks/${STACK}/deploy.yml`)) as { snapshots?: Record<string, Record<string, string>> };
  const id = record.snapshots?.bsw2?.[VOLUME];
  assert.match(id ?? '', new RegExp(`^berth-snap-${STACK}-${VOLUME}-[0-9a-f]{8}$`), JSON.stringify(record.snapshots));
  assert.deepEqual(Object.keys(record.snapshots ?? {}), ['bsw2'], 'only the node that holds the volume');
  assert.match(w.gitIn(w.envDir, 'log', '-1', '--format=%B', LEDGER), new RegExp(`Data snapshot before the upgrade on bsw2: ${VOLUME} → ${id}`));

  const listed = await runBerth(['snapshots', STACK, '--env', w.envDir]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, new RegExp(`bsw2 +│? *${VOLUME} +│? *1\\.0\\.0 `));

  const rb = await runBerth(['rollback', STACK, '--with-data', '--env', w.envDir]);
  assert.equal(rb.code, 0, rb.stderr);
  await deploy('rollback');
  await running(/test -f \/data\/db/);
  assert.equal(await dbBytes(bsw2), v1Data, "1.0.0's data, byte for byte");
  assert.match(w.gitIn(w.envDir, 'log', '-1', '--format=%B', LEDGER), new RegExp(`^Data restored on bsw2: ${VOLUME} ← ${id}$`, 'm'));
  const services = await swarm.nodes[0]!.docker.listServices({ filters: JSON.stringify({ label: [`com.docker.stack.namespace=${STACK}`] }) });
  assert.equal(services[0]?.Spec?.Mode?.Replicated?.Replicas, 1, 'the rollback deploy set the replicas back');
});
