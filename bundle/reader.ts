/**
 * Reading a bundle: the archive's index (headers only), the manifest, and parts by offset. `verifyBundle` reads
 * every byte once and checks it against the manifest (and the signature when a key is given); nothing else
 * happens before it has passed. Readers used later (load) check the hash again as they stream, so a file
 * changed after verification is still refused before the engine has the whole of it.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BundleError } from './errors.ts';
import { MANIFEST_PART, MAX_MANIFEST_BYTES, SIGNATURE_PART, parseManifest, type BundleManifest, type BundlePart } from './manifest.ts';
import { Progress, type ProgressSink } from './progress.ts';
import { checkSignature } from './sign.ts';
import { indexTar, readAt, type TarEntry } from './tar-file.ts';

export interface OpenedBundle {
  file: string;
  fd: FileHandle;
  entries: Map<string, TarEntry>;
  manifest: BundleManifest;
  manifestBytes: Buffer;
  signature?: Buffer;
  close(): Promise<void>;
}

/** What a part is, in words an operator can act on. */
export function describePart(m: BundleManifest, name: string): string {
  if (name === MANIFEST_PART) return 'the manifest';
  if (name === SIGNATURE_PART) return 'the signature';
  const layer = m.layers.find((l) => l.part === name);
  if (layer) {
    const users = m.images.filter((i) => i.layers.includes(layer.digest)).map((i) => i.tags[0] ?? i.id.slice(7, 19));
    return `image layer ${layer.digest.slice(7, 19)} (of ${users.join(', ') || 'no image'})`;
  }
  const image = m.images.find((i) => i.config === name);
  if (image) return `the configuration of image ${image.tags[0] ?? image.id}`;
  const repo = [...m.catalogs, ...(m.environment ? [m.environment] : [])].find((r) => r.part === name);
  if (repo) return repo === m.environment ? 'the environment repository' : `catalog ${repo.name}`;
  return 'a part';
}

function findManifest(entries: TarEntry[], file: string): { manifest: TarEntry; signature?: TarEntry } {
  const last = entries.at(-1);
  const before = entries.at(-2);
  if (last?.name === SIGNATURE_PART && before?.name === MANIFEST_PART) return { manifest: before, signature: last };
  if (last?.name === MANIFEST_PART) return { manifest: last };
  throw new BundleError('BUNDLE_TRUNCATED', `${file} has no manifest (${MANIFEST_PART}) at its end: it is truncated, or not a Berth bundle`, { part: MANIFEST_PART });
}

/** Opens and indexes the file, reads and checks the manifest; does not read the parts. */
export async function openBundle(file: string): Promise<OpenedBundle> {
  let fd: FileHandle;
  try {
    fd = await open(file, 'r');
  } catch (e) {
    throw new BundleError('BUNDLE_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`, { hint: 'Check the path of the bundle file.' });
  }
  try {
    const list = await indexTar(fd, file);
    const { manifest: me, signature: se } = findManifest(list, file);
    if (me.size > MAX_MANIFEST_BYTES) throw new BundleError('BUNDLE_MANIFEST_INVALID', `the manifest of ${file} is ${me.size} bytes, more than a manifest can be`, { part: MANIFEST_PART });
    const manifestBytes = await readAt(fd, me.offset, me.size);
    const manifest = parseManifest(manifestBytes);
    const signature = se && se.size <= 4096 ? await readAt(fd, se.offset, se.size) : undefined;
    const entries = new Map<string, TarEntry>();
    for (const e of list.slice(0, se ? -2 : -1)) {
      if (entries.has(e.name)) throw new BundleError('BUNDLE_CORRUPT', `${file} holds part ${e.name} twice`, { part: e.name });
      entries.set(e.name, e);
    }
    checkParts(manifest, entries, file);
    return { file, fd, entries, manifest, manifestBytes, ...(signature ? { signature } : {}), close: () => fd.close() };
  } catch (e) {
    await fd.close();
    throw e;
  }
}

function checkParts(m: BundleManifest, entries: Map<string, TarEntry>, file: string): void {
  const listed = new Set(m.parts.map((p) => p.name));
  for (const name of entries.keys()) {
    if (!listed.has(name)) throw new BundleError('BUNDLE_CORRUPT', `${file} holds part ${name}, which the manifest does not list: a part was added`, { part: name });
  }
  for (const p of m.parts) {
    const e = entries.get(p.name);
    if (!e) throw new BundleError('BUNDLE_CORRUPT', `${file} lacks ${describePart(m, p.name)} (${p.name}), which the manifest lists`, { part: p.name });
    if (e.size !== p.size) throw new BundleError('BUNDLE_CORRUPT', `${describePart(m, p.name)} (${p.name}) is ${e.size} bytes; the manifest says ${p.size}`, { part: p.name });
  }
}

export function mismatch(b: OpenedBundle, part: BundlePart): BundleError {
  return new BundleError('BUNDLE_CHECKSUM_MISMATCH', `${describePart(b.manifest, part.name)} (${part.name}) does not match its SHA-256 in the manifest: the bundle was altered or damaged`, { part: part.name });
}

/** The part's bytes as they stream, checked against the manifest at the end (an error instead of the last chunk). */
export async function* readPart(b: OpenedBundle, part: BundlePart): AsyncGenerator<Buffer> {
  const e = b.entries.get(part.name)!;
  const hash = createHash('sha256');
  if (e.size > 0) {
    // By descriptor number: a FileHandle's own streams each add a listener to it, and a load opens hundreds.
    const stream = createReadStream('', { fd: b.fd.fd, start: e.offset, end: e.offset + e.size - 1, autoClose: false, highWaterMark: 1024 * 1024 });
    let pending: Buffer | undefined;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (pending) yield pending;
      pending = chunk;
    }
    if (hash.copy().digest('hex') !== part.sha256) throw mismatch(b, part);
    if (pending) yield pending;
    return;
  }
  if (hash.digest('hex') !== part.sha256) throw mismatch(b, part);
}

export function partNamed(b: OpenedBundle, name: string): BundlePart {
  return b.manifest.parts.find((p) => p.name === name)!;
}

/** A small part in memory, checked; `max` bounds what a hostile manifest can make Berth read. */
export async function readSmallPart(b: OpenedBundle, name: string, max: number): Promise<Buffer> {
  const part = partNamed(b, name);
  if (part.size > max) throw new BundleError('BUNDLE_CORRUPT', `${describePart(b.manifest, name)} (${name}) is ${part.size} bytes, more than such a part can be`, { part: name });
  const chunks: Buffer[] = [];
  for await (const c of readPart(b, part)) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface VerifyResult { signedBy?: string; signed: boolean; bytes: number }

/** Every part against its hash, and the signature against `key` when one is given. */
export async function verifyBundle(b: OpenedBundle, opts: { key?: KeyObject; progress?: ProgressSink } = {}): Promise<VerifyResult> {
  const signedBy = opts.key ? checkSignature(b.manifestBytes, b.signature, opts.key) : undefined;
  const total = b.manifest.parts.reduce((n, p) => n + p.size, 0);
  const progress = opts.progress ? new Progress('verify', total, opts.progress) : undefined;
  for (const part of b.manifest.parts) for await (const chunk of readPart(b, part)) progress?.add(chunk.length);
  progress?.finish();
  return { ...(signedBy ? { signedBy } : {}), signed: b.signature !== undefined, bytes: total };
}
