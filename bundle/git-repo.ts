/**
 * Repositories as bundle parts: a git bundle (v2: a header of refs, then one packfile holding every object
 * they reach, so history travels too; `git clone x.bundle` reads it as well). On site a part becomes an ordinary
 * repository: installed when missing (built beside the target and renamed into place), else its branches are
 * fast-forwarded. A ref is never moved backwards or across a fork: an older bundle never rewinds a newer catalog.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { exists, replaceDir, tempSibling } from '../lib/git/fs.ts';
import { BundleError } from './errors.ts';
import type { BundleRepo } from './manifest.ts';

const HEADER = '# v2 git bundle\n';
/** Repositories are text and history; far below this. A part claiming more is refused before it is read. */
export const MAX_REPO_BYTES = 1024 * 1024 * 1024;

export interface PackedRepo { refs: Record<string, string>; head: string; data: Buffer }

async function walkTree(dir: string, oid: string, seen: Set<string>): Promise<void> {
  const stack = [oid];
  while (stack.length) {
    const tree = stack.pop()!;
    if (seen.has(tree)) continue;
    seen.add(tree);
    for (const e of (await git.readTree({ fs, dir, oid: tree })).tree) {
      if (e.type === 'tree') stack.push(e.oid);
      else if (e.type === 'blob') seen.add(e.oid);
    }
  }
}

/** Every object reachable from `tips` (commits, trees, blobs, annotated tags). */
async function reachable(dir: string, tips: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const todo = [...tips];
  while (todo.length) {
    const oid = todo.pop()!;
    if (seen.has(oid)) continue;
    const { type, object } = await git.readObject({ fs, dir, oid });
    seen.add(oid);
    if (type === 'tag') todo.push((object as { object: string }).object);
    else if (type === 'commit') {
      const c = object as { tree: string; parent: string[] };
      await walkTree(dir, c.tree, seen);
      todo.push(...c.parent);
    } else if (type === 'tree') {
      seen.delete(oid);
      await walkTree(dir, oid, seen);
    }
  }
  return [...seen];
}

/** The repository at `dir` (its top folder) as a git bundle of `branches` (default: all) and its tags. */
export async function packRepo(dir: string, what: string, opts: { onlyHead?: boolean } = {}): Promise<PackedRepo> {
  const top = await git.findRoot({ fs, filepath: dir }).catch(() => undefined);
  if (!top || path.resolve(top) !== path.resolve(dir)) {
    throw new BundleError('BUNDLE_REPO_NOT_GIT', `${what} at ${dir} is not the top folder of a git repository; a bundle carries it with its history`, {
      hint: `Make it one (git init && git add -A && git commit) or point at the repository's top folder.`,
    });
  }
  const head = await git.currentBranch({ fs, dir });
  if (!head) throw new BundleError('BUNDLE_REPO_DETACHED', `${what} at ${dir} has no branch checked out`, { hint: 'Check out the branch to ship (git switch main).' });
  const branches = opts.onlyHead ? [head] : await git.listBranches({ fs, dir });
  const refs: Record<string, string> = {};
  for (const b of branches) refs[`refs/heads/${b}`] = await git.resolveRef({ fs, dir, ref: `refs/heads/${b}` });
  if (!opts.onlyHead) for (const t of await git.listTags({ fs, dir })) refs[`refs/tags/${t}`] = await git.resolveRef({ fs, dir, ref: `refs/tags/${t}` });
  const oids = await reachable(dir, [...new Set(Object.values(refs))]);
  const { packfile } = await git.packObjects({ fs, dir, oids });
  const lines = Object.entries(refs).map(([ref, oid]) => `${oid} ${ref}\n`).join('');
  return { refs, head, data: Buffer.concat([Buffer.from(`${HEADER}${lines}\n`), Buffer.from(packfile!)]) };
}

/** Splits a git bundle into its refs and packfile, checking the refs are exactly those the manifest lists. */
export function parseGitBundle(data: Buffer, repo: BundleRepo): { pack: Buffer } {
  const bad = (why: string) => new BundleError('BUNDLE_REPO_INVALID', `repository ${repo.name} (${repo.part}) ${why}`, { part: repo.part });
  if (!data.subarray(0, HEADER.length).equals(Buffer.from(HEADER))) throw bad('is not a v2 git bundle');
  const end = data.indexOf('\n\n', HEADER.length - 1);
  if (end < 0 || end > 4 * 1024 * 1024) throw bad('has no end to its list of refs');
  const refs: Record<string, string> = {};
  for (const line of data.toString('utf8', HEADER.length, end).split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{40}) (refs\/\S+)$/.exec(line);
    if (!m) throw bad(line.startsWith('-') ? 'needs commits it does not hold (a thin bundle)' : `has a malformed ref line: ${line.slice(0, 80)}`);
    refs[m[2]] = m[1];
  }
  const want = JSON.stringify(Object.entries(repo.refs).sort());
  if (JSON.stringify(Object.entries(refs).sort()) !== want) throw bad('lists other refs than the manifest');
  return { pack: data.subarray(end + 2) };
}

export type RefAction = 'created' | 'fast-forwarded' | 'unchanged' | 'kept-newer' | 'kept-diverged';
export interface RefChange { ref: string; action: RefAction; from?: string; to: string }
export interface RepoResult { name: string; dir: string; installed: boolean; refs: RefChange[] }

