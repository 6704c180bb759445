/**
 * Benchmark, not a test: `berth serve` as operators run it, a child process syncing an environment repository
 * from a smart-HTTP git server (test/harness/git-server.ts, in this process) onto the default Docker engine.
 *
 *   node --import tsx bench/serve.ts [--repeats 5] [--stacks 50] [--idle-seconds 20] [--interval-seconds 10]
 *        [--order start-first|stop-first] [--from auto|dist|source] [--node-flags "--max-semi-space-size=1"]
 *        [--only webhook|memory] [--keep-temp] [--verbose]
 *   bash bench/run-serve.sh                # starts the default engine if needed, loads the images, runs this
 *
 * (1) Webhook to running: one stack, one service (berth-test/web:N, no healthcheck, stop_grace_period 1s,
 *     update_config.order start-first by default). Once serve has converged it at startup: commit and push
 *     web:1 → web:2 (git CLI, async), POST a signed GitHub push webhook, poll the engine every 50 ms until a
 *     container of the stack runs the new image. "Beyond container start" = (running observed − webhook sent)
 *     − (the container's own State.StartedAt − Created). Repeated, alternating 2 ↔ 1; min/median/max.
 * (2) Idle memory: N stacks (one busybox `sleep 3600` each, stop_grace_period 1s) on one host; serve with a
 *     short timer; wait until /api/stacks says every stack is Ready, stay idle (at least one timer pass), then
 *     read VmRSS of the serve process from /proc a few times; the figure is the largest read.
 *
 * Everything made on the engine is named berthserve-* and removed at the end (also on Ctrl-C); nothing else is
 * touched. Needs git on PATH and the default engine on /var/run/docker.sock; see bench/README.md.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { startGitServer, type GitServer } from '../test/harness/git-server.ts';
import { busyboxImage, ensureImages, webImage } from '../test/harness/images.ts';
import { buildState, loadLine, machine, runBench, say, secs, table, verdict } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOCKET = '/var/run/docker.sock';
/** Every object the benchmark makes starts with this: cleanup never touches anything else on the engine. */
const PREFIX = 'berthserve-';
const HOOK_STACK = `${PREFIX}hook`;
const idleStack = (i: number) => `${PREFIX}m${String(i).padStart(2, '0')}`;
const TOKEN = 'bench-serve-t0ken';
const GITHUB_SECRET = 'bench-serve-gh-secret';
const POLL_MS = 50;

const TARGET_BEYOND_START_S = 2;
const TARGET_IDLE_RSS_MIB = 100;

// ---------- options ----------

