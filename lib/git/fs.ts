/**
 * The file system seam. isomorphic-git takes any node-compatible fs; Berth's own file work goes through the
 * same object so a test can hand in one implementation for both.
 */
import nodeFs from 'node:fs';

export type GitFs = typeof nodeFs;

export const defaultFs: GitFs = nodeFs;

export async function exists(fs: GitFs, path: string): Promise<boolean> {
  try {
    await fs.promises.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A name next to `dir` for a build-then-rename, so a crash leaves debris, never a half-made `dir`. */
export function tempSibling(dir: string): string {
  return `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Swaps `tmp` into `dir`, replacing whatever was there (a broken cache). */
export async function replaceDir(fs: GitFs, tmp: string, dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true });
  await fs.promises.rename(tmp, dir);
}
