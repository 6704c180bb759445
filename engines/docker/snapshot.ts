/**
 * Data snapshots of named volumes on one engine: a short-lived helper container tars a volume into a snapshot
 * volume (`berth-snap-<stack>-<volume>-<id>`, labelled with what it holds), and restores one by emptying the
 * volume and untarring. The data never leaves the host. There is no registry to pull from, so the helper image
 * must be on the host already; it needs busybox (its `sh` and `busybox tar`), which every busybox- or
 * alpine-based image has.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import tarStream from 'tar-stream';
import { BerthError, UserError } from '../../lib/errors.ts';

export const DEFAULT_HELPER_IMAGE = 'busybox:1';
export const DEFAULT_SNAPSHOT_KEEP = 3;

export const SNAPSHOT_LABEL = {
  snapshot: 'berth.snapshot',
  stack: 'berth.snapshot.stack',
  volume: 'berth.snapshot.volume',
  version: 'berth.snapshot.version',
  time: 'berth.snapshot.time',
  helper: 'berth.snapshot.helper',
} as const;

export interface Snapshot {
  /** The snapshot volume's name: what the ledger records and a restore names. */
  id: string;
  stack: string;
  /** The volume snapshotted, as named on the host. */
  volume: string;
  /** The template version whose data it holds. */
  version: string;
  time: string;
  /** Bytes, when the engine reports volume usage. */
  size?: number;
}

export class SnapshotError extends BerthError {
  constructor(code: string, message: string, opts: { data?: Record<string, unknown>; hint?: string; cause?: unknown } = {}) {
    super(code, 'internal', message, opts);
  }
}

const ARCHIVE = 'data.tar';
// Dot-files too; the globs that match nothing stay literal and `rm -f` ignores them.
const EMPTY = 'rm -rf /to/* /to/.[!.]* /to/..?*';

/** Volume names allow [A-Za-z0-9_.-]; anything else in a stack or volume name becomes '-'. */
const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60);

async function helperPresent(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    throw new UserError('SNAPSHOT_HELPER_MISSING', `the snapshot helper image ${image} is not on the host`, {
      data: { image },
      hint: 'Put a busybox-based image on every host that runs stacks with volumes (docker pull busybox:1, or docker load where there is no registry), or name one the hosts have with BERTH_SNAPSHOT_HELPER_IMAGE.',
    });
  }
}

/** A helper container (created, not started) running `script` with the volumes mounted; no network. */
async function helperContainer(docker: Docker, image: string, stack: string, script: string, mounts: { from: string; fromReadOnly: boolean; to?: string }): Promise<Docker.Container> {
  await helperPresent(docker, image);
  return docker.createContainer({
    Image: image,
    Entrypoint: ['sh', '-c'],
    Cmd: [script],
    Labels: { [SNAPSHOT_LABEL.helper]: '1', [SNAPSHOT_LABEL.stack]: stack },
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Mounts: [
        { Type: 'volume', Source: mounts.from, Target: '/from', ReadOnly: mounts.fromReadOnly },
        ...(mounts.to ? [{ Type: 'volume' as const, Source: mounts.to, Target: '/to' }] : []),
      ],
    },
  });
}

/** Runs `script` in a helper container with `from` and `to` mounted; removed whatever happens. */
async function runHelper(docker: Docker, image: string, script: string, mounts: { from: string; to: string; fromReadOnly: boolean }, stack: string): Promise<void> {
  const container = await helperContainer(docker, image, stack, script, mounts);
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) {
      const logs = (await container.logs({ stdout: true, stderr: true, tail: 20 })).toString('utf8').replace(/[\u0000-\u0008\u000e-\u001f]/g, '').trim();
      throw new SnapshotError('SNAPSHOT_HELPER_FAILED', `the snapshot helper exited with ${StatusCode}${logs ? `: ${logs.slice(-500)}` : ''}`, { data: { image, from: mounts.from, to: mounts.to } });
    }
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

async function volumeExists(docker: Docker, name: string): Promise<boolean> {
  return docker.getVolume(name).inspect().then(() => true, (e) => {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  });
}

export interface TakeOptions {
  stack: string;
  /** The volume's name on the host. */
  volume: string;
  version: string;
  helperImage?: string;
  now?: Date;
}

