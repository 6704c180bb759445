/**
 * What the serve benchmarks share (bench/serve.ts, bench/scale.ts), beside what every benchmark prints (report.ts): `berth serve` as a child process the way
 * operators run it, with a preload that reports process.memoryUsage() on SIGUSR2; an environment repository on
 * the harness git server pushed to with the git CLI; /proc readings of RSS and CPU; the report's formatting.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { GitServer } from '../test/harness/git-server.ts';
import { buildState } from './report.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------- git ----------

/** git with a config isolated from the machine's and the user's. */
const gitEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'berth-bench', GIT_AUTHOR_EMAIL: 'bench@localhost', GIT_COMMITTER_NAME: 'berth-bench', GIT_COMMITTER_EMAIL: 'bench@localhost',
});

/** The git CLI, asynchronously: the git server answering its HTTP requests lives in this process. */
export function gitCli(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: gitEnv(), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** An environment repository on the git server and a work clone to commit and push from. */
export class EnvRepo {
  readonly url: string;
  private constructor(readonly git: GitServer, readonly name: string, readonly work: string) {
    this.url = git.repoUrl(name);
  }

  static async create(git: GitServer, dir: string, name: string, berthYml: string, stacks: Record<string, string>): Promise<EnvRepo> {
    git.createBareRepo(name);
    const work = path.join(dir, `work-${name}`);
    await mkdir(path.join(work, 'stacks'), { recursive: true });
    await gitCli(['init', '-q', '-b', 'main'], work);
    await gitCli(['remote', 'add', 'origin', git.authedUrl(name)], work);
    const repo = new EnvRepo(git, name, work);
    await writeFile(path.join(work, 'berth.yml'), berthYml);
    await repo.commit(stacks, 'initial environment');
    return repo;
  }

  /** Writes stack files, commits, pushes main over HTTP; returns the commit. */
  async commit(stacks: Record<string, string>, message: string): Promise<string> {
    for (const [stack, text] of Object.entries(stacks)) await writeFile(path.join(this.work, 'stacks', `${stack}.yml`), text);
    await gitCli(['add', '-A'], this.work);
    await gitCli(['commit', '-q', '-m', message], this.work);
    await gitCli(['push', '-q', 'origin', 'HEAD:refs/heads/main'], this.work);
    return (await gitCli(['rev-parse', 'HEAD'], this.work)).trim();
  }
}

// ---------- berth serve, a child process ----------

export type LogLine = Record<string, unknown> & { time?: number; msg?: string };

export interface StackState {
  stack: string;
  desiredCommit: string | null;
  status: string;
  reconciling: boolean;
  reason: string;
  lastError: string | null;
  lastReconcile: { why: string; outcome: string; at: string; durationMs: number; changes: string[] } | null;
}

export interface MemUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  heap: { total_heap_size: number; used_heap_size: number; total_physical_size: number; malloced_memory: number; number_of_native_contexts: number };
  /** Physical size of each V8 heap space (new_space, old_space, code_space, large_object_space …), bytes. */
  spaces?: Record<string, number>;
  afterGc?: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; spaces?: Record<string, number> };
}

/** Files the serve processes need: the memory probe preload and a runner of dist/cli/main.js. */
export interface Probes {
  dir: string;
  memProbe: string;
  distRunner: string;
}

export async function writeProbes(dir: string): Promise<Probes> {
  const memProbe = path.join(dir, 'mem-probe.mjs');
  await writeFile(memProbe, [
    "import { writeFileSync } from 'node:fs';",
    "import v8 from 'node:v8';",
    '// With --node-flags=--expose-gc it also reports the heap after a full collection (what is really live).',
    '// With BENCH_HEAP_SNAPSHOT set it also writes PREFIX-1.heapsnapshot, -2 … (after the collection, if any).',
    'let snapshots = 0;',
    "process.on('SIGUSR2', () => {",
    '  const spaces = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]));',
    '  const u = { ...process.memoryUsage(), heap: v8.getHeapStatistics(), spaces: spaces() };',
    '  if (globalThis.gc) { globalThis.gc(); u.afterGc = { ...process.memoryUsage(), spaces: spaces() }; }',
    '  if (process.env.BENCH_HEAP_SNAPSHOT) v8.writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}-${++snapshots}.heapsnapshot`);',
    '  writeFileSync(process.env.BENCH_MEM_FILE, JSON.stringify(u));',
    '});',
    '',
  ].join('\n'));
  const distRunner = path.join(dir, 'berth-dist.mjs');
  await writeFile(distRunner, `const { main } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'cli', 'main.js'))});\nprocess.exitCode = await main(process.argv);\n`);
  return { dir, memProbe, distRunner };
}

