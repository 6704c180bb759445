/**
 * `berth bundle load`: verify the whole file (and its signature when a key is given), check every target host
 * answers, then images onto the hosts (only what each lacks), then the catalogs, then the environment
 * repository. That order means a catalog never offers a version whose images are not on the hosts yet, and an
 * interrupted load is finished by running it again; a second load of the same bundle changes nothing.
 */
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { connectHost, pingHost } from '../engines/docker/connect.ts';
import { loadEnvironment, selectHosts, type Environment } from '../environment/environment.ts';
import type { HostSpec } from '../environment/types.ts';
import { exists } from '../lib/git/fs.ts';
import { UserError } from '../lib/errors.ts';
import { silentLogger, type Logger } from '../lib/log.ts';
import { builtinCatalogRoot } from '../lib/version.ts';
import { applyRepo, MAX_REPO_BYTES, type RepoResult } from './git-repo.ts';
import { swarmNodeTargets } from '../engines/swarm/nodes.ts';
import { loadHostImages, planHostImages, type HostImagesPlan } from './images-load.ts';
import type { BundleRepo } from './manifest.ts';
import { Progress, type ProgressSink } from './progress.ts';
import { openBundle, readSmallPart, verifyBundle, type OpenedBundle, type VerifyResult } from './reader.ts';

/** A load streams gigabytes and the engine then registers them in silence: far beyond a request's usual idle time. */
const LOAD_TIMEOUT_MS = 30 * 60_000;

export interface LoadOptions {
  file: string;
  env: string;
  /** Label selector over berth.yml's hosts; default every host. */
  hosts?: Record<string, string>;
  /** A Swarm of berth.yml instead of hosts: every one of its nodes. */
  swarm?: string;
  key?: KeyObject;
  progress?: ProgressSink;
  log?: Logger;
  processEnv?: Record<string, string | undefined>;
}

export interface HostLoad { host: string; loaded: string[]; tagged: string[]; bytes: number }
export interface LoadResult { verified: VerifyResult; hosts: HostLoad[]; repos: RepoResult[]; notes: string[]; swarm?: string }

interface Target { host: HostSpec; docker: Docker; plan: HostImagesPlan }

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  if (!(await exists(fs, dir))) return true;
  return (await fs.promises.readdir(dir)).length === 0;
}

/** Where each bundled catalog goes: the `path:` berth.yml gives it, else `<env>/catalogs/<name>`. */
function catalogTargets(env: Environment, repos: BundleRepo[], notes: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of repos) {
    const declared = env.catalogs.find((c) => c.name === r.name);
    if (declared?.root === builtinCatalogRoot()) {
      throw new UserError('BUNDLE_CATALOG_CONFLICT', `the bundle carries catalog ${r.name}, which berth.yml declares as builtin: true`, {
        hint: `Declare it in berth.yml as { name: ${r.name}, path: catalogs/${r.name} }, then load again.`,
      });
    }
    const dir = declared?.root ?? path.join(env.root, 'catalogs', r.name);
    if (!declared) notes.push(`catalog ${r.name} is installed in ${dir}; add it to berth.yml's catalogs: as { name: ${r.name}, path: ${path.relative(env.root, dir)} }`);
    out.set(r.name, dir);
  }
  return out;
}

/** The hosts `--hosts` selects, or every node of the `--swarm`; each answering, before anything is loaded. */
async function resolveTargets(env: Environment, opts: LoadOptions, notes: string[]): Promise<Target[]> {
  if (opts.swarm !== undefined) {
    const swarm = env.swarms?.find((s) => s.name === opts.swarm);
    if (!swarm) {
      throw new UserError('BUNDLE_SWARM_UNKNOWN', `--swarm ${opts.swarm}: ${env.root}/berth.yml declares no such swarm`, {
        hint: env.swarms?.length ? `swarms: ${env.swarms.map((s) => s.name).join(', ')}` : 'Declare it under swarms: in berth.yml (docs/environment.md).',
      });
    }
    const found = await swarmNodeTargets(swarm, { timeoutMs: LOAD_TIMEOUT_MS, code: 'BUNDLE_SWARM_NODE_UNREACHABLE', unreached: 'nothing was loaded' });
    notes.push(...found.notes.map((n) => `${n}; it lacks these images until the bundle is loaded again`));
    return found.targets.map((t) => ({ ...t, plan: { load: [], tag: [], bytes: 0 } }));
  }
  const hosts = opts.hosts ? selectHosts(env.hosts, opts.hosts) : env.hosts;
  if (hosts.length === 0) throw new UserError('BUNDLE_NO_HOSTS', `--hosts selects none of the hosts in ${env.root}/berth.yml`, { hint: `hosts: ${env.hosts.map((h) => h.name).join(', ')}` });
  return prepareTargets(hosts);
}

async function prepareTargets(hosts: HostSpec[]): Promise<Target[]> {
  return Promise.all(hosts.map(async (host) => {
    const docker = connectHost(host, { timeoutMs: LOAD_TIMEOUT_MS });
    await pingHost(docker, host);
    return { host, docker, plan: { load: [], tag: [], bytes: 0 } };
  }));
}

async function applyBundledRepo(b: OpenedBundle, dir: string, repo: BundleRepo): Promise<RepoResult> {
  return applyRepo(dir, await readSmallPart(b, repo.part, MAX_REPO_BYTES), repo);
}

export async function loadBundle(opts: LoadOptions): Promise<LoadResult> {
  const log = opts.log ?? silentLogger;
  const b = await openBundle(opts.file);
  try {
    const verified = await verifyBundle(b, { key: opts.key, progress: opts.progress });
    const m = b.manifest;
    const envRoot = path.resolve(opts.env);
    const repos: RepoResult[] = [];
    const notes: string[] = [];
    // A site's first load brings its environment: it is needed now, to know the hosts.
    const envFresh = m.environment !== undefined && !(await exists(fs, path.join(envRoot, 'berth.yml'))) && (await isEmptyOrMissing(envRoot));
    if (envFresh) repos.push(await applyBundledRepo(b, envRoot, m.environment!));
    const env = await loadEnvironment(envRoot, { catalogsMayBeMissing: true, processEnv: opts.processEnv });
    const targets = catalogTargets(env, m.catalogs, notes);
    const ready = await resolveTargets(env, opts, notes);
    for (const t of ready) t.plan = await planHostImages(t.docker, m.images, m.layers, m.parts);
    const results: HostLoad[] = [];
    for (const t of ready) {
      const { plan } = t;
      const progress = opts.progress && plan.load.length ? new Progress(`load ${t.host.name}`, plan.bytes, opts.progress) : undefined;
      log.info({ host: t.host.name, images: plan.load.length, bytes: plan.bytes, retag: plan.tag.length }, plan.load.length ? 'loading images' : 'host has every image');
      await loadHostImages(t.docker, b, plan, { host: t.host.name, progress });
      progress?.finish();
      results.push({ host: t.host.name, loaded: plan.load.map((i) => i.tags[0] ?? i.id), tagged: plan.tag.flatMap((x) => x.tags), bytes: plan.bytes });
    }
    for (const r of m.catalogs) repos.push(await applyBundledRepo(b, targets.get(r.name)!, r));
    if (m.environment && !envFresh) repos.push(await applyBundledRepo(b, envRoot, m.environment));
    return { verified, hosts: results, repos, notes, ...(opts.swarm !== undefined ? { swarm: opts.swarm } : {}) };
  } finally {
    await b.close();
  }
}