/** Tars `volume` into a new snapshot volume; a failed copy leaves no snapshot behind. */
export async function takeSnapshot(docker: Docker, o: TakeOptions): Promise<Snapshot> {
  if (!(await volumeExists(docker, o.volume))) throw new UserError('SNAPSHOT_VOLUME_MISSING', `volume ${o.volume} of stack ${o.stack} is not on the host`, { data: { volume: o.volume } });
  const time = (o.now ?? new Date()).toISOString();
  const id = `berth-snap-${safe(o.stack)}-${safe(o.volume)}-${randomBytes(4).toString('hex')}`;
  await docker.createVolume({
    Name: id,
    Labels: { [SNAPSHOT_LABEL.snapshot]: '1', [SNAPSHOT_LABEL.stack]: o.stack, [SNAPSHOT_LABEL.volume]: o.volume, [SNAPSHOT_LABEL.version]: o.version, [SNAPSHOT_LABEL.time]: time },
  });
  try {
    await runHelper(docker, o.helperImage ?? DEFAULT_HELPER_IMAGE, `cd /from && busybox tar -cf /to/${ARCHIVE}.part . && mv /to/${ARCHIVE}.part /to/${ARCHIVE}`, { from: o.volume, to: id, fromReadOnly: true }, o.stack);
  } catch (e) {
    await docker.getVolume(id).remove().catch(() => undefined);
    throw e;
  }
  return { id, stack: o.stack, volume: o.volume, version: o.version, time };
}

/** Empties the snapshot's volume and untars the snapshot into it. The caller stops what uses the volume. */
export async function restoreSnapshot(docker: Docker, id: string, o: { helperImage?: string } = {}): Promise<Snapshot> {
  const snap = await inspectSnapshot(docker, id);
  if (!snap) throw new UserError('SNAPSHOT_MISSING', `snapshot ${id} is not on the host`, { data: { id }, hint: 'berth snapshots STACK lists the snapshots each host has.' });
  // The archive is checked before the volume is emptied, so a broken snapshot destroys nothing.
  await runHelper(docker, o.helperImage ?? DEFAULT_HELPER_IMAGE, `test -f /from/${ARCHIVE} && ${EMPTY} && cd /to && busybox tar -xpf /from/${ARCHIVE}`, { from: id, to: snap.volume, fromReadOnly: true }, snap.stack);
  return snap;
}

function fromVolume(v: { Name: string; Labels?: Record<string, string> | null; UsageData?: { Size?: number } | null }): Snapshot | undefined {
  const l = v.Labels ?? {};
  if (l[SNAPSHOT_LABEL.snapshot] !== '1') return undefined;
  const size = v.UsageData?.Size;
  return { id: v.Name, stack: l[SNAPSHOT_LABEL.stack] ?? '', volume: l[SNAPSHOT_LABEL.volume] ?? '', version: l[SNAPSHOT_LABEL.version] ?? '', time: l[SNAPSHOT_LABEL.time] ?? '', ...(typeof size === 'number' && size >= 0 ? { size } : {}) };
}

