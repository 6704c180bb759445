/**
 * Benchmark, not a test: Berth's `apply` beside `docker stack deploy` (the docker CLI) on the three-node test
 * Swarm (test/harness/swarm.sh).
 *
 *   node --import tsx bench/swarm.ts [--stacks 10] [--services 5] [--order docker-first|berth-first] [--docker PATH] [--keep-temp]
 *   bash bench/run-swarm.sh                 # starts the test Swarm if needed, then runs this
 *
 * Workload: N stacks × M services (web1..webM, berth-test/web:1 = busybox httpd, SITE differing per service,
 * stop_grace_period 1s, endpoint_mode dnsrr — the kernel here has no IPVS — one replica, the stack's default
 * overlay network). Berth: one `berth apply --env DIR` process for every stack (the environment names the Swarm
 * under `swarms:`, each stack file says `swarm:`). docker: the same services as N compose files and N sequential
 * `docker stack deploy --resolve-image never -c FILE NAME` processes (no registry here), timed together. Each tool:
 * (a) fresh deploy, nothing of the benchmark present; (b) the same again with nothing changed, counting the
 * services whose version index moved (a service update) and the tasks replaced. Whole processes, wall time, one
 * run each. Everything made is removed at the end, on every node.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type Docker from 'dockerode';
import { webImage } from '../test/harness/images.ts';
import { testSwarm, type TestSwarm } from '../test/harness/swarm.ts';
import { buildState, loadLine, machine, runBench, say, secs, table, verdict } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const IMAGE = 'berth-test/web:1';
/** Every stack the benchmark makes starts with this: cleanup never touches anything else on the Swarm. */
const PREFIX = 'bswbench-';
const DOCKER_PREFIX = `${PREFIX}d`;
const BERTH_PREFIX = `${PREFIX}b`;
const NAMESPACE = 'com.docker.stack.namespace';
const PROCESS_TIMEOUT_MS = 10 * 60_000;
const RUNNING_TIMEOUT_MS = 10 * 60_000;
const PAUSE_MS = 2_000;
const TARGET_NOCHANGE_RATIO = 10;
const SERVE_INTERVAL_S = 3;
const SERVE_PASSES = 3;
const TARGET_FRESH_RATIO = 1;

