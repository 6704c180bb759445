/**
 * Images into the bundle: one `GET /images/get` of every image (the engine's `docker save`, which already
 * writes a layer shared by several images once), read as it streams. Each layer is hashed (its digest names
 * it: `layers/<hex>.tar.gz`) and gzipped straight into the bundle; a layer already stored is taken back out.
 * Only the small metadata entries (configs, manifest.json) are held in memory, and those are bounded.
 * Both the legacy layout (`<id>/layer.tar`, Docker < 25) and the OCI one (`blobs/sha256/…`) are read through
 * manifest.json, which every `docker save` writes.
 */
import { createHash } from 'node:crypto';
import { createGzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { UserError } from '../lib/errors.ts';
import type { BundleImage, BundleLayer } from './manifest.ts';
import type { Progress } from './progress.ts';
import type { BundleWriter } from './writer.ts';

/** Entries up to this size are kept in memory until manifest.json says what they are. */
const SMALL = 1024 * 1024;
const MAX_SMALL_TOTAL = 256 * 1024 * 1024;
export const GZIP_LEVEL = 1;

interface SaveManifestEntry { Config: string; RepoTags: string[] | null; Layers: string[] }

export interface ImageSource { ref: string; id: string; repoDigests: string[] }

/** The images `refs` name on the engine, each inspected once; every missing one is reported together. */
export async function inspectImages(docker: Docker, refs: string[], where: string, usedBy: (ref: string) => string): Promise<ImageSource[]> {
  const out: ImageSource[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    try {
      const info = await docker.getImage(ref).inspect();
      out.push({ ref, id: info.Id, repoDigests: info.RepoDigests ?? [] });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      missing.push(`${ref} (${usedBy(ref)})`);
    }
  }
  if (missing.length) {
    throw new UserError('BUNDLE_IMAGE_MISSING', `${missing.length} image${missing.length > 1 ? 's are' : ' is'} not on ${where}:\n${missing.map((m) => `  - ${m}`).join('\n')}`, {
      data: { missing },
      hint: `Pull or build them on ${where} (the Docker host the bundle is made from), or pick another with --docker-host.`,
    });
  }
  return out;
}

function digestName(hex: string): string {
  return `layers/${hex}.tar.gz`;
}

/** Streams one entry into a gzipped layer part; resolves to its digest and part (or the one already stored). */
async function storeLayer(writer: BundleWriter, data: AsyncIterable<Buffer> | Iterable<Buffer>, level: number): Promise<{ digest: string; size: number; part: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const gzip = createGzip({ level, chunkSize: 256 * 1024 });
  const feed = (async () => {
    try {
      for await (const chunk of data) {
        hash.update(chunk);
        size += chunk.length;
        if (!gzip.write(chunk)) await new Promise((r) => gzip.once('drain', r));
      }
      gzip.end();
    } catch (e) {
      gzip.destroy(e as Error);
    }
  })();
  let hex = '';
  const name = () => digestName((hex ||= hash.digest('hex')));
  await writer.add(name, gzip as AsyncIterable<Buffer>);
  await feed;
  return { digest: `sha256:${hex}`, size, part: name() };
}

export interface ExportResult { images: BundleImage[]; layers: BundleLayer[] }

/** Exports the images into `writer`; `sources` come from inspectImages. */
export async function exportImages(docker: Docker, sources: ImageSource[], writer: BundleWriter, opts: { progress?: Progress; level?: number } = {}): Promise<ExportResult> {
  const level = opts.level ?? GZIP_LEVEL;
  // Missing from the typings, present in dockerode: GET /images/get?names=….
  const getImages = (docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> }).getImages.bind(docker);
  const stream = await getImages({ names: sources.map((s) => s.ref) });
  const extract = tar.extract();
  stream.on('error', (e) => extract.destroy(e));
  stream.pipe(extract);
  const small = new Map<string, Buffer>();
  const big = new Map<string, { digest: string; size: number; part: string }>();
  let smallTotal = 0;
  for await (const entry of extract) {
    const { name, size = 0, type } = entry.header;
    const data = opts.progress ? opts.progress.count(entry as AsyncIterable<Buffer>) : (entry as AsyncIterable<Buffer>);
    if (type !== 'file') { entry.resume(); continue; }
    if (size > SMALL) {
      big.set(name, await storeLayer(writer, data, level));
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const c of data) chunks.push(c);
    smallTotal += size;
    if (smallTotal > MAX_SMALL_TOTAL) throw new Error(`the engine's export holds more than ${MAX_SMALL_TOTAL} bytes of small files`);
    small.set(name, Buffer.concat(chunks));
  }
  return assemble(writer, sources, small, big, level);
}

async function assemble(writer: BundleWriter, sources: ImageSource[], small: Map<string, Buffer>, big: Map<string, { digest: string; size: number; part: string }>, level: number): Promise<ExportResult> {
  const raw = small.get('manifest.json');
  if (!raw) throw new Error('the engine\'s image export has no manifest.json');
  const entries = JSON.parse(raw.toString('utf8')) as SaveManifestEntry[];
  const layers = new Map<string, BundleLayer>();
  for (const l of big.values()) layers.set(l.digest, { digest: l.digest, part: l.part, size: l.size });
  const images: BundleImage[] = [];
  for (const e of entries) {
    const config = small.get(e.Config);
    if (!config) throw new Error(`the engine's image export lacks the config ${e.Config}`);
    const hex = createHash('sha256').update(config).digest('hex');
    const configPart = `images/${hex}.json`;
    if (!writer.has(configPart)) await writer.add(configPart, [config]);
    const digests: string[] = [];
    let total = 0;
    for (const path of e.Layers) {
      let layer = big.get(path);
      if (!layer) {
        const bytes = small.get(path);
        if (!bytes) throw new Error(`the engine's image export lacks the layer ${path}`);
        layer = await storeLayer(writer, [bytes], level);
        big.set(path, layer);
        layers.set(layer.digest, { digest: layer.digest, part: layer.part, size: layer.size });
      }
      digests.push(layer.digest);
      total += layer.size;
    }
    const id = `sha256:${hex}`;
    const source = sources.filter((s) => s.id === id);
    images.push({ id, tags: e.RepoTags ?? [], repoDigests: source[0]?.repoDigests ?? [], config: configPart, layers: digests, size: total });
  }
  const missing = sources.filter((s) => !images.some((i) => i.id === s.id));
  if (missing.length) throw new Error(`the engine's export lacks ${missing.map((m) => m.ref).join(', ')}`);
  return { images, layers: [...layers.values()].filter((l) => images.some((i) => i.layers.includes(l.digest))) };
}