export async function inspectSnapshot(docker: Docker, id: string): Promise<Snapshot | undefined> {
  try {
    return fromVolume((await docker.getVolume(id).inspect()) as Parameters<typeof fromVolume>[0]);
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

/** A stack's snapshots on the host, newest first; `sizes` asks the engine for usage (a slower call). */
export async function listSnapshots(docker: Docker, stack: string, o: { sizes?: boolean } = {}): Promise<Snapshot[]> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${SNAPSHOT_LABEL.snapshot}=1`, `${SNAPSHOT_LABEL.stack}=${stack}`] } });
  const sizes = new Map<string, number>();
  if (o.sizes && (Volumes ?? []).length) {
    const df = (await docker.df()) as { Volumes?: { Name: string; UsageData?: { Size?: number } }[] };
    for (const v of df.Volumes ?? []) if (typeof v.UsageData?.Size === 'number' && v.UsageData.Size >= 0) sizes.set(v.Name, v.UsageData.Size);
  }
  return (Volumes ?? [])
    .map((v) => fromVolume({ ...v, UsageData: sizes.has(v.Name) ? { Size: sizes.get(v.Name) } : null }))
    .filter((s): s is Snapshot => !!s && s.stack === stack)
    .sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id));
}

/** Keeps the newest `keep` snapshots of each of the stack's volumes; returns the ids removed. */
export async function pruneSnapshots(docker: Docker, stack: string, keep = DEFAULT_SNAPSHOT_KEEP): Promise<string[]> {
  const seen = new Map<string, number>();
  const removed: string[] = [];
  for (const s of await listSnapshots(docker, stack)) {
    const n = (seen.get(s.volume) ?? 0) + 1;
    seen.set(s.volume, n);
    if (n <= keep) continue;
    await docker.getVolume(s.id).remove();
    removed.push(s.id);
  }
  return removed;
}

/**
 * Restores snapshots with the containers that mount their volumes stopped, and starts again those that ran.
 * A container is started again even when a restore fails, so a failed restore does not also leave it down.
 * `restart: 'on-failure'` leaves them stopped after a restore that worked: a rollback is about to replace them
 * with the older version, and the newer one must not start on the older data (it may migrate it again).
 */
export async function restoreWithServicesStopped(docker: Docker, ids: string[], o: { helperImage?: string; restart?: 'always' | 'on-failure' } = {}): Promise<Snapshot[]> {
  const snaps: Snapshot[] = [];
  for (const id of ids) {
    const s = await inspectSnapshot(docker, id);
    if (!s) throw new UserError('SNAPSHOT_MISSING', `snapshot ${id} is not on the host`, { data: { id }, hint: 'berth snapshots STACK lists the snapshots each host has.' });
    snaps.push(s);
  }
  const running = new Set<string>();
  for (const s of snaps) {
    for (const c of await docker.listContainers({ filters: { volume: [s.volume], status: ['running', 'restarting'] } })) running.add(c.Id);
  }
  for (const id of running) await docker.getContainer(id).stop().catch((e) => { if ((e as { statusCode?: number }).statusCode !== 304) throw e; });
  let restored = false;
  try {
    for (const s of snaps) await restoreSnapshot(docker, s.id, o);
    restored = true;
  } finally {
    if (!restored || o.restart !== 'on-failure') {
      for (const id of running) await docker.getContainer(id).start().catch((e) => { if ((e as { statusCode?: number }).statusCode !== 304) throw e; });
    }
  }
  return snaps;
}

/**
 * Streams a snapshot's archive (`data.tar`, the volume's files) off the host into `out`, through the Docker API:
 * a helper container that mounts the snapshot read-only is created, never started, and its file read with
 * `getArchive`. Returns the snapshot and the archive's size in bytes. Only when a person asks: snapshots stay on
 * their host otherwise.
 */
export async function exportSnapshot(docker: Docker, id: string, out: NodeJS.WritableStream, o: { helperImage?: string } = {}): Promise<{ snapshot: Snapshot; bytes: number }> {
  const snapshot = await inspectSnapshot(docker, id);
  if (!snapshot) throw new UserError('SNAPSHOT_MISSING', `snapshot ${id} is not on the host`, { data: { id }, hint: 'berth snapshots STACK lists the snapshots each host has.' });
  // Never started: the engine reads a stopped container's files.
  const container = await helperContainer(docker, o.helperImage ?? DEFAULT_HELPER_IMAGE, snapshot.stack, 'true', { from: id, fromReadOnly: true });
  try {
    // The engine answers with a tar holding the one file; its content is the archive the snapshot is.
    const archive = (await container.getArchive({ path: `/from/${ARCHIVE}` })) as NodeJS.ReadableStream;
    const bytes = await new Promise<number>((resolve, reject) => {
      const extract = tarStream.extract();
      let size = -1;
      extract.on('entry', (header, stream, next) => {
        if (header.name.replace(/^\.?\//, '') !== ARCHIVE || size >= 0) {
          stream.resume();
          stream.on('end', next);
          return;
        }
        size = 0;
        // By hand, not pipe: `out` is the caller's to end, and a slow disk pauses the engine's stream.
        stream.on('data', (chunk: unknown) => {
          const buf = chunk as Buffer;
          size += buf.length;
          if (!out.write(buf)) {
            stream.pause();
            out.once('drain', () => stream.resume());
          }
        });
        stream.on('error', reject);
        stream.on('end', next);
      });
      extract.on('finish', () => (size >= 0 ? resolve(size) : reject(new SnapshotError('SNAPSHOT_ARCHIVE_MISSING', `snapshot ${id} holds no ${ARCHIVE}`))));
      extract.on('error', reject);
      archive.on('error', reject);
      archive.pipe(extract);
    });
    return { snapshot, bytes };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) throw new SnapshotError('SNAPSHOT_ARCHIVE_MISSING', `snapshot ${id} holds no ${ARCHIVE}: it was never completed`, { data: { id } });
    throw e;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
