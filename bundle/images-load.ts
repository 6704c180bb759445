/**
 * Images onto a host: only those whose ID the host lacks travel, as one `docker load` archive made on the fly
 * (each config, each needed layer once, as stored in the bundle — gzip: the engine inflates a compressed layer
 * itself, so Berth neither spends a CPU on it nor sends the inflated bytes — and manifest.json last). A
 * part whose hash no longer matches fails the stream before its end, so the engine, which unpacks the whole
 * archive before it registers anything, loads nothing from it. An image the host has under another tag is
 * only tagged. Running it again finds everything there and sends nothing.
 */
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { BundleError } from './errors.ts';
import type { BundleImage, BundleLayer } from './manifest.ts';
import type { Progress } from './progress.ts';
import { describePart, partNamed, readPart, readSmallPart, type OpenedBundle } from './reader.ts';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface HostImagesPlan {
  /** Images the host lacks: they are loaded. */
  load: BundleImage[];
  /** Images the host has, with tags to (re)point at them. */
  tag: { image: BundleImage; tags: string[] }[];
  /** Bytes that will be sent: the needed layers as stored in the bundle (compressed). */
  bytes: number;
}

function splitTag(tag: string): { repo: string; tag: string } {
  const slash = tag.lastIndexOf('/');
  const colon = tag.lastIndexOf(':');
  return colon > slash ? { repo: tag.slice(0, colon), tag: tag.slice(colon + 1) } : { repo: tag, tag: 'latest' };
}

/** What the host needs, from its image list. */
export async function planHostImages(docker: Docker, manifestImages: BundleImage[], layers: BundleLayer[], parts: ReadonlyArray<{ name: string; size: number }>): Promise<HostImagesPlan> {
  const list = await docker.listImages({ all: true });
  const ids = new Set(list.map((i) => i.Id));
  const tagged = new Map<string, string>();
  for (const i of list) for (const t of i.RepoTags ?? []) tagged.set(t, i.Id);
  const load = manifestImages.filter((i) => !ids.has(i.id));
  const tag = manifestImages.filter((i) => ids.has(i.id)).map((image) => ({ image, tags: image.tags.filter((t) => tagged.get(t) !== image.id) })).filter((t) => t.tags.length > 0);
  const partSize = new Map(parts.map((p) => [p.name, p.size]));
  const sizes = new Map(layers.map((l) => [l.digest, partSize.get(l.part) ?? l.size]));
  const needed = new Set(load.flatMap((i) => i.layers));
  const bytes = [...needed].reduce((n, d) => n + (sizes.get(d) ?? 0), 0);
  return { load, tag, bytes };
}

function layerPath(digest: string): string {
  return `${digest.slice(7)}/layer.tar`;
}

/** Adds one entry to the pack from an async source; rejects if the source fails or its size is not `size`. */
async function entry(pack: tar.Pack, name: string, size: number, source: AsyncIterable<Buffer>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
    pipeline(source, sink).catch(reject);
  });
}

/** The `docker load` archive for `images`, written into `pack`. */
async function writeArchive(b: OpenedBundle, images: BundleImage[], pack: tar.Pack, progress?: Progress): Promise<void> {
  const layers = new Map(b.manifest.layers.map((l) => [l.digest, l]));
  const sent = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  for (const image of images) {
    const config = await readSmallPart(b, image.config, MAX_CONFIG_BYTES);
    await entry(pack, image.config, config.length, (async function* () { yield config; })());
    for (const digest of image.layers) {
      if (sent.has(digest)) continue;
      sent.add(digest);
      const layer = layers.get(digest)!;
      const part = partNamed(b, layer.part);
      const raw = readPart(b, part);
      try {
        await entry(pack, layerPath(digest), part.size, progress ? progress.count(raw) : raw);
      } catch (e) {
        if (e instanceof BundleError) throw e;
        throw new BundleError('BUNDLE_CORRUPT', `${describePart(b.manifest, layer.part)} (${layer.part}) cannot be read: ${(e as Error).message}`, { part: layer.part, cause: e });
      }
    }
    manifest.push({ Config: image.config, RepoTags: image.tags, Layers: image.layers.map(layerPath) });
  }
  const json = Buffer.from(JSON.stringify(manifest));
  await entry(pack, 'manifest.json', json.length, (async function* () { yield json; })());
  pack.finalize();
}

interface LoadLine { stream?: string; error?: string; errorDetail?: { message?: string } }

/** Sends the images the plan says are missing, then points the tags; resolves to what the engine said. */
export async function loadHostImages(docker: Docker, b: OpenedBundle, plan: HostImagesPlan, opts: { host: string; progress?: Progress }): Promise<string[]> {
  const said: string[] = [];
  if (plan.load.length) {
    const pack = tar.pack();
    const writing = writeArchive(b, plan.load, pack, opts.progress).catch((e: unknown) => {
      pack.destroy(e as Error);
      throw e;
    });
    writing.catch(() => {});
    let out: LoadLine[];
    try {
      const res = await docker.loadImage(pack as unknown as NodeJS.ReadableStream, { quiet: true });
      out = await new Promise<LoadLine[]>((resolve, reject) => docker.modem.followProgress(res, (err: Error | null, o: LoadLine[]) => (err ? reject(err) : resolve(o))));
    } catch (e) {
      await writing; // the bundle's own error, when it is the cause, says more than the engine's
      throw e;
    }
    await writing;
    const bad = out.find((o) => o.error || o.errorDetail);
    if (bad) throw new Error(`host ${opts.host} refused the images: ${bad.error ?? bad.errorDetail?.message}`);
    said.push(...out.flatMap((o) => (o.stream ? [o.stream.trim()] : [])));
  }
  for (const { image, tags } of plan.tag) {
    for (const t of tags) {
      await docker.getImage(image.id).tag(splitTag(t));
      said.push(`Tagged ${image.id.slice(7, 19)} as ${t}`);
    }
  }
  return said;
}
