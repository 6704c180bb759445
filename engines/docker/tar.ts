/**
 * Tar archives in memory, for copying config and secret files into a container (PUT /archive) and, in the
 * test harness, for image root filesystems. Regular files need no folder entries: the engine creates missing
 * parents (0755, root) while extracting, and leaving them out keeps existing folders' mode and owner.
 */
import tar from 'tar-stream';

export interface TarEntry {
  /** Absolute path in the container. */
  path: string;
  type?: 'file' | 'directory' | 'symlink';
  content?: Buffer | string;
  /** Target of a symlink. */
  linkname?: string;
  mode: number;
  uid?: number;
  gid?: number;
}

/** Kept for the copy-into-container call sites: a file always has content and an owner. */
export type TarFile = TarEntry & { content: Buffer | string; uid: number; gid: number };

export async function tarEntries(entries: TarEntry[], mtime = new Date()): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '') + (e.type === 'directory' ? '/' : '');
    const header = { name, type: e.type ?? 'file', mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime, linkname: e.linkname };
    if (header.type === 'file') pack.entry(header, Buffer.from(e.content ?? ''));
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const tarFiles = (files: TarFile[], mtime?: Date): Promise<Buffer> => tarEntries(files, mtime);