const { values: opts } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    stacks: { type: 'string', default: '50' },
    'idle-seconds': { type: 'string', default: '20' },
    'interval-seconds': { type: 'string', default: '10' },
    order: { type: 'string', default: 'start-first' },
    from: { type: 'string', default: 'auto' },
    'node-flags': { type: 'string', default: '' },
    'heap-snapshot': { type: 'string' },
    only: { type: 'string' },
    'keep-temp': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write('usage: node --import tsx bench/serve.ts [--repeats 5] [--stacks 50] [--idle-seconds 20] [--interval-seconds 10]\n' +
    '         [--order start-first|stop-first] [--from auto|dist|source] [--node-flags "--max-semi-space-size=1"]\n' +
    '         [--only webhook|memory] [--heap-snapshot PREFIX] [--keep-temp] [--verbose]\n');
  process.exit(0);
}
const REPEATS = Number(opts.repeats);
const STACKS = Number(opts.stacks);
const IDLE_S = Number(opts['idle-seconds']);
const INTERVAL_S = Number(opts['interval-seconds']);
for (const [flag, v, lo, hi] of [['--repeats', REPEATS, 1, 50], ['--stacks', STACKS, 1, 99], ['--idle-seconds', IDLE_S, 0, 600], ['--interval-seconds', INTERVAL_S, 1, 3600]] as const) {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${flag} must be a whole number in ${lo}..${hi}`);
}
if (opts.order !== 'start-first' && opts.order !== 'stop-first') throw new Error('--order is start-first or stop-first');
if (!['auto', 'dist', 'source'].includes(opts.from!)) throw new Error('--from is auto, dist or source');
if (opts.only !== undefined && opts.only !== 'webhook' && opts.only !== 'memory') throw new Error('--only is webhook or memory');
/** Extra flags for the node process running berth serve (V8 tuning experiments); none by default. */
const NODE_FLAGS = opts['node-flags']!.split(/\s+/).filter(Boolean);
const RUN_WEBHOOK = opts.only !== 'memory';
const RUN_MEMORY = opts.only !== 'webhook';

const verbose = (text: string) => opts.verbose && process.stderr.write(`${text}\n`);

// ---------- workspace: catalog, git server, environment repositories ----------

/** git with a config isolated from the machine's and the user's. */
const gitEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'berth-bench', GIT_AUTHOR_EMAIL: 'bench@localhost', GIT_COMMITTER_NAME: 'berth-bench', GIT_COMMITTER_EMAIL: 'bench@localhost',
});

/** The git CLI, asynchronously: the git server answering its HTTP requests lives in this process. */
function gitCli(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, env: gitEnv(), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

const catalogTemplates = (order: string): Record<string, { description: string; questions: string; compose: string }> => ({
  web: {
    description: 'One busybox web server (bench/serve.ts, webhook figure)',
    questions: "questions:\n  - variable: web_version\n    type: string\n    default: '1'\n",
    compose: `services:
  web:
    image: berth-test/web:{{web_version}}
    stop_grace_period: 1s
    deploy:
      update_config:
        order: ${order}
`,
  },
  sleeper: {
    description: 'One busybox sleep 3600 (bench/serve.ts, memory figure)',
    questions: 'questions: []\n',
    compose: `services:
  app:
    image: berth-test/busybox:1
    command: [sleep, "3600"]
    stop_grace_period: 1s
`,
  },
});

interface Workspace {
  dir: string;
  catalog: string;
  git: GitServer;
  /** Preload writing process.memoryUsage() of the serve process on SIGUSR2. */
  memProbe: string;
  /** Runs dist/cli/main.js directly (--from dist). */
  distRunner: string;
}

async function makeWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-serve-'));
  const catalog = path.join(dir, 'catalog');
  for (const [name, t] of Object.entries(catalogTemplates(opts.order!))) {
    const v = path.join(catalog, 'templates', name, '1.0.0');
    await mkdir(v, { recursive: true });
    await writeFile(path.join(catalog, 'templates', name, 'config.yml'), `name: ${name}\ndescription: ${t.description}\n`);
    await writeFile(path.join(v, 'berth.yml'), `version: 1.0.0\n${t.questions}`);
    await writeFile(path.join(v, 'docker-compose.yml.hbs'), t.compose);
  }
  const git = await startGitServer({ root: path.join(dir, 'git'), token: TOKEN });
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
  return { dir, catalog, git, memProbe, distRunner };
}

/** An environment repository on the git server and a work clone to commit and push from. */
class EnvRepo {
  readonly url: string;
  private constructor(readonly ws: Workspace, readonly name: string, readonly work: string) {
    this.url = ws.git.repoUrl(name);
  }

  static async create(ws: Workspace, name: string, stacks: Record<string, string>): Promise<EnvRepo> {
    ws.git.createBareRepo(name);
    const work = path.join(ws.dir, `work-${name}`);
    await mkdir(path.join(work, 'stacks'), { recursive: true });
    await gitCli(['init', '-q', '-b', 'main'], work);
    await gitCli(['remote', 'add', 'origin', ws.git.authedUrl(name)], work);
    const repo = new EnvRepo(ws, name, work);
    await writeFile(path.join(work, 'berth.yml'), `catalogs:\n  - name: bench\n    path: ${ws.catalog}\nhosts:\n  - name: local\n    endpoint: unix://${SOCKET}\n`);
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

  /** A push event as GitHub sends it, signed with the secret serve was given. */
  githubPush(after: string): { headers: Record<string, string>; body: string } {
    const body = JSON.stringify({
      ref: 'refs/heads/main', before: '0'.repeat(39) + '1', after, deleted: false,
      repository: { full_name: `bench/${this.name}`, clone_url: this.url, html_url: this.url.replace(/\.git$/, '') },
    });
    const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
    return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature } };
  }
}

