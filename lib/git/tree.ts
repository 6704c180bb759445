/**
 * Tree plumbing shared by commit, read and revert: flatten a tree into paths, and write a new tree from an
 * old one plus per-path changes, re-using every untouched subtree object.
 */
import git, { type TreeEntry } from 'isomorphic-git';
import { UserError } from '../errors.ts';
import type { GitFs } from './fs.ts';

/** A file in a tree: blob id and git mode ('100644', '100755', '120000' symlink, '160000' submodule). */
export interface FileEntry {
  oid: string;
  mode: string;
}

/** path → new content (mode defaults to the file's current mode, else 100644), or null to delete. */
export type TreeChanges = Map<string, { oid: string; mode?: string } | null>;

export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export async function treeOf(fs: GitFs, dir: string, commit: string): Promise<string> {
  return (await git.readCommit({ fs, dir, oid: commit })).commit.tree;
}

/** Every non-tree entry below `tree` (optionally below `prefix`), keyed by path relative to `prefix`. */
export async function flattenTree(fs: GitFs, dir: string, tree: string, prefix = ''): Promise<Map<string, FileEntry>> {
  const out = new Map<string, FileEntry>();
  const start = normalizePath(prefix, true);
  let root: string | null = tree;
  if (start) {
    try {
      const found = await git.readTree({ fs, dir, oid: tree, filepath: start });
      root = found.oid;
    } catch {
      root = null; // a missing folder reads as empty
    }
  }
  if (root) await collect(fs, dir, root, '', out);
  return out;
}

async function collect(fs: GitFs, dir: string, tree: string, base: string, out: Map<string, FileEntry>): Promise<void> {
  for (const e of (await git.readTree({ fs, dir, oid: tree })).tree) {
    const path = base ? `${base}/${e.path}` : e.path;
    if (e.type === 'tree') await collect(fs, dir, e.oid, path, out);
    else out.set(path, { oid: e.oid, mode: e.mode });
  }
}

/** Writes the tree that results from applying `changes` (path → entry, null = delete) to `base`. */
export async function applyChanges(fs: GitFs, dir: string, base: string | null, changes: TreeChanges): Promise<string> {
  return (await rewrite(fs, dir, base, changes)) ?? (await git.writeTree({ fs, dir, tree: [] }));
}

async function rewrite(fs: GitFs, dir: string, tree: string | null, changes: TreeChanges): Promise<string | null> {
  const entries = tree ? (await git.readTree({ fs, dir, oid: tree })).tree : [];
  const byName = new Map<string, TreeEntry>(entries.map((e) => [e.path, e]));
  const nested = new Map<string, TreeChanges>();
  for (const [path, change] of changes) {
    const slash = path.indexOf('/');
    if (slash < 0) {
      if (change === null) byName.delete(path);
      else byName.set(path, { path, mode: change.mode ?? keptMode(byName.get(path)), oid: change.oid, type: change.mode === '160000' ? 'commit' : 'blob' });
      continue;
    }
    const name = path.slice(0, slash);
    if (!nested.has(name)) nested.set(name, new Map());
    nested.get(name)!.set(path.slice(slash + 1), change);
  }
  for (const [name, sub] of nested) {
    const existing = byName.get(name);
    const oid = await rewrite(fs, dir, existing?.type === 'tree' ? existing.oid : null, sub);
    // Git has no empty folders: a folder whose last file went away disappears with it.
    if (oid === null) byName.delete(name);
    else byName.set(name, { path: name, mode: '040000', oid, type: 'tree' });
  }
  if (byName.size === 0) return null;
  return git.writeTree({ fs, dir, tree: [...byName.values()] });
}

/** Rewriting a script's content must not drop its executable bit. */
function keptMode(existing: TreeEntry | undefined): string {
  return existing?.type === 'blob' && existing.mode === '100755' ? '100755' : '100644';
}

/** Repository-relative, forward slashes, no `.`/`..` tricks; empty only where a prefix allows it. */
export function normalizePath(path: string, allowEmpty = false): string {
  const parts = path.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..' || p === '.git') || (!allowEmpty && parts.length === 0)) {
    throw new UserError('INVALID_PATH', `"${path}" is not a usable path inside the repository`, { data: { path } });
  }
  return parts.join('/');
}

export async function readText(fs: GitFs, dir: string, oid: string): Promise<string> {
  return Buffer.from((await git.readBlob({ fs, dir, oid })).blob).toString('utf8');
}
