/**
 * Reconcile only what moved. A stack's desired state is a function of its inputs — its stack file, what berth.yml
 * says of hosts, swarms and registries, its catalog's version, its folder on the ledger branch, the variables it
 * may read and the environment files it read — and a plan is a pure function of the desired and observed state.
 * So a stack whose inputs and observed state both hash as they did when its last reconcile found nothing to do
 * needs no render, no plan and no record: that verdict still holds. Only hashes are kept, never the documents.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readConfined } from '../lib/confine.ts';
import { WORKING_TREE } from '../lib/git/local.ts';
import { allowedEnv } from '../engines/standalone/desired.ts';
import type { ObservedState } from '../engines/engine.ts';
import type { Environment } from '../environment/environment.ts';
import type { StackSpec } from '../environment/types.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** What a stack's last quiet reconcile saw, as hashes. */
export interface MemoEntry {
  /** inputsKey() of the run. */
  inputs: string;
  /** The environment commit it ran at: files it read are compared again only after that moves. */
  commit: string;
  /** Each environment file the render read (relative to the root) → sha256 of its text, null when unreadable. */
  reads: Record<string, string | null>;
  /** The desired image references: the observation is asked for the same ones, so it hashes the same. */
  images: string[];
  /** observedKey() of the state the plan found nothing to do for. */
  observed: string;
}

export class StackMemo {
  private readonly entries = new Map<string, MemoEntry>();

  get size(): number {
    return this.entries.size;
  }

  set(stack: string, entry: MemoEntry): void {
    this.entries.set(stack, entry);
  }

  forget(stack: string): void {
    this.entries.delete(stack);
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * The entry when its inputs still hold: the same inputs key and, once the environment commit moved (or for a
   * folder outside git, always), every file the render read still reads the same.
   */
  async valid(stack: string, inputs: string, env: Environment, commit: string | undefined): Promise<MemoEntry | undefined> {
    const e = this.entries.get(stack);
    if (!e || e.inputs !== inputs) return undefined;
    if (commit === e.commit && commit !== WORKING_TREE) return e;
    for (const [rel, was] of Object.entries(e.reads)) {
      if ((await readHash(env.root, rel)) !== was) return void this.entries.delete(stack);
    }
    if (commit) e.commit = commit;
    return e;
  }
}

async function readHash(root: string, rel: string): Promise<string | null> {
  const text = await readConfined(root, rel, { rootName: 'environment' }).catch(() => undefined);
  return text === undefined ? null : sha(text);
}

/** Collects the files a render reads (DesiredOptions.onRead), as hashes. */
export function readRecorder(): { onRead: (rel: string, text: string | undefined) => void; reads: Record<string, string | null> } {
  const reads: Record<string, string | null> = {};
  return { reads, onRead: (rel, text) => void (reads[rel] = text === undefined ? null : sha(text)) };
}

/** The parts of an environment every stack's desired state depends on, hashed once per loaded environment. */
const envKeys = new WeakMap<Environment, string>();
const specKeys = new WeakMap<StackSpec, string>();

function envKey(env: Environment): string {
  let k = envKeys.get(env);
  if (k === undefined) {
    k = sha(JSON.stringify([env.root, env.name ?? null, env.hosts, env.swarms ?? [], env.registries, env.allowEnv ?? [], env.catalogs.map((c) => [c.name, c.root ?? null])]));
    envKeys.set(env, k);
  }
  return k;
}

function specKey(spec: StackSpec): string {
  let k = specKeys.get(spec);
  if (k === undefined) {
    const { invalid: _invalid, ...rest } = spec;
    k = sha(JSON.stringify(rest));
    specKeys.set(spec, k);
  }
  return k;
}

export interface Inputs {
  env: Environment;
  spec: StackSpec;
  /** catalogKeys() entry of the stack's catalog; undefined when it has none that can be keyed (never memoised). */
  catalog: string | undefined;
  /** The stack's folder on the ledger branch (tree id), null when it has none (no ledger, never deployed). */
  ledgerFolder: string | null;
  processEnv?: Record<string, string | undefined>;
}

/** Everything a stack's desired state is made of but the environment files it reads (MemoEntry.reads). */
export function inputsKey(i: Inputs): string | undefined {
  if (i.catalog === undefined || i.spec.invalid) return undefined;
  const vars = allowedEnv(i.env, i.processEnv ?? process.env);
  return sha(JSON.stringify([envKey(i.env), specKey(i.spec), i.catalog, i.ledgerFolder, Object.entries(vars).sort()]));
}

/** The observed state as a hash: equal hashes, equal plans (the plan is a pure function of it and the desired state). */
export function observedKey(o: ObservedState): string {
  return sha(JSON.stringify(o));
}

/**
 * A version for each catalog of the environment: the commit of a `url:` catalog (its clone in Berth's cache is
 * written by nothing but its sync), the built-in catalog's Berth version, and for any other folder the HEAD of its
 * repository (when in one) with the size and time of every file in it, since a folder changes without a commit.
 * Undefined for a catalog that cannot be keyed: its stacks are rendered every time.
 */
export async function catalogKeys(env: Environment, labels: Record<string, string>, opts: { cacheDir: string; builtinRoot: string }): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  const cache = path.resolve(opts.cacheDir) + path.sep;
  for (const c of env.catalogs) {
    const label = labels[c.name];
    const root = c.root && path.resolve(c.root);
    if (!root) out.set(c.name, undefined);
    else if (label !== undefined && (root.startsWith(cache) || root === path.resolve(opts.builtinRoot))) out.set(c.name, label);
    else out.set(c.name, await folderFingerprint(root).then((f) => f && `${label ?? ''}:${f}`, () => undefined));
  }
  return out;
}

const MAX_FILES = 20_000;

/** Every file under `root` (`.git` aside) with its size and modification time, hashed; undefined past MAX_FILES. */
async function folderFingerprint(root: string): Promise<string | undefined> {
  const h = createHash('sha256');
  let files = 0;
  const walk = async (dir: string): Promise<boolean> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name === '.git') continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!(await walk(abs))) return false;
      } else {
        if (++files > MAX_FILES) return false;
        const s = await stat(abs).catch(() => undefined);
        h.update(`${path.relative(root, abs)}\0${s?.size ?? -1}\0${s?.mtimeMs ?? -1}\n`);
      }
    }
    return true;
  };
  return (await walk(root)) ? h.digest('hex') : undefined;
}