const webStack = (version: number) => `template: web\nversion: 1.0.0\nanswers:\n  web_version: "${version}"\n`;
const sleeperStack = 'template: sleeper\nversion: 1.0.0\nanswers: {}\n';

// ---------- berth serve, a child process ----------

type LogLine = Record<string, unknown> & { time?: number; msg?: string };

interface StackState {
  stack: string;
  desiredCommit: string | null;
  status: string;
  reconciling: boolean;
  reason: string;
  lastError: string | null;
  lastReconcile: { why: string; outcome: string; durationMs: number; changes: string[] } | null;
}

const live = new Set<ChildProcess>();

class Serve {
  readonly logs: LogLine[] = [];
  private rawTail = '';
  private constructor(readonly proc: ChildProcess, readonly memFile: string, readonly mode: string) {}
  url = '';
  get pid(): number {
    return this.proc.pid!;
  }

  /** `berth serve` on a free loopback port; resolves once it logs its address (before it syncs anything). */
  static async start(ws: Workspace, repo: EnvRepo, intervalSeconds: number, tag: string): Promise<Serve> {
    const { distFresh, distExists } = buildState(ROOT);
    let entry = path.join(ROOT, 'bin', 'berth.js');
    let mode = distFresh ? 'dist (bin/berth.js)' : 'sources via tsx (bin/berth.js: dist/ is older than the sources)';
    const env: NodeJS.ProcessEnv = {
      ...process.env, BERTH_LOG_FORMAT: 'json', BERTH_LOG_LEVEL: 'info',
      BENCH_ENV_TOKEN: TOKEN, BERTH_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, BENCH_MEM_FILE: path.join(ws.dir, `mem-${tag}.json`),
    };
    // Each probe read (at listen, at idle) also writes PREFIX-<tag>-N.heapsnapshot, for Chrome DevTools' Memory tab.
    if (opts['heap-snapshot']) env.BENCH_HEAP_SNAPSHOT = `${path.resolve(opts['heap-snapshot'])}-${tag}`;
    for (const k of ['BERTH_ENV', 'BERTH_LISTEN', 'BERTH_INTERVAL', 'BERTH_INTERVAL_SECONDS', 'BERTH_CACHE_DIR', 'BERTH_GITLAB_WEBHOOK_SECRET', 'BERTH_CONCURRENCY', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'NODE_OPTIONS']) delete env[k];
    delete env.BERTH_FROM_SOURCE;
    if (opts.from === 'source') {
      env.BERTH_FROM_SOURCE = '1';
      mode = 'sources via tsx (BERTH_FROM_SOURCE=1)';
    } else if (opts.from === 'dist') {
      if (!distExists) throw new Error('--from dist: there is no dist/ (npm run build)');
      entry = ws.distRunner;
      mode = distFresh ? 'dist (dist/cli/main.js)' : 'dist (dist/cli/main.js) — OLDER than the sources, built before the latest edits';
    }
    if (NODE_FLAGS.length) mode += `, node ${NODE_FLAGS.join(' ')}`;
    const args = [
      ...NODE_FLAGS, '--import', ws.memProbe, entry, 'serve', '--env', repo.url, '--env-token-env', 'BENCH_ENV_TOKEN', '--listen', '127.0.0.1:0',
      '--interval-seconds', String(intervalSeconds), '--cache-dir', path.join(ws.dir, `cache-${tag}`), '--deadline', '2m',
    ];
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    const s = new Serve(proc, env.BENCH_MEM_FILE!, mode);
    let rest = '';
    await new Promise<void>((resolve, reject) => {
      proc.stderr!.on('data', (chunk: Buffer) => {
        rest += chunk.toString('utf8');
        const parts = rest.split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          verbose(`[serve ${tag}] ${line}`);
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

  async json<T>(p: string): Promise<T> {
    const r = await fetch(`${this.url}${p}`);
    if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  hook(req: { headers: Record<string, string>; body: string }): Promise<Response> {
    return fetch(`${this.url}/hooks/github`, { method: 'POST', headers: req.headers, body: req.body });
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
    for (let i = 0; i < (opts["heap-snapshot"] ? 600 : 40); i++) {
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

interface MemUsage {
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

// ---------- the engine ----------

const docker = new Docker({ socketPath: SOCKET });
const notFound = (e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : Promise.reject(e));

async function seen(): Promise<{ containers: Docker.ContainerInfo[]; networks: Docker.NetworkInspectInfo[] }> {
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters: JSON.stringify({ name: [PREFIX] }) }),
    docker.listNetworks({ filters: JSON.stringify({ name: [PREFIX] }) }),
  ]);
  const ours = (c: Docker.ContainerInfo) => (c.Labels?.['berth.stack'] ?? '').startsWith(PREFIX) || c.Names.some((n) => n.startsWith(`/${PREFIX}`));
  return { containers: containers.filter(ours), networks: networks.filter((n) => n.Name.startsWith(PREFIX)) };
}

/** Removes every container and network of the benchmark; nothing else. */
async function cleanup(): Promise<{ containers: number; networks: number }> {
  const s = await seen();
  await Promise.all(s.containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(notFound)));
  await Promise.all(s.networks.map((n) => docker.getNetwork(n.Id).remove().catch(notFound)));
  const left = await seen();
  if (left.containers.length || left.networks.length) throw new Error(`cleanup left ${left.containers.length} containers and ${left.networks.length} networks named ${PREFIX}*`);
  return { containers: s.containers.length, networks: s.networks.length };
}

/** Docker's RFC 3339 timestamps carry nanoseconds; Date.parse wants at most milliseconds. */
function engineMs(ts: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return Date.parse(ts);
  return Date.parse(`${m[1]}${m[3]}`) + (m[2] ? Number(`0${m[2]}`) * 1000 : 0);
}

const imageIds = new Map<string, string>();

/** Polls every POLL_MS until a container of the stack runs `image`. */
async function waitRunning(stack: string, image: string, t0: number, timeoutMs: number): Promise<{ atMs: number; id: string; polls: number }> {
  const id = imageIds.get(image);
  const filters = JSON.stringify({ label: [`berth.stack=${stack}`], status: ['running'] });
  for (let polls = 1; ; polls++) {
    const list = await docker.listContainers({ filters });
    const c = list.find((x) => x.State === 'running' && (x.Image === image || x.ImageID === id));
    if (c) return { atMs: performance.now() - t0, id: c.Id, polls };
    if (performance.now() - t0 > timeoutMs) throw new Error(`${stack}: no container running ${image} ${timeoutMs / 1000} s after the webhook`);
    await sleep(POLL_MS);
  }
}

async function waitFor<T>(what: string, timeoutMs: number, intervalMs: number, fn: () => Promise<T | false | undefined>): Promise<T> {
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

// ---------- (1) webhook to running ----------

interface HookRun {
  from: number;
  to: number;
  /** From sending the webhook (ms). */
  answeredMs: number;
  createdMs: number;
  runningMs: number;
  /** StartedAt − Created of the new container. */
  ownStartMs: number;
  beyondMs: number;
  polls: number;
  /** The whole reconcile, from /api/stacks (includes the ready wait and removing the old container). */
  reconcileMs: number;
  changes: string[];
  /** Log lines of the stack between the webhook and the container running, as offsets. */
  steps: string[];
}

async function settled(s: Serve, stack: string, commit: string, timeoutMs = 90_000): Promise<StackState> {
  const st = await waitFor(`${stack} to settle on ${commit.slice(0, 7)}`, timeoutMs, 100, async () => {
    const x = await s.json<StackState>(`/api/stacks/${stack}`);
    return x.desiredCommit === commit && x.status !== 'Reconciling' && !x.reconciling && x;
  });
  if (st.status !== 'Ready') throw new Error(`${stack} ended ${st.status} (${st.reason}): ${st.lastError}`);
  return st;
}

async function measureWebhook(ws: Workspace): Promise<{ runs: HookRun[]; startupMs: number; mode: string; rssKb: number }> {
  say(`(1) webhook → running: ${HOOK_STACK}, one service, ${REPEATS} pushes alternating web:2 ↔ web:1, update order ${opts.order} …`);
  const repo = await EnvRepo.create(ws, 'hook', { [HOOK_STACK]: webStack(1) });
  let head = (await gitCli(['rev-parse', 'HEAD'], repo.work)).trim();
  const t0 = performance.now();
  const s = await Serve.start(ws, repo, 3600, 'hook');
  try {
    await waitRunning(HOOK_STACK, 'berth-test/web:1', performance.now(), 120_000);
    await settled(s, HOOK_STACK, head, 120_000);
    const startupMs = performance.now() - t0;
    verbose(`startup converge ${startupMs.toFixed(0)} ms`);
    const runs: HookRun[] = [];
    let version = 1;
    for (let i = 0; i < REPEATS; i++) {
      const to = version === 1 ? 2 : 1;
      head = await repo.commit({ [HOOK_STACK]: webStack(to) }, `web:${version} → web:${to}`);
      await sleep(500); // nothing in flight: the push is done, serve is idle
      const hook = repo.githubPush(head);
      const logFrom = s.logs.length;
      const sentEpoch = Date.now();
      const sent = performance.now();
      const answered = s.hook(hook).then(async (r) => {
        const at = performance.now() - sent;
        if (r.status !== 202) throw new Error(`webhook answered ${r.status}: ${await r.text()}`);
        const body = (await r.json()) as { accepted?: boolean; ignored?: string };
        if (!body.accepted) throw new Error(`webhook not accepted: ${JSON.stringify(body)}`);
        return at;
      });
      const seenRunning = waitRunning(HOOK_STACK, `berth-test/web:${to}`, sent, 60_000);
      const [answeredMs, running] = await Promise.all([answered, seenRunning]);
      const info = await docker.getContainer(running.id).inspect();
      const created = engineMs(info.Created);
      const started = engineMs(info.State.StartedAt);
      const ownStartMs = started - created;
      const st = await settled(s, HOOK_STACK, head);
      const steps = s.logs.slice(logFrom)
        .filter((l) => typeof l.time === 'number' && (l.stack === HOOK_STACK || /webhook/.test(String(l.msg))))
        .map((l) => `+${((l.time as number) - sentEpoch).toString().padStart(5)} ms ${l.msg}`);
      const run: HookRun = {
        from: version, to, answeredMs, createdMs: created - sentEpoch, runningMs: running.atMs, ownStartMs,
        beyondMs: running.atMs - ownStartMs, polls: running.polls, reconcileMs: st.lastReconcile?.durationMs ?? NaN,
        changes: st.lastReconcile?.changes ?? [], steps,
      };
      runs.push(run);
      say(`  #${i + 1} web:${version} → web:${to}: running after ${secs(run.runningMs / 1000)} (container's own start ${ms(run.ownStartMs)}, beyond it ${secs(run.beyondMs / 1000)}); reconcile ${secs(run.reconcileMs / 1000)}`);
      for (const line of steps) verbose(`      ${line}`);
      version = to;
    }
    const rss = await s.rss();
    return { runs, startupMs, mode: s.mode, rssKb: rss.rss };
  } finally {
    await s.stop();
    const errs = s.errors();
    if (errs.length) say(`  serve logged ${errs.length} errors: ${errs.slice(0, 3).join(' | ')}`);
  }
}

// ---------- (2) idle memory ----------

interface MemoryResult {
  mode: string;
  atListenKb: { rss: number; anon: number; file: number };
  usageAtListen?: MemUsage;
  convergeS: number;
  deployPeakKb: number;
  idlePeakKb: number;
  /** CPU time the serve process used over the idle window, as a share of one core. */
  idleCpu: number;
  finalReadsKb: number[];
  final: { rss: number; anon: number; file: number };
  usageIdle?: MemUsage;
  timerPasses: number;
  reconcileTotals: Record<string, number>;
  bareNodeKb: number;
}

async function bareNodeRss(): Promise<number> {
  // A node process that has done nothing: the floor under any node program on this machine.
  const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['-e', "setTimeout(() => process.stdout.write(require('fs').readFileSync('/proc/self/status','utf8').match(/^VmRSS:\\s+(\\d+)/m)[1]), 200)"], (e, o) => (e ? reject(e) : resolve(o))));
  return Number(out);
}

async function measureMemory(ws: Workspace): Promise<MemoryResult> {
  say(`(2) idle memory: ${STACKS} stacks × 1 service on one host, timer every ${INTERVAL_S} s, ${IDLE_S} s idle …`);
  const stacks = Object.fromEntries(Array.from({ length: STACKS }, (_, k) => [idleStack(k + 1), sleeperStack]));
  const repo = await EnvRepo.create(ws, 'idle', stacks);
  const head = (await gitCli(['rev-parse', 'HEAD'], repo.work)).trim();
  const bareNodeKb = await bareNodeRss();
  const t0 = performance.now();
  const s = await Serve.start(ws, repo, INTERVAL_S, 'idle');
  try {
    const atListenKb = await s.rss();
    const usageAtListen = await s.memoryUsage();
    let deployPeakKb = atListenKb.rss;
    await waitFor(`all ${STACKS} stacks Ready`, 240_000, 500, async () => {
      deployPeakKb = Math.max(deployPeakKb, (await s.rss()).rss);
      const list = await s.json<StackState[]>('/api/stacks');
      const ready = list.filter((x) => x.stack.startsWith(PREFIX) && x.desiredCommit === head && x.status === 'Ready' && !x.reconciling);
      const bad = list.filter((x) => x.status === 'Failed' || x.status === 'Stalled');
      if (bad.length) throw new Error(`${bad.length} stacks ${bad[0].status}: ${bad[0].stack} ${bad[0].reason} ${bad[0].lastError}`);
      return list.length === STACKS && ready.length === STACKS;
    });
    const convergeS = (performance.now() - t0) / 1000;
    const running = (await seen()).containers.filter((c) => c.State === 'running').length;
    if (running !== STACKS) throw new Error(`expected ${STACKS} running containers, found ${running}`);
    say(`  all ${STACKS} stacks Ready ${secs(convergeS)} after spawn; idle for ${IDLE_S} s …`);
    let idlePeakKb = 0;
    const cpu0 = await s.cpuSeconds();
    const idle0 = performance.now();
    const idleEnd = performance.now() + IDLE_S * 1000;
    while (performance.now() < idleEnd) {
      idlePeakKb = Math.max(idlePeakKb, (await s.rss()).rss);
      await sleep(1000);
    }
    const finalReadsKb: number[] = [];
    let final = await s.rss();
    for (let i = 0; i < 5; i++) {
      if (i) await sleep(1000);
      final = await s.rss();
      finalReadsKb.push(final.rss);
    }
    idlePeakKb = Math.max(idlePeakKb, ...finalReadsKb);
    const idleCpu = (await s.cpuSeconds() - cpu0) / ((performance.now() - idle0) / 1000);
    const usageIdle = await s.memoryUsage();
    const list = await s.json<StackState[]>('/api/stacks');
    const timerPasses = list.filter((x) => /timer/.test(x.lastReconcile?.why ?? '')).length;
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const reconcileTotals: Record<string, number> = {};
    for (const m of metrics.matchAll(/^berth_reconcile_total\{[^}]*outcome="(\w+)"[^}]*\} (\d+)/gm)) reconcileTotals[m[1]] = (reconcileTotals[m[1]] ?? 0) + Number(m[2]);
    return { mode: s.mode, atListenKb, usageAtListen, convergeS, deployPeakKb, idlePeakKb, idleCpu, finalReadsKb, final, usageIdle, timerPasses, reconcileTotals, bareNodeKb };
  } finally {
    await s.stop();
    const errs = s.errors();
    if (errs.length) say(`  serve logged ${errs.length} errors: ${errs.slice(0, 3).join(' | ')}`);
  }
}

// ---------- report ----------

const ms = (v: number) => `${v.toFixed(0)} ms`;
const mib = (kb: number) => `${(kb / 1024).toFixed(1)} MiB`;
const mibB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const mmm = (xs: number[], f: (v: number) => string) => `${f(Math.min(...xs))} / ${f(median(xs))} / ${f(Math.max(...xs))}`;

/** The heap spaces that hold at least 1 MiB, largest first: where the V8 heap's pages are. */
function spacesLine(spaces: Record<string, number> | undefined): string {
  if (!spaces) return '';
  const big = Object.entries(spaces).filter(([, b]) => b >= 1048576).sort((a, b) => b[1] - a[1]);
  return big.length ? ` [${big.map(([k, b]) => `${k.replace(/_space$/, '')} ${mibB(b)}`).join(', ')}]` : '';
}

function usageLine(u: MemUsage | undefined): string {
  if (!u) return 'n/a (the probe did not answer)';
  const gc = u.afterGc ? `; after a full GC: heap used ${mibB(u.afterGc.heapUsed)} of ${mibB(u.afterGc.heapTotal)}, external ${mibB(u.afterGc.external)}, RSS ${mibB(u.afterGc.rss)}${spacesLine(u.afterGc.spaces)}` : '';
  return `heap used ${mibB(u.heapUsed)} of ${mibB(u.heapTotal)} (V8 physical ${mibB(u.heap.total_physical_size)}, malloced ${mibB(u.heap.malloced_memory)}${spacesLine(u.spaces)}), external ${mibB(u.external)} (array buffers ${mibB(u.arrayBuffers)})${gc}`;
}

function report(hook: Awaited<ReturnType<typeof measureWebhook>> | undefined, mem: MemoryResult | undefined, engineVersion: string): void {
  say();
  say(`berth serve on Docker ${engineVersion} (default engine), ${machine()}`);
  const modes = [...new Set([hook?.mode, mem?.mode].filter(Boolean))];
  say(`berth ran from: ${modes.join('; ')}`);
  say(loadLine(loadAtStart));
  say();
  const rows: string[][] = [['figure', 'min / median / max', 'target', 'result']];
  if (hook) {
    const b = hook.runs.map((r) => r.beyondMs / 1000);
    rows.push([`webhook → web:N running, beyond container start (${hook.runs.length} runs)`, mmm(b, secs), `median < ${TARGET_BEYOND_START_S} s`, verdict(median(b) < TARGET_BEYOND_START_S)]);
    rows.push(['webhook → web:N running, total', mmm(hook.runs.map((r) => r.runningMs / 1000), secs), '', '']);
  }
  if (mem) {
    rows.push([`idle RSS, ${STACKS} stacks Ready, timer ${INTERVAL_S} s (max of ${mem.finalReadsKb.length} reads)`, mmm(mem.finalReadsKb, mib), `max < ${TARGET_IDLE_RSS_MIB} MiB`, verdict(Math.max(...mem.finalReadsKb) / 1024 < TARGET_IDLE_RSS_MIB)]);
    rows.push(['RSS right after start (listening, nothing synced)', mib(mem.atListenKb.rss), '', '']);
  }
  say(table(rows));
  if (hook) {
    say();
    say(`webhook runs (ms after the webhook was sent; created/started are the engine's timestamps, same clock; order ${opts.order}):`);
    say(table([
      ['run', '202 answer', 'created', 'own start', 'seen running', 'beyond start', 'whole reconcile'],
      ...hook.runs.map((r, i) => [`#${i + 1} web:${r.from}→${r.to}`, ms(r.answeredMs), ms(r.createdMs), ms(r.ownStartMs), ms(r.runningMs), ms(r.beyondMs), ms(r.reconcileMs)]),
    ]));
    const pre = hook.runs.map((r) => r.createdMs);
    const lag = hook.runs.map((r) => r.runningMs - r.createdMs - r.ownStartMs);
    say(`  before the container exists (webhook, fetch, load, render, plan${opts.order === 'stop-first' ? ', stop + remove the old container' : ''}): ${mmm(pre, ms)}; started → seen running (start call return + poll every ${POLL_MS} ms): ${mmm(lag, ms)}`);
    say(`  whole reconcile also waits until the new container has run 2 s (no healthcheck), then ${opts.order === 'start-first' ? 'stops the old one (1 s grace: busybox httpd ignores SIGTERM)' : 'is done'}; changes: ${hook.runs[0].changes.join('; ')}`);
    say(`  startup converge of the stack (spawn → Ready): ${secs(hook.startupMs / 1000)}; serve RSS after the runs ${mib(hook.rssKb)}`);
  }
  if (mem) {
    say();
    say(`memory of the serve process (${STACKS} stacks):`);
    say(`  a bare node process (node -e): ${mib(mem.bareNodeKb)}`);
    say(`  listening, before syncing anything: ${mib(mem.atListenKb.rss)} (anonymous ${mib(mem.atListenKb.anon)}, file-backed ${mib(mem.atListenKb.file)}); ${usageLine(mem.usageAtListen)}`);
    say(`  deploying ${STACKS} stacks (spawn → all Ready ${secs(mem.convergeS)}): peak ${mib(mem.deployPeakKb)}`);
    say(`  idle, ${IDLE_S} s + ${mem.finalReadsKb.length} reads: ${mem.finalReadsKb.map((k) => (k / 1024).toFixed(1)).join(', ')} MiB, peak over the idle window ${mib(mem.idlePeakKb)}; at the last read anonymous ${mib(mem.final.anon)}, file-backed ${mib(mem.final.file)}`);
    say(`  idle, inside: ${usageLine(mem.usageIdle)}`);
    say(`  CPU over the idle window (timer passes included): ${(mem.idleCpu * 100).toFixed(1)}% of one core`);
    const totals = Object.entries(mem.reconcileTotals).map(([k, v]) => `${k} ${v}`).join(', ');
    say(`  timer passes: ${mem.timerPasses}/${STACKS} stacks last reconciled by the timer; berth_reconcile_total: ${totals}`);
    if (mem.timerPasses < STACKS) say(`  NOTE: not every stack saw a timer reconcile during the idle window (raise --idle-seconds or lower --interval-seconds)`);
  }
}

const loadAtStart = os.loadavg()[0];

// ---------- main ----------

let ws: Workspace | undefined;

let finishing: Promise<void> | undefined;
/** Once, whether main ends or Ctrl-C comes first: kill serve, remove what the benchmark made. */
const finish = (): Promise<void> => (finishing ??= finishOnce());

async function finishOnce(): Promise<void> {
  for (const p of live) p.kill('SIGKILL');
  const c = await cleanup();
  await ws?.git.close();
  if (ws && !opts['keep-temp']) await rm(ws.dir, { recursive: true, force: true });
  say(`cleaned up: ${c.containers} containers, ${c.networks} networks${ws ? (opts['keep-temp'] ? `; kept ${ws.dir}` : `, ${ws.dir}`) : ''}`);
}

async function main(): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(`no Docker engine on ${SOCKET} (${(e as Error).message}); start it with: bash test/harness/hosts.sh start-default`);
  }
  await ensureImages(docker, [webImage(1), webImage(2), busyboxImage()]);
  for (const tag of ['berth-test/web:1', 'berth-test/web:2']) imageIds.set(tag, (await docker.getImage(tag).inspect()).Id);
  const engineVersion = (await docker.version()).Version;
  const removed = await cleanup();
  if (removed.containers || removed.networks) say(`removed leftovers of an earlier run: ${removed.containers} containers, ${removed.networks} networks`);
  ws = await makeWorkspace();
  let hook: Awaited<ReturnType<typeof measureWebhook>> | undefined;
  let mem: MemoryResult | undefined;
  try {
    if (RUN_WEBHOOK) {
      hook = await measureWebhook(ws);
      await cleanup();
    }
    if (RUN_MEMORY) mem = await measureMemory(ws);
    report(hook, mem, engineVersion);
  } finally {
    await finish();
  }
}

runBench(main, finish);
