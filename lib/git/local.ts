/**
 * Local-path sources. A git work tree is used in place; a bare repository is mirrored into the cache
 * (isomorphic-git has no file:// transport, and objects are content-addressed, so copying the new object
 * files is a correct fetch); a plain folder is used as-is with no commit to speak of.
 */
import { join, resolve } from 'node:path';
import git from 'isomorphic-git';
import { UserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { cacheName } from './source.ts';
import { exists, replaceDir, tempSibling, type GitFs } from './fs.ts';
import type { SyncResult } from './sync.ts';

export const WORKING_TREE = 'working-tree';

interface LocalOptions {
  cacheDir: string;
  fs: GitFs;
  log?: Logger;
  /** See SyncOptions.checkedOut: a bare repository's mirror is left alone while its branch stays there. */
  checkedOut?: string;
}

export async function syncLocal(source: { path: string; branch?: string }, opts: LocalOptions): Promise<SyncResult> {
  const { fs } = opts;
  const path = resolve(source.path);
  if (!(await exists(fs, path))) {
    throw new UserError('REPO_PATH_NOT_FOUND', `repository folder ${path} does not exist`, { data: { path }, hint: 'Check the path in the configuration.' });
  }
  if (await exists(fs, join(path, '.git'))) return useWorkTree(path, source.branch, opts);
  if ((await exists(fs, join(path, 'objects'))) && (await exists(fs, join(path, 'HEAD')))) return mirrorBare(path, source.branch, opts);
  return { dir: path, commit: WORKING_TREE, changed: true };
}

async function useWorkTree(dir: string, branch: string | undefined, opts: LocalOptions): Promise<SyncResult> {
  const { fs } = opts;
  const commit = await resolveOrThrow(fs, { dir }, branch ?? 'HEAD', dir);
  const current = await git.currentBranch({ fs, dir }).catch(() => undefined);
  if (branch && current !== branch) {
    // The files on disk are whatever is checked out; say so rather than silently mixing two states.
    (opts.log ?? silentLogger).warn({ dir, branch, checkedOut: current ?? 'detached' }, 'local repository has another branch checked out; using its work tree as-is');
  }
  const changed = await rememberCommit(fs, join(opts.cacheDir, `${cacheName(`file://${dir}`, branch ?? 'HEAD')}.last`), commit);
  return { dir, commit, changed };
}

async function mirrorBare(bare: string, branch: string | undefined, opts: LocalOptions): Promise<SyncResult> {
  const { fs } = opts;
  const name = branch ?? (await git.currentBranch({ fs, gitdir: bare })) ?? 'main';
  const commit = await resolveOrThrow(fs, { gitdir: bare }, name, bare);
  const dir = join(opts.cacheDir, cacheName(`file://${bare}`, name));
  const branchRef = `refs/heads/${name}`;
  const previous = await git.resolveRef({ fs, dir, ref: branchRef }).catch(() => null);
  if (previous === null) {
    const tmp = tempSibling(dir);
    try {
      await git.init({ fs, dir: tmp, defaultBranch: name });
      await copyObjects(fs, bare, join(tmp, '.git'));
      await git.writeRef({ fs, dir: tmp, ref: branchRef, value: commit, force: true });
      await git.checkout({ fs, dir: tmp, ref: name, force: true });
      await replaceDir(fs, tmp, dir);
    } finally {
      await fs.promises.rm(tmp, { recursive: true, force: true });
    }
  } else if (commit !== previous || opts.checkedOut !== commit) {
    await copyObjects(fs, bare, join(dir, '.git'));
    await git.writeRef({ fs, dir, ref: branchRef, value: commit, force: true });
    await git.checkout({ fs, dir, ref: name, force: true });
  }
  return { dir, commit, changed: commit !== previous };
}

/** Object files never change once written, so skipping the ones already present is enough. */
async function copyObjects(fs: GitFs, fromGitdir: string, toGitdir: string): Promise<void> {
  await fs.promises.cp(join(fromGitdir, 'objects'), join(toGitdir, 'objects'), { recursive: true, force: false, errorOnExist: false });
}

async function resolveOrThrow(fs: GitFs, where: { dir?: string; gitdir?: string }, ref: string, label: string): Promise<string> {
  try {
    return await git.resolveRef({ fs, ...where, ref });
  } catch {
    throw new UserError('BRANCH_NOT_FOUND', `${label} has no branch ${ref}`, { data: { path: label, branch: ref }, hint: 'Check the branch name in the configuration.' });
  }
}

/** Records the commit seen for a local source; returns whether it differs from the one recorded before. */
async function rememberCommit(fs: GitFs, stateFile: string, commit: string): Promise<boolean> {
  const before = await fs.promises.readFile(stateFile, 'utf8').catch(() => null);
  if (before?.trim() === commit) return false;
  await fs.promises.mkdir(join(stateFile, '..'), { recursive: true });
  await fs.promises.writeFile(stateFile, `${commit}\n`);
  return true;
}
