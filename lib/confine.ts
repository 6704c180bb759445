/**
 * The one way Berth reads a file a catalog or an environment names. A path resolves inside its root after
 * symlinks are resolved, or it is refused: absolute paths, `../` that climbs out and symlinks that leave the root
 * are errors naming the path, and nothing outside is ever opened — so its content can never reach an error, a log
 * or a merge request. Symlinks that stay inside are followed (a catalog may share a README between versions).
 * Every read is bounded by the file size limit. See docs/security.md.
 */
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from './errors.ts';
import { formatBytes, limits } from './limits.ts';

export type ConfineCode = 'PATH_OUTSIDE_ROOT' | 'FILE_TOO_LARGE' | 'FILE_NOT_REGULAR';

export class ConfineError extends UserError {
  constructor(code: ConfineCode, readonly file: string, message: string, hint: string) {
    super(code, `${file}: ${message}`, { data: { file }, hint });
  }
  /** The message without the leading file name, for a Problem that carries the file itself. */
  get reason(): string {
    return this.message.slice(this.file.length + 2);
  }
}

export interface ConfineOptions {
  /** What the root is, for messages: "catalog", "environment". */
  rootName?: string;
  /** Byte limit; default: limits().fileBytes. */
  maxBytes?: number;
}

const realRoots = new Map<string, string>();

async function realRoot(root: string): Promise<string> {
  const abs = path.resolve(root);
  let real = realRoots.get(abs);
  if (real === undefined) {
    real = await realpath(abs);
    // Roots are few (an environment and its catalogs) and their real paths don't change under a running Berth.
    if (realRoots.size < 1000) realRoots.set(abs, real);
  }
  return real;
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/**
 * The real path of `rel` (relative to `root`, or an absolute path under it), checked to lie inside the root;
 * undefined when nothing exists there.
 */
export async function confinedPath(root: string, rel: string, opts: ConfineOptions = {}): Promise<string | undefined> {
  const rootName = opts.rootName ?? 'root';
  const realBase = await realRoot(root);
  const given = path.isAbsolute(rel) ? rel : path.resolve(root, rel);
  const shown = path.isAbsolute(rel) && !inside(path.resolve(root), rel) ? rel : toPosix(path.relative(path.resolve(root), given));
  if (path.isAbsolute(rel) && !inside(path.resolve(root), rel) && !inside(realBase, rel)) {
    throw outside(shown, `is an absolute path outside the ${rootName} folder`, rootName);
  }
  if (!inside(path.resolve(root), given) && !inside(realBase, given)) throw outside(shown, `leaves the ${rootName} folder`, rootName);
  let real: string;
  try {
    real = await realpath(given);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw outside(shown, 'is a symlink loop', rootName);
    throw e;
  }
  if (!inside(realBase, real)) throw outside(shown, `is a symlink to a place outside the ${rootName} folder; Berth does not follow it`, rootName);
  return real;
}

function outside(file: string, why: string, rootName: string): ConfineError {
  return new ConfineError('PATH_OUTSIDE_ROOT', file, why,
    `Paths are relative to the ${rootName} folder and must stay inside it; copy the file into the ${rootName} instead of linking to it.`);
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** 'file', 'dir' or undefined (nothing there) for a path inside the root; refuses as confinedPath does. */
export async function confinedKind(root: string, rel: string, opts: ConfineOptions = {}): Promise<'file' | 'dir' | 'other' | undefined> {
  const real = await confinedPath(root, rel, opts);
  if (real === undefined) return undefined;
  const s = await stat(real);
  return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
}

/**
 * The text of a file inside `root`, or undefined when it does not exist. Refuses paths that leave the root,
 * anything but a regular file, and files over the size limit (reading at most one byte more than it).
 */
export async function readConfined(root: string, rel: string, opts: ConfineOptions = {}): Promise<string | undefined> {
  const real = await confinedPath(root, rel, opts);
  if (real === undefined) return undefined;
  const shown = path.isAbsolute(rel) ? toPosix(path.relative(path.resolve(root), rel)) : toPosix(path.normalize(rel));
  const max = opts.maxBytes ?? limits().fileBytes;
  const handle = await open(real, 'r');
  try {
    const s = await handle.stat();
    if (!s.isFile()) {
      throw new ConfineError('FILE_NOT_REGULAR', shown, 'is not a regular file', 'Give the path of a file (not a folder, device or pipe).');
    }
    // st_size can lie (files in /proc say 0), so the read itself is bounded too.
    const buf = Buffer.alloc(Math.min(s.size, max) + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) break;
    }
    if (got > max || s.size > max) throw tooLarge(shown, Math.max(s.size, got), max);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    await handle.close();
  }
}

export function tooLarge(file: string, size: number, max: number): ConfineError {
  return new ConfineError('FILE_TOO_LARGE', file, `is ${size > max ? 'larger than' : 'at'} the limit of ${formatBytes(max)}`,
    'Make the file smaller, or raise BERTH_MAX_FILE_BYTES where Berth runs if it really must be this large.');
}
