/**
 * `berth bundle create`: decide the contents, then write the parts in one pass — repositories, images (layers
 * gzipped as they stream from the engine), and last the manifest with every part's SHA-256, signed when a key
 * is given. The file appears under its name only when complete.
 */
import type { KeyObject } from 'node:crypto';
import type Docker from 'dockerode';
import { silentLogger, type Logger } from '../lib/log.ts';
import { berthVersion } from '../lib/version.ts';
import type { Contents } from './contents.ts';
import { packRepo } from './git-repo.ts';
import { exportImages, inspectImages } from './images-export.ts';
import { FORMAT, type BundleCatalog, type BundleManifest, type BundleRepo } from './manifest.ts';
import { Progress, type ProgressSink } from './progress.ts';
import { signManifest } from './sign.ts';
import { BundleWriter } from './writer.ts';

export interface CreateOptions {
  output: string;
  contents: Contents;
  docker: Docker;
  /** How the Docker host is named in messages. */
  dockerWhere: string;
  /** The environment repository to carry as well (its checked-out branch). */
  environment?: { name: string; root: string };
  key?: KeyObject;
  gzipLevel?: number;
  progress?: ProgressSink;
  log?: Logger;
}

export async function createBundle(opts: CreateOptions): Promise<BundleManifest> {
  const log = opts.log ?? silentLogger;
  const { contents } = opts;
  const refs = [...contents.images.keys()];
  // Everything that can be refused is checked before the file is started.
  const sources = await inspectImages(opts.docker, refs, opts.dockerWhere, (ref) => contents.images.get(ref) ?? '');
  const carried = contents.catalogs.filter((c) => !c.ref.builtin);
  const packs = await Promise.all(carried.map(async (c) => ({ c, packed: await packRepo(c.ref.root, `catalog ${c.ref.name}`) })));
  const envPack = opts.environment ? await packRepo(opts.environment.root, 'the environment', { onlyHead: true }) : undefined;
  const writer = await BundleWriter.create(opts.output);
  try {
    const catalogs: BundleCatalog[] = [];
    for (const { c, packed } of packs) {
      const part = `catalogs/${c.ref.name}.bundle`;
      await writer.add(part, [packed.data]);
      const templates = [...c.catalog.templates.values()].map((t) => ({ name: t.name, versions: t.versions.map((v) => v.version) }));
      catalogs.push({ name: c.ref.name, part, refs: packed.refs, head: packed.head, templates });
    }
    let environment: BundleRepo | undefined;
    if (envPack && opts.environment) {
      await writer.add('environment.bundle', [envPack.data]);
      environment = { name: opts.environment.name, part: 'environment.bundle', refs: envPack.refs, head: envPack.head };
    }
    log.info({ images: refs.length, from: opts.dockerWhere }, 'exporting images');
    const progress = opts.progress ? new Progress(`export ${refs.length} image${refs.length === 1 ? '' : 's'}`, undefined, opts.progress) : undefined;
    const { images, layers } = refs.length ? await exportImages(opts.docker, sources, writer, { progress, level: opts.gzipLevel }) : { images: [], layers: [] };
    progress?.finish();
    const manifest: BundleManifest = {
      format: FORMAT,
      createdAt: new Date().toISOString(),
      berth: { version: berthVersion() },
      compression: 'gzip',
      parts: writer.parts,
      images,
      layers,
      catalogs,
      ...(environment ? { environment } : {}),
      stacks: contents.stacks,
    };
    const bytes = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`);
    await writer.finish(bytes, opts.key ? signManifest(bytes, opts.key) : undefined);
    return manifest;
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
