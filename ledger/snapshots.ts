/**
 * The data side of an upgrade: before a deploy changes a stack's template version, each named volume of the stack
 * is snapshotted on its host (engines/docker/snapshot.ts), so that a rollback can bring the data back with the
 * containers. Standalone hosts here; a Swarm's nodes in engines/swarm/volumes.ts. The result goes into the deploy's
 * ledger record.
 */
import { connectHost } from '../engines/docker/connect.ts';
import { DEFAULT_HELPER_IMAGE, DEFAULT_SNAPSHOT_KEEP, pruneSnapshots, restoreWithServicesStopped, takeSnapshot } from '../engines/docker/snapshot.ts';
import { UserError } from '../lib/errors.ts';
import type { DesiredStack } from '../engines/standalone/types.ts';
import { readFilesAt } from '../lib/git/index.ts';
import type { GitFs } from '../lib/git/fs.ts';
import { recordFromYaml, type LedgerRecord } from './record.ts';
import { stackDir } from './tree.ts';

export interface SnapshotSettings {
  helperImage: string;
  keep: number;
}

/**
 * $BERTH_SNAPSHOT_HELPER_IMAGE and $BERTH_SNAPSHOT_KEEP (the controller's, for every environment it serves), else
 * berth.yml's `snapshots:` (the environment's), else the defaults.
 */
export function snapshotSettings(env: NodeJS.ProcessEnv = process.env, declared: { keep?: number; helperImage?: string } = {}): SnapshotSettings {
  const keep = env.BERTH_SNAPSHOT_KEEP ? Number(env.BERTH_SNAPSHOT_KEEP) : declared.keep ?? DEFAULT_SNAPSHOT_KEEP;
  if (!Number.isInteger(keep) || keep < 1) throw new UserError('SNAPSHOT_KEEP_INVALID', `BERTH_SNAPSHOT_KEEP=${env.BERTH_SNAPSHOT_KEEP} is not a whole number of at least 1`);
  return { helperImage: env.BERTH_SNAPSHOT_HELPER_IMAGE || declared.helperImage || DEFAULT_HELPER_IMAGE, keep };
}

const versionOf = (source: string) => {
  const at = source.lastIndexOf('@');
  return at > 0 ? { template: source.slice(0, at), version: source.slice(at + 1) } : { template: source, version: '' };
};

/** A deploy that changes what the ledger last recorded as deployed: the first deploy has no data to keep. */
export function isUpgrade(desired: DesiredStack, previous: LedgerRecord | undefined): boolean {
  if (!previous) return false;
  const now = versionOf(desired.source);
  return now.template !== previous.template || now.version !== previous.version;
}

/**
 * Snapshots every volume the stack's services use on each of its hosts (host → volume → snapshot), then prunes
 * each volume's snapshots to the newest `keep`. Volumes not made yet (new in this version) hold nothing to keep.
 * Any failure fails the deploy before it changes anything: an upgrade does not go ahead without its snapshot.
 */
export async function snapshotBeforeUpgrade(desired: DesiredStack, previous: LedgerRecord, settings: SnapshotSettings = snapshotSettings()): Promise<Record<string, Record<string, string>>> {
  const taken: Record<string, Record<string, string>> = {};
  for (const [hostName, h] of Object.entries(desired.hosts)) {
    const volumes = h.volumes.filter((v) => !v.external && (v.driver || 'local') === 'local');
    if (!volumes.length) continue;
    const docker = connectHost(h.host);
    for (const v of volumes) {
      const exists = await docker.getVolume(v.name).inspect().then(() => true, (e) => ((e as { statusCode?: number }).statusCode === 404 ? false : Promise.reject(e)));
      if (!exists) continue;
      const snap = await takeSnapshot(docker, { stack: desired.name, volume: v.name, version: previous.version, helperImage: settings.helperImage });
      (taken[hostName] ??= {})[v.name] = snap.id;
    }
    if (taken[hostName]) await pruneSnapshots(docker, desired.name, settings.keep);
  }
  return taken;
}

/**
 * A person's rollback asked for the data back: the snapshots the reverted upgrade took are restored on each host,
 * the containers using those volumes stopped and left stopped (the rollback deploy that follows replaces or starts
 * them on the restored data). Returns host → volume → snapshot restored. A host no longer in the stack, or a
 * snapshot gone, fails the rollback before any volume is touched on that host.
 */
export async function restoreBeforeRollback(desired: DesiredStack, taken: Record<string, Record<string, string>>, settings: SnapshotSettings = snapshotSettings()): Promise<Record<string, Record<string, string>>> {
  const restored: Record<string, Record<string, string>> = {};
  for (const [hostName, vols] of Object.entries(taken).sort(([a], [b]) => a.localeCompare(b))) {
    const h = desired.hosts[hostName];
    if (!h) throw new UserError('SNAPSHOT_HOST_GONE', `the snapshots of ${desired.name} are on ${hostName}, which the stack no longer runs on`, { hint: 'Put the host back in the stack\'s selector to restore its data, or roll back without --with-data.' });
    await restoreWithServicesStopped(connectHost(h.host), Object.values(vols), { helperImage: settings.helperImage, restart: 'on-failure' });
    restored[hostName] = { ...vols };
  }
  return restored;
}

/** The snapshots the deploy recorded at `commit` took before it upgraded the stack; undefined when none. */
export async function snapshotsRecordedAt(dir: string, commit: string, stack: string, fs?: GitFs): Promise<{ version: string; snapshots: Record<string, Record<string, string>> } | undefined> {
  const text = (await readFilesAt(dir, commit, stackDir(stack), fs ? { fs } : undefined))['deploy.yml'];
  const record = text ? recordFromYaml(text) : undefined;
  return record?.snapshots ? { version: record.version, snapshots: record.snapshots } : undefined;
}

/** What `berth rollback` says of the data when it does not restore it. */
export function dataLeftNote(stack: string, taken: { version: string; snapshots: Record<string, Record<string, string>> }): string {
  const list = Object.entries(taken.snapshots).flatMap(([host, vols]) => Object.entries(vols).map(([v, id]) => `  ${host}: ${v} ← ${id}`));
  return [
    `The data was not restored: the volumes hold what ${stack} ${taken.version} left in them. Snapshots taken before that upgrade:`,
    ...list,
    `(berth snapshots ${stack} lists every snapshot on the hosts.)`,
  ].join('\n');
}
