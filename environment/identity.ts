/**
 * Who deploys: the identity an environment labels its containers with (`berth.owner`), so that two environments —
 * two Berths, or a staging and a production repository — naming the same stack on the same host do not undo each
 * other forever: a stack owned by another environment is left alone, and plan, status and the log say whose it is.
 *
 * berth.yml `name:` sets it. Without one it is the environment repository's address (its `origin`, credentials
 * dropped, plus the folder within it), which `berth serve` from the URL and `berth apply` in a clone of it share;
 * a folder outside git is known by its machine and path.
 */
import os from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { defaultFs } from '../lib/git/fs.ts';
import type { Environment } from './environment.ts';

const known = new Map<string, Promise<string>>();

/** `https://user:pw@Git.Example.com/ops/env.git/` → `https://git.example.com/ops/env`. */
export function normalizeRemote(url: string): string {
  if (!URL.canParse(url)) return url.replace(/\.git\/?$/, '').replace(/\/+$/, '');
  const u = new URL(url);
  const pathname = u.pathname.replace(/\/+$/, '').replace(/\.git$/, '');
  return `${u.protocol}//${u.host.toLowerCase()}${pathname}`;
}

async function derive(root: string): Promise<string> {
  const repo = await git.findRoot({ fs: defaultFs, filepath: root }).catch(() => undefined);
  const origin = repo && (await git.getConfig({ fs: defaultFs, dir: repo, path: 'remote.origin.url' }).catch(() => undefined));
  if (repo && typeof origin === 'string' && origin) {
    const sub = path.relative(repo, root).split(path.sep).join('/');
    return `${normalizeRemote(origin)}${sub ? `//${sub}` : ''}`;
  }
  return `${os.hostname()}:${root}`;
}

export function environmentIdentity(env: Pick<Environment, 'root' | 'name'>): Promise<string> {
  if (env.name) return Promise.resolve(env.name);
  let found = known.get(env.root);
  if (!found) {
    found = derive(env.root);
    known.set(env.root, found);
  }
  return found;
}
