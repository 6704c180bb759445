// Volume snapshots on a real engine (h1): a helper container tars a named volume into a snapshot volume, a
// restore brings the bytes back exactly (also over later writes and with a container using the volume running),
// pruning keeps the newest N per volume, and `berth snapshots` lists them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { dockerGate, removeLabeled, tempDir, TEST_LABEL } from '../harness/env.ts';
import { runBerth } from './converge-fixtures.ts';
import { BUSYBOX_IMAGE } from '../harness/images.ts';
import { listSnapshots, pruneSnapshots, restoreWithServicesStopped, takeSnapshot, SNAPSHOT_LABEL } from '../../engines/docker/snapshot.ts';
import type Docker from 'dockerode';

const gate = await dockerGate();
const stack = `snapt-${randomBytes(3).toString('hex')}`;
const volume = `${stack}_data`;

async function cleanup(docker: Docker): Promise<void> {
  await removeLabeled(docker, `${TEST_LABEL}=${stack}`);
  for (const s of await listSnapshots(docker, stack)) await docker.getVolume(s.id).remove({ force: true }).catch(() => undefined);
  await docker.getVolume(volume).remove({ force: true }).catch(() => undefined);
}

after(async () => {
  if (gate.ok) await cleanup(gate.docker('h1'));
});

/** Runs a shell script in a busybox container with the volume at /data; its stdout. */
async function sh(docker: Docker, script: string): Promise<string> {
  const c = await docker.createContainer({ Image: BUSYBOX_IMAGE, Entrypoint: ['sh', '-c'], Cmd: [script], Labels: { [TEST_LABEL]: stack }, HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }] } });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const out = (await c.logs({ stdout: true, stderr: true })).toString('utf8');
    assert.equal(StatusCode, 0, out);
    return demux(await c.logs({ stdout: true }));
  } finally {
    await c.remove({ force: true });
  }
}

/** A non-TTY container's log is framed: 8-byte headers (stream, size) before each chunk. */
function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; i += 8 + buf.readUInt32BE(i + 4)) out.push(buf.subarray(i + 8, i + 8 + buf.readUInt32BE(i + 4)));
  return Buffer.concat(out).toString('utf8');
}

const DIGEST = 'set -e; cd /data; busybox find . -type f | busybox sort | while read f; do busybox md5sum "$f"; busybox stat -c "%a %s" "$f"; done; ls -a /data';

test('snapshot, rewrite, restore with the user stopped and started again: the bytes come back; prune keeps N', gate.opts, async () => {
  const docker = gate.docker('h1');
  await cleanup(docker);
  await docker.createVolume({ Name: volume, Labels: { [TEST_LABEL]: stack } });
  await sh(docker, 'printf "v1 row\\n\\001\\377" > /data/db && mkdir -p /data/sub && echo hidden > /data/.dot && chmod 600 /data/db && echo deep > /data/sub/x');
  const v1 = await sh(docker, DIGEST);
  assert.match(v1, /\.\/db\n600 9\n/, v1);
  assert.match(v1, /\.dot/);

  const snap = await takeSnapshot(docker, { stack, volume, version: '1.0.0', helperImage: BUSYBOX_IMAGE });
  assert.match(snap.id, new RegExp(`^berth-snap-${stack}-${volume}-[0-9a-f]{8}$`));
  const labels = (await docker.getVolume(snap.id).inspect()).Labels;
  assert.equal(labels[SNAPSHOT_LABEL.stack], stack);
  assert.equal(labels[SNAPSHOT_LABEL.volume], volume);
  assert.equal(labels[SNAPSHOT_LABEL.version], '1.0.0');
  assert.ok(!Number.isNaN(Date.parse(labels[SNAPSHOT_LABEL.time])));

  // What v2 would do: rewrite the data, add a file, drop one.
  await sh(docker, 'echo "v2 migrated" > /data/db && echo new > /data/added && rm /data/.dot');
  assert.notEqual(await sh(docker, DIGEST), v1);

  const user = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ['sleep', '600'], Labels: { [TEST_LABEL]: stack }, HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }] } });
  await user.start();
  const restored = await restoreWithServicesStopped(docker, [snap.id], { helperImage: BUSYBOX_IMAGE });
  assert.deepEqual(restored.map((s) => s.id), [snap.id]);
  assert.equal(await sh(docker, DIGEST), v1, 'v1 data byte for byte, no v2 leftovers');
  const state = await user.inspect();
  assert.equal(state.State.Running, true, 'the container that used the volume runs again');
  assert.ok(Date.parse(state.State.StartedAt) > Date.parse(labels[SNAPSHOT_LABEL.time]), 'it was stopped for the restore');

  const listed = await listSnapshots(docker, stack, { sizes: true });
  assert.deepEqual(listed.map((s) => s.id), [snap.id]);
  assert.ok((listed[0].size ?? 0) > 0, 'the size is reported');

  const later: string[] = [];
  for (let i = 1; i <= 3; i++) later.push((await takeSnapshot(docker, { stack, volume, version: `1.0.${i}`, helperImage: BUSYBOX_IMAGE, now: new Date(Date.now() + i * 1000) })).id);
  const removed = await pruneSnapshots(docker, stack, 3);
  assert.deepEqual(removed, [snap.id], 'the oldest goes');
  assert.deepEqual((await listSnapshots(docker, stack)).map((s) => s.id), later.reverse());

  const tmp = tempDir();
  try {
    writeFileSync(path.join(tmp.path, 'berth.yml'), stringify({ hosts: [{ name: 'h1', endpoint: gate.host('h1').dockerHost }] }));
    const r = await runBerth(['snapshots', stack, '--env', tmp.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /HOST +VOLUME +VERSION +TIME +SIZE +SNAPSHOT/);
    const lines = r.stdout.split('\n').filter((l) => l.includes(later[0]) || l.includes(later[1]) || l.includes(later[2]));
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0], new RegExp(`h1 +│? *${volume} +│? *1\\.0\\.3 +│? *\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +│? *\\d+(\\.\\d)? (B|KiB)`));
    const json = JSON.parse((await runBerth(['snapshots', stack, '--env', tmp.path, '--json'])).stdout) as { host: string; id: string; version: string }[];
    assert.deepEqual(json.map((x) => [x.host, x.id, x.version]), later.map((id, i) => ['h1', id, `1.0.${3 - i}`]));
  } finally {
    tmp.remove();
  }
});

test('a missing helper image is a clear error and leaves no snapshot volume', gate.opts, async () => {
  const docker = gate.docker('h1');
  await docker.createVolume({ Name: volume, Labels: { [TEST_LABEL]: stack } }).catch(() => undefined);
  const before = (await listSnapshots(docker, stack)).length;
  await assert.rejects(takeSnapshot(docker, { stack, volume, version: '1', helperImage: 'berth-test/no-such-helper:9' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'SNAPSHOT_HELPER_MISSING');
    assert.match(e.message, /berth-test\/no-such-helper:9 is not on the host/);
    return true;
  });
  assert.equal((await listSnapshots(docker, stack)).length, before);
});