export interface ServeOptions {
  probes: Probes;
  envUrl: string;
  /** The token for the environment repository (given to serve through BENCH_ENV_TOKEN). */
  token: string;
  intervalSeconds: number;
  /** Names the cache folder and the memory files of this process. */
  tag: string;
  from: 'auto' | 'dist' | 'source';
  nodeFlags: string[];
  /** Each probe read also writes PREFIX-<tag>-N.heapsnapshot, for Chrome DevTools' Memory tab. */
  heapSnapshot?: string;
  extraArgs?: string[];
  extraEnv?: NodeJS.ProcessEnv;
  /** Told every line serve writes. */
  verbose?: (line: string) => void;
}

/** Every serve process started and not yet exited: killed on Ctrl-C. */
export const liveServes = new Set<ChildProcess>();

export class Serve {
  readonly logs: LogLine[] = [];
  private rawTail = '';
  private constructor(readonly proc: ChildProcess, readonly memFile: string, readonly mode: string, private readonly snapshots: boolean) {}
  url = '';
  get pid(): number {
    return this.proc.pid!;
  }

  /** `berth serve` on a free loopback port; resolves once it logs its address (before it syncs anything). */
  static async start(o: ServeOptions): Promise<Serve> {
    const { distFresh, distExists } = buildState(ROOT);
    let entry = path.join(ROOT, 'bin', 'berth.js');
    let mode = distFresh ? 'dist (bin/berth.js)' : 'sources via tsx (bin/berth.js: dist/ is older than the sources)';
    const env: NodeJS.ProcessEnv = {
      ...process.env, BERTH_LOG_FORMAT: 'json', BERTH_LOG_LEVEL: 'info', BENCH_ENV_TOKEN: o.token, BENCH_MEM_FILE: path.join(o.probes.dir, `mem-${o.tag}.json`),
    };
    if (o.heapSnapshot) env.BENCH_HEAP_SNAPSHOT = `${path.resolve(o.heapSnapshot)}-${o.tag}`;
    for (const k of ['BERTH_ENV', 'BERTH_LISTEN', 'BERTH_INTERVAL', 'BERTH_INTERVAL_SECONDS', 'BERTH_CACHE_DIR', 'BERTH_GITHUB_WEBHOOK_SECRET', 'BERTH_GITLAB_WEBHOOK_SECRET', 'BERTH_CONCURRENCY', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'NODE_OPTIONS']) delete env[k];
    delete env.BERTH_FROM_SOURCE;
    Object.assign(env, o.extraEnv);
    if (o.from === 'source') {
      env.BERTH_FROM_SOURCE = '1';
      mode = 'sources via tsx (BERTH_FROM_SOURCE=1)';
    } else if (o.from === 'dist') {
      if (!distExists) throw new Error('--from dist: there is no dist/ (npm run build)');
      entry = o.probes.distRunner;
      mode = distFresh ? 'dist (dist/cli/main.js)' : 'dist (dist/cli/main.js) — OLDER than the sources, built before the latest edits';
    }
    if (o.nodeFlags.length) mode += `, node ${o.nodeFlags.join(' ')}`;
    const args = [
      ...o.nodeFlags, '--import', o.probes.memProbe, entry, 'serve', '--env', o.envUrl, '--env-token-env', 'BENCH_ENV_TOKEN', '--listen', '127.0.0.1:0',
      '--interval-seconds', String(o.intervalSeconds), '--cache-dir', path.join(o.probes.dir, `cache-${o.tag}`), '--deadline', '2m', ...(o.extraArgs ?? []),
    ];
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    liveServes.add(proc);
    proc.once('exit', () => liveServes.delete(proc));
    const s = new Serve(proc, env.BENCH_MEM_FILE!, mode, Boolean(o.heapSnapshot));
    let rest = '';
    await new Promise<void>((resolve, reject) => {
      proc.stderr!.on('data', (chunk: Buffer) => {
        rest += chunk.toString('utf8');
        const parts = rest.split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          o.verbose?.(`[serve ${o.tag}] ${line}`);
          let e: LogLine;
          try {
            e = JSON.parse(line) as LogLine;
          } catch {
            s.rawTail = (s.rawTail + line + '\n').slice(-4000);
            continue;
          }
          s.logs.push(e);
          if (!s.url && typeof e.address === 'string') {
            s.url = e.address;
            resolve();
          }
        }
      });
      proc.once('exit', (code, signal) => {
        if (!s.url) reject(new Error(`berth serve exited (${code ?? signal}) before listening:\n${s.rawTail}${s.logs.slice(-20).map((l) => JSON.stringify(l)).join('\n')}`));
      });
    });
    return s;
  }

  /** Sent with every request of json(): a signed-in console session's cookie, when serve has users. */
  headers: Record<string, string> = {};

  async json<T>(p: string): Promise<T> {
    const r = await fetch(`${this.url}${p}`, { headers: this.headers });
    if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  /** VmRSS, RssAnon and RssFile of the serve process, KiB, from /proc. */
  async rss(): Promise<{ rss: number; anon: number; file: number }> {
    const text = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  }

  /** User + system CPU time of the serve process so far, seconds (utime and stime of /proc/PID/stat). */
  async cpuSeconds(): Promise<number> {
    const fields = (await readFile(`/proc/${this.pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
    // After the command name: state is field 3, utime 14 and stime 15 (1-based), in clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** process.memoryUsage() inside the serve process (the preload answers SIGUSR2). */
  async memoryUsage(): Promise<MemUsage | undefined> {
    await rm(this.memFile, { force: true });
    this.proc.kill('SIGUSR2');
    for (let i = 0; i < (this.snapshots ? 600 : 40); i++) {
      await sleep(50);
      const text = await readFile(this.memFile, 'utf8').catch(() => '');
      if (text) return JSON.parse(text) as MemUsage;
    }
    return undefined;
  }

  /** Errors it logged (level ≥ 50), for the report. */
  errors(): string[] {
    return this.logs.filter((l) => Number(l.level) >= 50).map((l) => `${l.msg ?? ''}${l.err ? `: ${String(l.err)}` : ''}`);
  }

  /** SIGTERM and wait; SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  }
}

/** A node process that has done nothing: the floor under any node program on this machine (KiB). */
export async function bareNodeRss(): Promise<number> {
  const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['-e', "setTimeout(() => process.stdout.write(require('fs').readFileSync('/proc/self/status','utf8').match(/^VmRSS:\\s+(\\d+)/m)[1]), 200)"], (e, o) => (e ? reject(e) : resolve(o))));
  return Number(out);
}

export async function waitFor<T>(what: string, timeoutMs: number, intervalMs: number, fn: () => Promise<T | false | undefined>): Promise<T> {
  const t0 = performance.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await sleep(intervalMs);
  }
}

// ---------- report ----------

export const ms = (v: number) => `${v.toFixed(0)} ms`;
export const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
export const mibB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const mmm = (xs: number[], f: (v: number) => string) => `${f(Math.min(...xs))} / ${f(median(xs))} / ${f(Math.max(...xs))}`;

/** The heap spaces that hold at least 1 MiB, largest first: where the V8 heap's pages are. */
function spacesLine(spaces: Record<string, number> | undefined): string {
  if (!spaces) return '';
  const big = Object.entries(spaces).filter(([, b]) => b >= 1048576).sort((a, b) => b[1] - a[1]);
  return big.length ? ` [${big.map(([k, b]) => `${k.replace(/_space$/, '')} ${mibB(b)}`).join(', ')}]` : '';
}

export function usageLine(u: MemUsage | undefined): string {
  if (!u) return 'n/a (the probe did not answer)';
  const gc = u.afterGc ? `; after a full GC: heap used ${mibB(u.afterGc.heapUsed)} of ${mibB(u.afterGc.heapTotal)}, external ${mibB(u.afterGc.external)}, RSS ${mibB(u.afterGc.rss)}${spacesLine(u.afterGc.spaces)}` : '';
  return `heap used ${mibB(u.heapUsed)} of ${mibB(u.heapTotal)} (V8 physical ${mibB(u.heap.total_physical_size)}, malloced ${mibB(u.heap.malloced_memory)}${spacesLine(u.spaces)}), external ${mibB(u.external)} (array buffers ${mibB(u.arrayBuffers)})${gc}`;
}