const { values: opts } = parseArgs({
  options: {
    stacks: { type: 'string', default: '10' },
    services: { type: 'string', default: '5' },
    order: { type: 'string', default: 'docker-first' },
    docker: { type: 'string' },
    'keep-temp': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  say('usage: node --import tsx bench/swarm.ts [--stacks 10] [--services 5] [--order docker-first|berth-first] [--docker PATH] [--keep-temp]');
  process.exit(0);
}
const STACKS = Number(opts.stacks);
const SERVICES = Number(opts.services);
if (!Number.isInteger(STACKS) || STACKS < 1 || STACKS > 99 || !Number.isInteger(SERVICES) || SERVICES < 1 || SERVICES > 20) {
  throw new Error('--stacks must be 1..99 and --services 1..20');
}
if (opts.order !== 'docker-first' && opts.order !== 'berth-first') throw new Error('--order is docker-first or berth-first');
/** The peer: the docker CLI given, else the one in /usr/local/bin (a current release), else Debian's on PATH. */
const DOCKER_CLI = opts.docker ?? (existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : '/usr/bin/docker');

const pad2 = (n: number) => String(n).padStart(2, '0');
const dockerStack = (i: number) => `${DOCKER_PREFIX}${pad2(i)}`;
const berthStack = (i: number) => `${BERTH_PREFIX}${pad2(i)}`;
const indexes = Array.from({ length: STACKS }, (_, k) => k + 1);
const TOTAL = STACKS * SERVICES;

// ---------- the workload, for each tool ----------

const CATALOG_VERSION = `version: 1.0.0
questions:
  - variable: site
    type: string
    required: true
`;
/** The same fields as composeFile() writes. */
const CATALOG_TEMPLATE = `services:
{{#each (range 1 ${SERVICES})}}
  web{{this}}:
    image: ${IMAGE}
    environment:
      SITE: {{../site}}-{{this}}
    stop_grace_period: 1s
    deploy:
      endpoint_mode: dnsrr
{{/each}}
`;

function composeFile(stack: number): string {
  const lines = ['version: "3.8"', 'services:'];
  for (let s = 1; s <= SERVICES; s++) {
    lines.push(`  web${s}:`, `    image: ${IMAGE}`, '    environment:', `      SITE: s${pad2(stack)}-${s}`, '    stop_grace_period: 1s', '    deploy:', '      endpoint_mode: dnsrr');
  }
  return `${lines.join('\n')}\n`;
}

interface Workspace { dir: string; envDir: string; composeFiles: string[] }

async function makeWorkspace(manager: string): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-swarm-'));
  const version = path.join(dir, 'catalog', 'templates', 'bench', '1.0.0');
  await mkdir(version, { recursive: true });
  await writeFile(path.join(dir, 'catalog', 'templates', 'bench', 'config.yml'), `name: bench\ndescription: ${SERVICES} busybox web servers on a Swarm (bench/swarm.ts)\n`);
  await writeFile(path.join(version, 'berth.yml'), CATALOG_VERSION);
  await writeFile(path.join(version, 'docker-compose.yml.hbs'), CATALOG_TEMPLATE);
  const envDir = path.join(dir, 'env');
  await mkdir(path.join(envDir, 'stacks'), { recursive: true });
  await writeFile(path.join(envDir, 'berth.yml'), `catalogs:\n  - name: bench\n    path: ../catalog\nswarms:\n  - name: bench\n    managers: [${manager}]\n`);
  await mkdir(path.join(dir, 'compose'));
  const composeFiles: string[] = [];
  for (const i of indexes) {
    await writeFile(path.join(envDir, 'stacks', `${berthStack(i)}.yml`), `template: bench\nversion: 1.0.0\nswarm: bench\nanswers:\n  site: s${pad2(i)}\n`);
    const f = path.join(dir, 'compose', `${dockerStack(i)}.yml`);
    await writeFile(f, composeFile(i));
    composeFiles.push(f);
  }
  return { dir, envDir, composeFiles };
}

// ---------- processes ----------

interface ProcRun { wallS: number; code: number | null; out: string }

/** One whole process, timed from spawn to exit; stdout and stderr together. */
async function timed(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcRun> {
  const t0 = performance.now();
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => out.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  clearTimeout(timer);
  const r = { wallS: (performance.now() - t0) / 1000, code, out: Buffer.concat(out).toString() };
  if (code !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')} exited with ${code}\n${r.out.slice(-4000)}`);
  return r;
}

function childEnv(manager: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: manager };
  for (const k of ['BERTH_ENV', 'BERTH_CATALOG', 'BERTH_LOG_LEVEL', 'BERTH_LOG_FORMAT', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
  return env;
}

// ---------- the Swarm ----------

let swarm: TestSwarm;
let serving: ReturnType<typeof spawn> | undefined;
const manager = () => swarm.nodes[0].docker;
/** Everything of any stack; the benchmark's own are told by their stack name. */
const STACK_LABELLED = JSON.stringify({ label: [NAMESPACE] });
const stackOf = (labels: Record<string, string> | undefined) => labels?.[NAMESPACE] ?? '';

async function services(prefix: string): Promise<Docker.Service[]> {
  return (await manager().listServices({ filters: STACK_LABELLED })).filter((s) => stackOf(s.Spec?.Labels).startsWith(prefix));
}

/** Service name → version index, and the IDs of the tasks meant to run. */
async function snapshot(prefix: string): Promise<{ versions: Map<string, number>; tasks: Set<string> }> {
  const list = await services(prefix);
  const ids = new Set(list.map((s) => s.ID));
  const tasks = (await manager().listTasks({ filters: JSON.stringify({ 'desired-state': ['running'] }) })) as { ID: string; ServiceID: string }[];
  return { versions: new Map(list.map((s) => [s.Spec!.Name!, s.Version!.Index!])), tasks: new Set(tasks.filter((t) => ids.has(t.ServiceID)).map((t) => t.ID)) };
}

/** How many of the tasks meant to run do run. */
async function runningTasks(prefix: string): Promise<number> {
  const ids = new Set((await services(prefix)).map((s) => s.ID));
  const tasks = (await manager().listTasks({ filters: JSON.stringify({ 'desired-state': ['running'] }) })) as { ServiceID: string; Status?: { State?: string } }[];
  return tasks.filter((t) => ids.has(t.ServiceID) && t.Status?.State === 'running').length;
}

/**
 * Seconds from `t0` until every task of the prefix runs, polling the manager every 100 ms — from the moment the
 * tool starts, the same way for both, whether or not the tool itself waits.
 */
async function untilRunning(prefix: string, t0: number): Promise<number> {
  const until = Date.now() + RUNNING_TIMEOUT_MS;
  for (;;) {
    if ((await runningTasks(prefix)) === TOTAL) return (performance.now() - t0) / 1000;
    if (Date.now() > until) throw new Error(`${prefix}*: not every one of ${TOTAL} tasks ran within ${RUNNING_TIMEOUT_MS / 1000}s`);
    await sleep(100);
  }
}

/** What each service runs, keyed by stack number and service, without the tool's naming: both tools must match. */
async function signature(prefix: string): Promise<Map<string, string>> {
  const sig = new Map<string, string>();
  for (const s of await services(prefix)) {
    const spec = s.Spec!;
    const task = spec.TaskTemplate as { ContainerSpec?: { Image?: string; Env?: string[]; StopGracePeriod?: number }; Networks?: unknown[]; RestartPolicy?: { Condition?: string } };
    sig.set(spec.Name!.slice(prefix.length), JSON.stringify({
      image: task.ContainerSpec?.Image, env: [...(task.ContainerSpec?.Env ?? [])].sort(), replicas: spec.Mode?.Replicated?.Replicas,
      endpoint: spec.EndpointSpec?.Mode, grace: task.ContainerSpec?.StopGracePeriod, networks: task.Networks?.length ?? 0, restart: task.RestartPolicy?.Condition ?? 'any',
    }));
  }
  return sig;
}

function differences(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: docker ${a.get(k) ?? '(none)'} vs berth ${b.get(k) ?? '(none)'}`);
}

/**
 * Removes every stack of the benchmark (both tools) — services, then, once their containers are gone on every
 * node, networks — and nothing else.
 */
async function cleanup(): Promise<number> {
  const list = await services(PREFIX);
  await Promise.all(list.map((s) => manager().getService(s.ID).remove().catch(() => undefined)));
  for (const node of swarm.nodes) {
    for (let i = 0; i < 120; i++) {
      const left = (await node.docker.listContainers({ all: true, filters: STACK_LABELLED })).filter((c) => stackOf(c.Labels).startsWith(PREFIX));
      if (!left.length) break;
      await sleep(500);
    }
  }
  for (let i = 0; i < 20; i++) {
    const nets = (await manager().listNetworks({ filters: STACK_LABELLED })).filter((n) => stackOf(n.Labels).startsWith(PREFIX));
    if (!nets.length) break;
    await Promise.all(nets.map((n) => manager().getNetwork(n.Id).remove().catch(() => undefined)));
    await sleep(500);
  }
  const left = await services(PREFIX);
  if (left.length) throw new Error(`cleanup left ${left.length} services of stacks named ${PREFIX}*`);
  return list.length;
}

// ---------- the two tools ----------

interface Fresh { commandS: number; runningS: number }
interface Same { wallS: number; updates: number; replaced: number }
interface ToolResult { fresh: Fresh; same: Same; serve?: ServeResult }

/** A no-change run: its time, the services whose version index moved, the tasks replaced. */
async function noChange(prefix: string, run: () => Promise<number>): Promise<Same> {
  const before = await snapshot(prefix);
  await sleep(PAUSE_MS);
  const wallS = await run();
  const after = await snapshot(prefix);
  const updates = [...before.versions].filter(([name, v]) => after.versions.get(name) !== v).length;
  const replaced = [...before.tasks].filter((t) => !after.tasks.has(t)).length;
  return { wallS, updates, replaced };
}

async function dockerDeploy(ws: Workspace, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  for (const i of indexes) await timed(DOCKER_CLI, ['stack', 'deploy', '--resolve-image', 'never', '-c', ws.composeFiles[i - 1], dockerStack(i)], env);
  return (performance.now() - t0) / 1000;
}

async function measureDocker(ws: Workspace, env: NodeJS.ProcessEnv): Promise<ToolResult> {
  say(`docker stack deploy: (a) fresh deploy of ${STACKS} stacks …`);
  const t0 = performance.now();
  const running = untilRunning(DOCKER_PREFIX, t0);
  const commandS = await dockerDeploy(ws, env);
  const runningS = await running;
  say('docker stack deploy: (b) the same again, nothing changed …');
  const same = await noChange(DOCKER_PREFIX, () => dockerDeploy(ws, env));
  return { fresh: { commandS, runningS }, same };
}

/** The stack outcomes berth apply printed: `stack NAME (bench@1.0.0): converged in 3.1s`. */
function outcomes(out: string): string[] {
  return [...out.matchAll(/^stack (\S+) \([^)]*\): (\w+)/gm)].map((m) => m[2]);
}

async function berthApply(ws: Workspace, env: NodeJS.ProcessEnv, expect: string): Promise<number> {
  const r = await timed(process.execPath, [path.join(ROOT, 'bin', 'berth.js'), 'apply', '--env', ws.envDir], env);
  const got = outcomes(r.out);
  if (got.length !== STACKS || got.some((o) => o !== expect)) throw new Error(`berth apply: expected every stack ${expect}, got ${got.join(', ') || 'nothing'}\n${r.out.slice(-4000)}`);
  return r.wallS;
}

async function measureBerth(ws: Workspace, env: NodeJS.ProcessEnv): Promise<ToolResult> {
  say(`berth: (a) fresh deploy of ${STACKS} stacks, one apply …`);
  const t0 = performance.now();
  const running = untilRunning(BERTH_PREFIX, t0);
  const commandS = await berthApply(ws, env, 'converged');
  const runningS = await running;
  say('berth: (b) the same again, nothing changed …');
  const same = await noChange(BERTH_PREFIX, () => berthApply(ws, env, 'unchanged'));
  return { fresh: { commandS, runningS }, same, serve: await measureServe(ws, env) };
}

// ---------- serve: its timer passes over the converged stacks ----------

interface StackApi { stack: string; status: string; lastReconcile: { why: string; outcome: string; at: string; durationMs: number } | null }

/** `berth serve` on a free loopback port; resolves with its URL once it logs its address. */
async function startServe(ws: Workspace, env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => Promise<void> }> {
  const args = [path.join(ROOT, 'bin', 'berth.js'), 'serve', '--env', ws.envDir, '--listen', '127.0.0.1:0', '--interval-seconds', String(SERVE_INTERVAL_S), '--cache-dir', path.join(ws.dir, 'cache')];
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...env, BERTH_LOG_FORMAT: 'json' }, stdio: ['ignore', 'ignore', 'pipe'] });
  serving = proc;
  let tail = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-8000);
      const m = /"address":"(http:[^"]+)"/.exec(tail);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`berth serve exited (${code}) before listening:\n${tail}`)));
  });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  return { url, stop };
}

/**
 * The next timer pass over every stack after `since` (ms since the epoch), once each stack's last reconcile is
 * that pass's: from the first stack's start to the last one's end, and the outcomes.
 */
async function nextPass(url: string, since: number): Promise<{ spanS: number; outcomes: string[]; end: number }> {
  const until = Date.now() + RUNNING_TIMEOUT_MS;
  for (;;) {
    const stacks = (await (await fetch(`${url}/api/stacks`)).json()) as StackApi[];
    const mine = stacks.filter((s) => s.stack.startsWith(BERTH_PREFIX));
    const runs = mine.map((s) => s.lastReconcile).filter((r) => r && r.why === 'timer' && Date.parse(r.at) > since);
    if (mine.length === STACKS && runs.length === STACKS) {
      const start = Math.min(...runs.map((r) => Date.parse(r!.at)));
      const end = Math.max(...runs.map((r) => Date.parse(r!.at) + r!.durationMs));
      return { spanS: (end - start) / 1000, outcomes: runs.map((r) => r!.outcome), end };
    }
    if (Date.now() > until) throw new Error(`berth serve: no timer pass over every stack within ${RUNNING_TIMEOUT_MS / 1000}s: ${JSON.stringify(mine)}`);
    await sleep(200);
  }
}

interface ServeResult { passesS: number[]; updates: number; replaced: number }

/** Serve over the stacks berth apply converged: SERVE_PASSES timer passes, none of which may change anything. */
async function measureServe(ws: Workspace, env: NodeJS.ProcessEnv): Promise<ServeResult> {
  say(`berth serve: ${SERVE_PASSES} timer passes (every ${SERVE_INTERVAL_S} s) over the ${STACKS} converged stacks …`);
  const passesS: number[] = [];
  const same = await noChange(BERTH_PREFIX, async () => {
    const serve = await startServe(ws, env);
    try {
      // The start-up pass reads everything afresh; the timer passes after it are the steady state measured.
      let since = Date.now();
      for (let i = 0; i < SERVE_PASSES; i++) {
        const pass = await nextPass(serve.url, since);
        if (pass.outcomes.some((o) => o !== 'unchanged')) throw new Error(`berth serve: a timer pass over unchanged stacks reported ${pass.outcomes.join(', ')}`);
        passesS.push(pass.spanS);
        since = pass.end;
      }
    } finally {
      await serve.stop();
    }
    return 0;
  });
  return { passesS, updates: same.updates, replaced: same.replaced };
}

// ---------- report ----------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function report(d: ToolResult, b: ToolResult, floorS: number, engine: string, cli: string, diffs: string[]): void {
  const { distFresh } = buildState(ROOT);
  const serve = b.serve!;
  const rf = d.fresh.runningS / b.fresh.runningS;
  const rs = d.same.wallS / b.same.wallS;
  const pass = median(serve.passesS);
  const rp = d.same.wallS / pass;
  say();
  say(`Berth (${distFresh ? 'dist' : 'sources via tsx'}) vs docker CLI ${cli} on Docker ${engine}, the test Swarm (${swarm.nodes.length} nodes, one manager), ${machine()}`);
  say(`workload: ${STACKS} stacks × ${SERVICES} services (${IMAGE}, 1 replica, endpoint_mode dnsrr, no ports, no healthcheck, 1 overlay network per stack); one run each, wall time of whole processes; order: ${opts.order}`);
  say(`docker: ${STACKS} sequential \`docker stack deploy --resolve-image never -c FILE NAME\` (detached: it returns once the services are made); berth: one \`berth apply --env DIR\` (returns once every task runs); "every task running" is seen by the benchmark, polling the manager every 100 ms from the start, alike for both`);
  say(loadLine(loadAtStart, true));
  say();
  say(table([
    ['scenario', 'docker stack deploy', 'berth', 'docker/berth', 'target', 'result'],
    [`(a) fresh deploy, ${STACKS}×${SERVICES}: every task running`, secs(d.fresh.runningS), secs(b.fresh.runningS), `${rf.toFixed(2)}×`, `≥ ${TARGET_FRESH_RATIO}× (no slower)`, verdict(rf >= TARGET_FRESH_RATIO)],
    ['    the command itself returned', secs(d.fresh.commandS), secs(b.fresh.commandS), '', '', ''],
    ['(b) same again, no change: berth apply', secs(d.same.wallS), secs(b.same.wallS), `${rs.toFixed(2)}×`, `≥ ${TARGET_NOCHANGE_RATIO}×`, verdict(rs >= TARGET_NOCHANGE_RATIO)],
    [`    service updates (version index moved, of ${TOTAL})`, String(d.same.updates), String(b.same.updates), '', '0 for berth', verdict(b.same.updates === 0)],
    ['    tasks replaced', String(d.same.replaced), String(b.same.replaced), '', '', ''],
    [`(c) no change: a berth serve timer pass (median of ${serve.passesS.length})`, secs(d.same.wallS), secs(pass), `${rp.toFixed(2)}×`, `≥ ${TARGET_NOCHANGE_RATIO}×`, verdict(rp >= TARGET_NOCHANGE_RATIO)],
    ['    service updates over those passes', '', String(serve.updates), '', '0 for berth', verdict(serve.updates === 0)],
  ]));
  say(`berth serve timer passes over the ${STACKS} unchanged stacks: ${serve.passesS.map(secs).join(', ')} (first stack's start to last stack's end, from /api/stacks; ${serve.replaced} tasks replaced)`);
  say();
  say(`berth start-up floor (\`berth --version\`): ${secs(floorS)}, about ${Math.round((floorS / b.same.wallS) * 100)}% of its no-change run`);
  say(diffs.length ? `WORKLOADS DIFFER:\n  ${diffs.slice(0, 10).join('\n  ')}` : `workloads checked equal: same image, environment, replicas, endpoint mode, stop grace period, restart condition and network count per service`);
}

const loadAtStart = os.loadavg()[0];

async function main(): Promise<void> {
  if (!existsSync(DOCKER_CLI)) throw new Error(`no docker CLI at ${DOCKER_CLI} (the peer); give its path with --docker`);
  const found = await testSwarm([webImage(1)]);
  if (!found.swarm) throw new Error(`the test Swarm is not up: ${found.reason}`);
  swarm = found.swarm;
  const env = childEnv(swarm.manager);
  const engine = (await manager().version()).Version;
  const cli = (await timed(DOCKER_CLI, ['version', '-f', '{{.Client.Version}}'], env)).out.trim();
  const removed = await cleanup();
  if (removed) say(`removed leftovers of an earlier run: ${removed} services`);
  const ws = await makeWorkspace(swarm.manager);
  let diffs: string[] = [];
  try {
    const results: { docker?: ToolResult; berth?: ToolResult; dockerSig?: Map<string, string>; berthSig?: Map<string, string> } = {};
    const measure = {
      docker: async () => {
        results.docker = await measureDocker(ws, env);
        results.dockerSig = await signature(DOCKER_PREFIX);
      },
      berth: async () => {
        results.berth = await measureBerth(ws, env);
        results.berthSig = await signature(BERTH_PREFIX);
      },
    };
    const order = opts.order === 'docker-first' ? (['docker', 'berth'] as const) : (['berth', 'docker'] as const);
    for (const [i, tool] of order.entries()) {
      if (i) {
        await cleanup();
        await sleep(PAUSE_MS);
      }
      await measure[tool]();
    }
    const floor = await timed(process.execPath, [path.join(ROOT, 'bin', 'berth.js'), '--version'], env);
    diffs = differences(results.dockerSig!, results.berthSig!);
    report(results.docker!, results.berth!, floor.wallS, engine, cli, diffs);
  } finally {
    const n = await cleanup();
    say(`cleaned up: ${n} services and their networks${opts['keep-temp'] ? `; kept ${ws.dir}` : ''}`);
    if (!opts['keep-temp']) await rm(ws.dir, { recursive: true, force: true });
  }
  if (diffs.length) process.exitCode = 1;
}

runBench(main, async () => {
  serving?.kill('SIGKILL');
  if (swarm) await cleanup();
});
