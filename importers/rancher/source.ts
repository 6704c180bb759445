/**
 * Reading a Rancher catalog as untrusted input: a folder, or a git URL cloned with isomorphic-git. Nothing
 * outside the catalog's folder is read (symbolic links are never followed), files are bounded in size, and
 * every error names the file.
 */
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UserError } from '../../lib/errors.ts';

export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_ENTRIES = 20_000;

export class CatalogSource {
  private entries = 0;
  constructor(readonly root: string, readonly describe: string) {}

  private abs(rel: string): string {
    const abs = path.resolve(this.root, rel);
    if (abs !== this.root && !abs.startsWith(this.root + path.sep)) throw new UserError('RANCHER_PATH', `${rel} is outside the catalog`);
    return abs;
  }

  /** Folders and regular files of a folder; symbolic links are left out and returned separately. */
  async list(rel: string): Promise<{ dirs: string[]; files: string[]; links: string[] }> {
    const out = { dirs: [] as string[], files: [] as string[], links: [] as string[] };
    let names;
    try {
      names = await readdir(this.abs(rel), { withFileTypes: true });
    } catch {
      return out;
    }
    this.entries += names.length;
    if (this.entries > MAX_ENTRIES) throw new UserError('RANCHER_TOO_LARGE', `the catalog has more than ${MAX_ENTRIES} files; import part of it with --template`);
    for (const e of names.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      if (e.isSymbolicLink()) out.links.push(e.name);
      else if (e.isDirectory()) out.dirs.push(e.name);
      else if (e.isFile()) out.files.push(e.name);
    }
    return out;
  }

  /** A file's text, or undefined when absent. Refuses links, non-files and files past the size bound. */
  async read(rel: string): Promise<string | undefined> {
    const buf = await this.readBytes(rel);
    if (buf === undefined) return undefined;
    const text = buf.toString('utf8');
    if (text.includes('\u0000')) throw new SourceFileError(rel, 'is not a text file (it holds NUL bytes)');
    return text;
  }

  async readBytes(rel: string): Promise<Buffer | undefined> {
    const abs = this.abs(rel);
    const st = await lstat(abs).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink()) throw new SourceFileError(rel, 'is a symbolic link; the importer reads only regular files inside the catalog');
    if (!st.isFile()) throw new SourceFileError(rel, 'is not a regular file');
    if (st.size > MAX_FILE_BYTES) throw new SourceFileError(rel, `is ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte limit for a catalog file`);
    return readFile(abs);
  }
}

export class SourceFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file} ${message}`);
  }
}

const isUrl = (s: string): boolean => /^(https?|git|ssh):\/\//.test(s) || /^[\w.-]+@[\w.-]+:/.test(s);

/** Opens SRC; a git URL (`URL[#branch]`) is cloned shallowly into a temporary folder removed by `close`. */
export async function openSource(src: string): Promise<{ source: CatalogSource; close(): Promise<void> }> {
  if (!isUrl(src)) {
    const root = path.resolve(src);
    const st = await lstat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new UserError('RANCHER_SOURCE', `no Rancher catalog folder at ${root}`, { hint: 'Pass the folder holding templates/ (or infra-templates/), or a git URL.' });
    return { source: new CatalogSource(root, root), close: async () => undefined };
  }
  const [url, branch] = src.split('#');
  const { syncRepo, scrubCredentials } = await import('../../lib/git/index.ts');
  const tmp = await mkdtemp(path.join(tmpdir(), 'berth-rancher-'));
  const close = () => rm(tmp, { recursive: true, force: true });
  let lastError: unknown;
  for (const b of branch ? [branch] : ['master', 'main']) {
    try {
      const { dir } = await syncRepo({ url, branch: b }, { cacheDir: tmp, depth: 1, timeoutMs: 120_000 });
      return { source: new CatalogSource(dir, scrubCredentials(src)), close };
    } catch (e) {
      lastError = e;
    }
  }
  await close();
  throw lastError instanceof Error ? lastError : new UserError('RANCHER_SOURCE', `could not clone ${scrubCredentials(url)}`);
}