/** Adds the pack's objects to the repository at `dir` (idempotent: a pack is named by its own checksum). */
async function addPack(dir: string, pack: Buffer, repo: BundleRepo): Promise<void> {
  if (pack.length < 32 || pack.toString('ascii', 0, 4) !== 'PACK') {
    throw new BundleError('BUNDLE_REPO_INVALID', `repository ${repo.name} (${repo.part}) holds no packfile`, { part: repo.part });
  }
  const trailer = pack.subarray(pack.length - 20);
  if (!createHash('sha1').update(pack.subarray(0, pack.length - 20)).digest().equals(trailer)) {
    throw new BundleError('BUNDLE_REPO_INVALID', `repository ${repo.name} (${repo.part}) has a damaged packfile`, { part: repo.part });
  }
  const rel = `.git/objects/pack/pack-${trailer.toString('hex')}`;
  if (await exists(fs, path.join(dir, `${rel}.idx`))) return;
  await fs.promises.mkdir(path.join(dir, '.git/objects/pack'), { recursive: true });
  await fs.promises.writeFile(path.join(dir, `${rel}.pack`), pack);
  try {
    await git.indexPack({ fs, dir, filepath: `${rel}.pack` });
  } catch (e) {
    await fs.promises.rm(path.join(dir, `${rel}.pack`), { force: true });
    throw new BundleError('BUNDLE_REPO_INVALID', `repository ${repo.name} (${repo.part}): its packfile cannot be read: ${(e as Error).message}`, { part: repo.part, cause: e });
  }
}

async function readRef(dir: string, ref: string): Promise<string | undefined> {
  return git.resolveRef({ fs, dir, ref }).catch(() => undefined);
}

/** What a ref of the bundle does to the repository's ref of the same name. */
async function refAction(dir: string, ref: string, to: string): Promise<RefChange> {
  const from = await readRef(dir, ref);
  if (from === undefined) return { ref, action: 'created', to };
  if (from === to) return { ref, action: 'unchanged', from, to };
  if (ref.startsWith('refs/heads/') && (await git.isDescendent({ fs, dir, oid: to, ancestor: from, depth: -1 }).catch(() => false))) return { ref, action: 'fast-forwarded', from, to };
  const newer = await git.isDescendent({ fs, dir, oid: from, ancestor: to, depth: -1 }).catch(() => false);
  return { ref, action: newer ? 'kept-newer' : 'kept-diverged', from, to };
}

/** Whether the work tree has edits a checkout would overwrite. */
async function isDirty(dir: string): Promise<boolean> {
  const rows = await git.statusMatrix({ fs, dir });
  return rows.some(([, head, work, stage]) => !(head === 1 && work === 1 && stage === 1) && !(head === 0 && work === 2 && stage === 0));
}

/** Installs the repository at `dir`, or brings its refs forward; never rewinds or overwrites local work. */
export async function applyRepo(dir: string, data: Buffer, repo: BundleRepo): Promise<RepoResult> {
  const { pack } = parseGitBundle(data, repo);
  if (!(await exists(fs, path.join(dir, '.git')))) {
    if ((await exists(fs, dir)) && (await fs.promises.readdir(dir)).length > 0) {
      throw new BundleError('BUNDLE_TARGET_NOT_REPO', `${dir} exists and is not a git repository; repository ${repo.name} cannot be installed there`, {
        hint: `Move ${dir} away (Berth installs ${repo.name} there as a git repository), then load again.`,
      });
    }
    return install(dir, pack, repo);
  }
  await addPack(dir, pack, repo);
  const current = await git.currentBranch({ fs, dir }).catch(() => undefined);
  const changes: RefChange[] = [];
  for (const [ref, to] of Object.entries(repo.refs).sort()) changes.push(await refAction(dir, ref, to));
  const moves = changes.filter((c) => c.action === 'created' || c.action === 'fast-forwarded');
  const headRef = `refs/heads/${current}`;
  if (current && moves.some((c) => c.ref === headRef) && (await isDirty(dir))) {
    throw new BundleError('BUNDLE_TARGET_DIRTY', `${dir} has uncommitted changes, so ${repo.name}'s branch ${current} cannot be moved forward`, {
      hint: `Commit or discard the changes in ${dir} (git status), then load again.`,
    });
  }
  for (const c of moves) await git.writeRef({ fs, dir, ref: c.ref, value: c.to, force: true });
  if (current && moves.some((c) => c.ref === headRef)) await git.checkout({ fs, dir, ref: current, force: true });
  return { name: repo.name, dir, installed: false, refs: changes };
}

async function install(dir: string, pack: Buffer, repo: BundleRepo): Promise<RepoResult> {
  const tmp = tempSibling(dir);
  await fs.promises.mkdir(path.dirname(dir), { recursive: true });
  try {
    await git.init({ fs, dir: tmp, defaultBranch: repo.head });
    await addPack(tmp, pack, repo);
    for (const [ref, oid] of Object.entries(repo.refs)) await git.writeRef({ fs, dir: tmp, ref, value: oid, force: true });
    await git.checkout({ fs, dir: tmp, ref: repo.head, force: true });
    await replaceDir(fs, tmp, dir);
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
  const refs = Object.entries(repo.refs).sort().map(([ref, to]) => ({ ref, action: 'created' as const, to }));
  return { name: repo.name, dir, installed: true, refs };
}
