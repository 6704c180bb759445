/**
 * The bundle's container: a plain ustar archive of regular files, written and read at known offsets.
 *
 * Writing: a part's size is only known once it is compressed, so its header is written as a placeholder,
 * the data streamed after it, and the header rewritten in place; nothing is buffered beyond one chunk.
 * Reading: only the 512-byte headers are read, seeking over the data, so listing a bundle of gigabytes costs
 * a few reads; every header is checked (checksum, type, name, size within the file) because a bundle is
 * untrusted input. Any tar tool can list or unpack the file.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { BundleError } from './errors.ts';

const BLOCK = 512;
/** Largest size the 11 octal digits hold; beyond it the size field is base-256 (as GNU tar writes it). */
const OCTAL_MAX = 8 ** 11 - 1;
/** Upper bound on entries, so a hostile file cannot make the index unbounded. */
export const MAX_ENTRIES = 200_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

export interface TarEntry {
  name: string;
  /** Offset of the data (just after the header). */
  offset: number;
  size: number;
}

function octal(buf: Buffer, value: number, at: number, width: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', at, width, 'ascii');
}

function writeSize(buf: Buffer, size: number): void {
  if (size <= OCTAL_MAX) return octal(buf, size, 124, 12);
  buf[124] = 0x80;
  let v = BigInt(size);
  for (let i = 135; i > 124; i--, v >>= 8n) buf[i] = Number(v & 0xffn);
}

export function encodeHeader(name: string, size: number, mtime: Date): Buffer {
  if (!NAME.test(name) || name.includes('..')) throw new Error(`bad part name ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 0o644, 100, 8);
  octal(h, 0, 108, 8);
  octal(h, 0, 116, 8);
  writeSize(h, size);
  octal(h, Math.floor(mtime.getTime() / 1000), 136, 12);
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\x0000', 257, 8, 'binary');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Appends parts to a new file (FILE.partial, renamed to FILE by finish(): an interrupted create leaves no FILE). */
export class TarFileWriter {
  private pos = 0;
  private readonly mtime = new Date();
  private constructor(private readonly fd: FileHandle, readonly file: string, private readonly partial: string) {}

  static async create(file: string): Promise<TarFileWriter> {
    const partial = `${file}.partial`;
    return new TarFileWriter(await open(partial, 'w'), file, partial);
  }

  get position(): number {
    return this.pos;
  }

  private async write(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) done += (await this.fd.write(buf, done, buf.length - done, this.pos + done)).bytesWritten;
    this.pos += buf.length;
  }

  /**
   * Streams `data` into a new entry; resolves to its size. `name` may be a function, read once the data is
   * written: a content-addressed part is named by a digest known only at its end.
   */
  async add(name: string | (() => string), data: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer>): Promise<number> {
    const start = this.pos;
    await this.write(encodeHeader(typeof name === 'string' ? name : 'pending', 0, this.mtime));
    let size = 0;
    for await (const chunk of data) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      await this.write(b);
      size += b.length;
    }
    await this.fd.write(encodeHeader(typeof name === 'string' ? name : name(), size, this.mtime), 0, BLOCK, start);
    await this.write(Buffer.alloc(padding(size)));
    return size;
  }

  async addBuffer(name: string, data: Buffer): Promise<number> {
    return this.add(name, [data]);
  }

  /** Forgets everything written from `position` on (a part that turned out to be stored already). */
  async rollback(position: number): Promise<void> {
    await this.fd.truncate(position);
    this.pos = position;
  }

  /** The end-of-archive blocks, flushed to disk, then the rename that makes the bundle exist. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    await this.fd.sync();
    await this.fd.close();
    await rename(this.partial, this.file);
  }

  async abort(): Promise<void> {
    await this.fd.close().catch(() => {});
    await rm(this.partial, { force: true });
  }
}

function readOctal(h: Buffer, at: number, width: number): number {
  const text = h.toString('ascii', at, at + width).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return /^[0-7]*$/.test(text) ? Number.parseInt(text || '0', 8) : Number.NaN;
}

function readSize(h: Buffer): number {
  if (h[124] !== 0x80) return readOctal(h, 124, 12);
  let v = 0n;
  for (let i = 125; i < 136; i++) v = (v << 8n) | BigInt(h[i]);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(v);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === readOctal(h, 148, 8);
}

/** Reads `length` bytes at `position`, or fewer at the end of the file. */
export async function readAt(fd: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fd.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** The entries of the archive in `fd`, in order; refuses anything but well-formed regular files named safely. */
export async function indexTar(fd: FileHandle, file: string): Promise<TarEntry[]> {
  const { size: fileSize } = await fd.stat();
  const entries: TarEntry[] = [];
  let pos = 0;
  for (;;) {
    const h = await readAt(fd, pos, BLOCK);
    if (h.length < BLOCK) throw new BundleError('BUNDLE_TRUNCATED', `${file} is truncated: it ends inside the archive, after ${entries.at(-1)?.name ?? 'no part'}`, { part: entries.at(-1)?.name });
    if (h.every((b) => b === 0)) return entries;
    const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const where = `${file}, the entry at byte ${pos}${name ? ` (${name.slice(0, 100)})` : ''}`;
    if (!checksumOk(h)) throw new BundleError('BUNDLE_CORRUPT', `${where} has a damaged header (checksum mismatch)`, { part: name });
    const type = h.toString('ascii', 156, 157);
    if (type !== '0' && type !== '\0') throw new BundleError('BUNDLE_CORRUPT', `${where} is not a regular file (type ${JSON.stringify(type)}); a bundle holds only files`, { part: name });
    if (h.readUInt8(345) !== 0) throw new BundleError('BUNDLE_CORRUPT', `${where} uses a long-name prefix, which a bundle never does`, { part: name });
    if (!NAME.test(name) || name.split('/').some((s) => s === '..' || s === '.' || s === '')) {
      throw new BundleError('BUNDLE_CORRUPT', `${where} has a name a bundle never uses`, { part: name });
    }
    const size = readSize(h);
    if (!Number.isSafeInteger(size) || size < 0) throw new BundleError('BUNDLE_CORRUPT', `${where} has a bad size field`, { part: name });
    const next = pos + BLOCK + size + padding(size);
    if (pos + BLOCK + size > fileSize) throw new BundleError('BUNDLE_TRUNCATED', `${file} is truncated: part ${name} needs ${size} bytes, the file ends ${fileSize - pos - BLOCK} bytes into it`, { part: name });
    entries.push({ name, offset: pos + BLOCK, size });
    if (entries.length > MAX_ENTRIES) throw new BundleError('BUNDLE_CORRUPT', `${file} has more than ${MAX_ENTRIES} entries`);
    pos = next;
  }
}
