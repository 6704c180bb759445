/**
 * Benchmark, not a test: Berth's `apply` beside Debian's docker-compose (v1.29) on the same Docker engine.
 *
 *   node --import tsx bench/converge.ts [--stacks 10] [--services 5] [--order compose-first|berth-first] [--keep-temp]
 *   bash bench/run.sh                      # installs docker-compose and time, loads the images, runs this
 *
 * Workload: N stacks × M services (web1..webM, berth-test/web:1 = busybox httpd, an env var SITE that differs
 * per service, stop_grace_period: 1s, no ports, no healthcheck, the project's default network). Berth gets a
 * temp catalog + environment and ONE `berth apply --env DIR` process for all stacks; docker-compose gets the
 * same services as N compose files and N sequential `docker-compose -p NAME -f FILE up -d` processes, timed
 * together. Each tool: (a) fresh deploy with nothing of the benchmark present, (b) the same again with
 * nothing changed. Whole processes, wall time, one run each. Everything made is removed at the end.
 *
 * Needs the default engine on /var/run/docker.sock and docker-compose on PATH; see bench/README.md.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { ensureImages, webImage } from '../test/harness/images.ts';
import { loadLine, machine, runBench, say, secs, table, verdict } from './report.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOCKET = '/var/run/docker.sock';
const IMAGE = 'berth-test/web:1';
/** Every object the benchmark makes starts with this: cleanup never touches anything else on the engine. */
const PREFIX = 'berthbench-';
const COMPOSE_PREFIX = `${PREFIX}c`;
const BERTH_PREFIX = `${PREFIX}b`;
const PROCESS_TIMEOUT_MS = 5 * 60_000;
const PAUSE_MS = 2_000;
const TIME_BIN = '/usr/bin/time';

const TARGET_NOCHANGE_RATIO = 10;
const TARGET_FRESH_RATIO = 1;

// ---------- options ----------

const { values: opts } = parseArgs({
  options: {
    stacks: { type: 'string', default: '10' },
    services: { type: 'string', default: '5' },
    order: { type: 'string', default: 'compose-first' },
    'keep-temp': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write('usage: node --import tsx bench/converge.ts [--stacks 10] [--services 5] [--order compose-first|berth-first] [--keep-temp]\n');
  process.exit(0);
}
const STACKS = Number(opts.stacks);
const SERVICES = Number(opts.services);
if (!Number.isInteger(STACKS) || STACKS < 1 || STACKS > 99 || !Number.isInteger(SERVICES) || SERVICES < 1 || SERVICES > 20) {
  throw new Error('--stacks must be 1..99 and --services 1..20');
}
if (opts.order !== 'compose-first' && opts.order !== 'berth-first') throw new Error('--order is compose-first or berth-first');

const pad2 = (n: number) => String(n).padStart(2, '0');
const composeProject = (i: number) => `${COMPOSE_PREFIX}${pad2(i)}`;
const berthStack = (i: number) => `${BERTH_PREFIX}${pad2(i)}`;
const indexes = Array.from({ length: STACKS }, (_, k) => k + 1);
const serviceNames = Array.from({ length: SERVICES }, (_, k) => `web${k + 1}`);
/** The one difference between services and stacks: SITE=s<stack>-<service>. Both tools get the same value. */
const siteValue = (stack: number, service: number) => `s${pad2(stack)}-${service}`;

// ---------- the workload, for each tool ----------

const CATALOG_CONFIG = `name: bench
description: ${SERVICES} busybox web servers, the benchmark workload (bench/converge.ts).
`;
const CATALOG_VERSION = `version: 1.0.0
questions:
  - variable: site
    type: string
    required: true
  - variable: services
    type: int
    default: ${SERVICES}
    min: 1
    max: 20
`;
/** Same fields as composeFile() writes; Berth adds only its defaults (restart "no", the default network). */
const CATALOG_TEMPLATE = `services:
{{#each (range 1 services)}}
  web{{this}}:
    image: ${IMAGE}
    environment:
      SITE: {{../site}}-{{this}}
    stop_grace_period: 1s
{{/each}}
`;

function composeFile(stack: number): string {
  const lines = ['services:'];
  for (let s = 1; s <= SERVICES; s++) {
    lines.push(`  web${s}:`, `    image: ${IMAGE}`, '    environment:', `      SITE: ${siteValue(stack, s)}`, '    stop_grace_period: 1s');
  }
  return `${lines.join('\n')}\n`;
}

const stackFile = (stack: number) => `template: bench\nversion: 1.0.0\nanswers:\n  site: s${pad2(stack)}\n  services: ${SERVICES}\n`;

interface Workspace {
  dir: string;
  envDir: string;
  composeFiles: string[];
  rssProbe?: string;
}

async function makeWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-'));
  const catalog = path.join(dir, 'catalog');
  const version = path.join(catalog, 'templates', 'bench', '1.0.0');
  await mkdir(version, { recursive: true });
  await writeFile(path.join(catalog, 'templates', 'bench', 'config.yml'), CATALOG_CONFIG);
  await writeFile(path.join(version, 'berth.yml'), CATALOG_VERSION);
  await writeFile(path.join(version, 'docker-compose.yml.hbs'), CATALOG_TEMPLATE);
  const envDir = path.join(dir, 'env');
  await mkdir(path.join(envDir, 'stacks'), { recursive: true });
  await writeFile(path.join(envDir, 'berth.yml'), `catalogs:\n  - name: bench\n    path: ${catalog}\nhosts:\n  - name: local\n    endpoint: unix://${SOCKET}\n`);
  const composeDir = path.join(dir, 'compose');
  await mkdir(composeDir);
  const composeFiles: string[] = [];
  for (const i of indexes) {
    await writeFile(path.join(envDir, 'stacks', `${berthStack(i)}.yml`), stackFile(i));
    const f = path.join(composeDir, `${composeProject(i)}.yml`);
    await writeFile(f, composeFile(i));
    composeFiles.push(f);
  }
  const ws: Workspace = { dir, envDir, composeFiles };
  if (!existsSync(TIME_BIN)) {
    // No GNU time: a preload that writes the node process's own peak RSS (KiB) when it exits.
    ws.rssProbe = path.join(dir, 'rss-probe.mjs');
    await writeFile(ws.rssProbe, "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n");
  }
  return ws;
}

// ---------- processes ----------

interface ProcRun {
  wallS: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS in KiB, when measured. */
  maxRssKb?: number;
}

const childEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${SOCKET}` };
  for (const k of ['BERTH_ENV', 'BERTH_CATALOG', 'BERTH_LOG_LEVEL', 'BERTH_LOG_FORMAT', 'DOCKER_CONTEXT', 'COMPOSE_FILE', 'COMPOSE_PROJECT_NAME']) delete env[k];
  return env;
};

let rssSeq = 0;

/**
 * Runs one whole process and times it from spawn to exit. With `rss`, the peak RSS is read from GNU time
 * (`-f %M -o FILE`, which adds one fork+exec, well under a millisecond) or, for node without GNU time, from
 * the preload probe.
 */
async function run(ws: Workspace, cmd: string, args: string[], o: { rss?: boolean; node?: boolean } = {}): Promise<ProcRun> {
  const rssFile = path.join(ws.dir, `rss-${++rssSeq}`);
  let file = cmd;
  let argv = args;
  const env = childEnv();
  if (o.rss && !ws.rssProbe) {
    file = TIME_BIN;
    argv = ['-f', '%M', '-o', rssFile, cmd, ...args];
  } else if (o.rss && ws.rssProbe && o.node) {
    argv = ['--import', ws.rssProbe, ...args];
    env.BENCH_RSS_FILE = rssFile;
  }
  const spawnOpts: SpawnOptions = { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] };
  const t0 = performance.now();
  const child = spawn(file, argv, spawnOpts);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const wallS = (performance.now() - t0) / 1000;
  clearTimeout(timer);
  const r: ProcRun = { wallS, code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  if (o.rss) {
    const text = await readFile(rssFile, 'utf8').catch(() => '');
    const kb = Number(text.trim().split('\n').pop());
    if (Number.isFinite(kb) && kb > 0) r.maxRssKb = kb;
  }
  return r;
}

function mustSucceed(what: string, r: ProcRun): void {
  if (r.code === 0) return;
  throw new Error(`${what} exited with ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`);
}

// ---------- the engine ----------

const docker = new Docker({ socketPath: SOCKET });

interface Seen {
  containers: Docker.ContainerInfo[];
  networks: Docker.NetworkInspectInfo[];
}

const projectOf = (c: Docker.ContainerInfo) => c.Labels?.['com.docker.compose.project'] ?? c.Labels?.['berth.stack'] ?? '';
const ours = (c: Docker.ContainerInfo, prefix: string) => projectOf(c).startsWith(prefix) || c.Names.some((n) => n.startsWith(`/${prefix}`));

async function seen(prefix: string): Promise<Seen> {
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters: JSON.stringify({ name: [prefix] }) }),
    docker.listNetworks({ filters: JSON.stringify({ name: [prefix] }) }),
  ]);
  return { containers: containers.filter((c) => ours(c, prefix)), networks: networks.filter((n) => n.Name.startsWith(prefix)) };
}

/** Removes every container and network of the benchmark (both tools); nothing else. */
async function cleanup(): Promise<{ containers: number; networks: number }> {
  const s = await seen(PREFIX);
  await Promise.all(s.containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch((e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : Promise.reject(e)))));
  await Promise.all(s.networks.map((n) => docker.getNetwork(n.Id).remove().catch((e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : Promise.reject(e)))));
  const left = await seen(PREFIX);
  if (left.containers.length || left.networks.length) throw new Error(`cleanup left ${left.containers.length} containers and ${left.networks.length} networks named ${PREFIX}*`);
  return { containers: s.containers.length, networks: s.networks.length };
}

/**
 * What each container runs, keyed by stack number and service, without the tool's naming: both tools must
 * produce the same map or the comparison means nothing.
 */
async function signature(prefix: string): Promise<Map<string, string>> {
  const s = await seen(prefix);
  const sig = new Map<string, string>();
  await Promise.all(
    s.containers.map(async (c) => {
      const info = await docker.getContainer(c.Id).inspect();
      const stack = projectOf(c).slice(prefix.length);
      const service = c.Labels['com.docker.compose.service'];
      sig.set(`${stack}/${service}`, JSON.stringify({
        running: info.State.Running,
        image: info.Config.Image,
        cmd: info.Config.Cmd,
        entrypoint: info.Config.Entrypoint,
        env: [...(info.Config.Env ?? [])].sort(),
        restart: info.HostConfig.RestartPolicy?.Name || 'no',
        networks: Object.keys(info.NetworkSettings.Networks ?? {}).length,
        ports: Object.keys(info.HostConfig.PortBindings ?? {}).length,
        healthcheck: info.Config.Healthcheck?.Test ?? null,
      }));
    }),
  );
  sig.set('#networks', String(s.networks.length));
  return sig;
}

function sameWorkload(a: Map<string, string>, b: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) if (a.get(k) !== b.get(k)) diffs.push(`${k}: docker-compose ${a.get(k) ?? '(none)'} vs berth ${b.get(k) ?? '(none)'}`);
  return diffs;
}

async function containerIds(prefix: string): Promise<string> {
  return (await seen(prefix)).containers.map((c) => `${c.Id}:${c.State}`).sort().join(',');
}

async function expectRunning(prefix: string, tool: string): Promise<void> {
  const s = await seen(prefix);
  const running = s.containers.filter((c) => c.State === 'running').length;
  if (running !== STACKS * SERVICES || s.containers.length !== STACKS * SERVICES || s.networks.length !== STACKS) {
    throw new Error(`${tool}: expected ${STACKS * SERVICES} running containers and ${STACKS} networks, found ${running}/${s.containers.length} running and ${s.networks.length} networks`);
  }
}

const pause = (ms = PAUSE_MS) => new Promise((r) => setTimeout(r, ms));

// ---------- the two tools ----------

interface ToolRun {
  wallS: number;
  perProcessS: number[];
  maxRssKb?: number;
  log: string;
}

async function composeUp(ws: Workspace): Promise<ToolRun> {
  const perProcessS: number[] = [];
  let maxRssKb: number | undefined;
  let log = '';
  const t0 = performance.now();
  for (const i of indexes) {
    const r = await run(ws, 'docker-compose', ['-p', composeProject(i), '-f', ws.composeFiles[i - 1], 'up', '-d'], { rss: true });
    mustSucceed(`docker-compose -p ${composeProject(i)} up -d`, r);
    perProcessS.push(r.wallS);
    if (r.maxRssKb) maxRssKb = Math.max(maxRssKb ?? 0, r.maxRssKb);
    log += r.stdout + r.stderr;
  }
  return { wallS: (performance.now() - t0) / 1000, perProcessS, maxRssKb, log };
}

async function berthApply(ws: Workspace): Promise<ToolRun> {
  const r = await run(ws, process.execPath, [path.join(ROOT, 'bin', 'berth.js'), 'apply', '--env', ws.envDir], { rss: true, node: true });
  mustSucceed('berth apply', r);
  return { wallS: r.wallS, perProcessS: [r.wallS], maxRssKb: r.maxRssKb, log: `${r.stdout}\n${r.stderr}` };
}

/** The stack outcomes berth apply printed on stdout: `stack NAME (bench@1.0.0): converged in 3.1s`. */
function berthOutcomes(log: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of log.split('\n')) {
    const x = /^stack (\S+) \([^)]*\): (\w+)/.exec(line);
    if (x) m.set(x[1], x[2]);
  }
  return m;
}

/**
 * Where Berth's time went, from its own output: the per-stack durations of its JSON log lines and, between
 * them, the plain progress events with their durations (`local web1.1 wait done: ready (2.1s)`).
 */
interface StackPhases {
  stack: string;
  outcome: string;
  ms: number;
  longestWaitMs: number;
  longestStartMs: number;
  longestCreateMs: number;
}

/** Reads berth's pino lines: step events (`action`, `status: done`, `durationMs`) and each stack's closing line (`outcome`). */
function berthPhases(stderr: string): StackPhases[] {
  const out: StackPhases[] = [];
  const steps = new Map<string, { wait: number; start: number; create: number }>();
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    let j: { stack?: string; outcome?: string; durationMs?: number; action?: string; status?: string };
    try {
      j = JSON.parse(line);
    } catch {
      continue;
    }
    if (!j.stack || j.durationMs === undefined) continue;
    const cur = steps.get(j.stack) ?? { wait: 0, start: 0, create: 0 };
    steps.set(j.stack, cur);
    if (j.outcome !== undefined) {
      out.push({ stack: j.stack, outcome: j.outcome, ms: j.durationMs, longestWaitMs: cur.wait, longestStartMs: cur.start, longestCreateMs: cur.create });
    } else if (j.status === 'done' && (j.action === 'wait' || j.action === 'start' || j.action === 'create')) {
      cur[j.action] = Math.max(cur[j.action], j.durationMs);
    }
  }
  return out;
}

// ---------- report ----------

const mb = (kb?: number) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MiB`);

// ---------- main ----------

interface Results {
  compose: { fresh: ToolRun; same: ToolRun };
  berth: { fresh: ToolRun; same: ToolRun };
  diag: { version: ProcRun; plan: ProcRun };
}

async function preflight(): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(`no Docker engine on ${SOCKET} (${(e as Error).message}); start it with: bash test/harness/hosts.sh start-default`);
  }
  const which = await new Promise<number | null>((resolve) => {
    const c = spawn('docker-compose', ['version'], { stdio: 'ignore' });
    c.on('error', () => resolve(null));
    c.on('close', resolve);
  });
  if (which !== 0) {
    process.stderr.write('docker-compose is not installed. Install Debian\'s (compose v1.29):\n  apt-get install -y docker-compose\nor run: bash bench/run.sh\n');
    process.exit(2);
  }
  // The harness image, imported from /bin/busybox (no registry); idempotent.
  await ensureImages(docker, [webImage(1)]);
}

async function measureCompose(ws: Workspace): Promise<Results['compose']> {
  say(`docker-compose: (a) fresh deploy of ${STACKS} projects …`);
  const fresh = await composeUp(ws);
  await expectRunning(COMPOSE_PREFIX, 'docker-compose fresh deploy');
  const before = await containerIds(COMPOSE_PREFIX);
  await pause();
  say('docker-compose: (b) the same again, nothing changed …');
  const same = await composeUp(ws);
  const touched = (same.log.match(/^(Creating|Recreating|Starting) /gm) ?? []).length;
  if (touched || (await containerIds(COMPOSE_PREFIX)) !== before) throw new Error(`docker-compose changed containers on the no-change run:\n${same.log}`);
  return { fresh, same };
}

async function measureBerth(ws: Workspace): Promise<{ berth: Results['berth']; diag: Results['diag'] }> {
  say(`berth: (a) fresh deploy of ${STACKS} stacks, one apply …`);
  const fresh = await berthApply(ws);
  await expectRunning(BERTH_PREFIX, 'berth fresh deploy');
  const outcomesA = berthOutcomes(fresh.log);
  if (outcomesA.size !== STACKS || [...outcomesA.values()].some((o) => o !== 'converged')) throw new Error(`berth apply (fresh) did not converge every stack:\n${fresh.log.slice(-4000)}`);
  const before = await containerIds(BERTH_PREFIX);
  await pause();
  say('berth: (b) the same again, nothing changed …');
  const same = await berthApply(ws);
  const outcomesB = berthOutcomes(same.log);
  if (outcomesB.size !== STACKS || [...outcomesB.values()].some((o) => o !== 'unchanged') || (await containerIds(BERTH_PREFIX)) !== before) {
    throw new Error(`berth apply (no change) touched something:\n${same.log.slice(-4000)}`);
  }
  // Diagnostics, not part of the targets: the CLI's start-up floor, and a read-only plan of the converged env.
  const version = await run(ws, process.execPath, [path.join(ROOT, 'bin', 'berth.js'), '--version'], { rss: true, node: true });
  const plan = await run(ws, process.execPath, [path.join(ROOT, 'bin', 'berth.js'), 'plan', '--env', ws.envDir], { rss: true, node: true });
  mustSucceed('berth plan', plan);
  return { berth: { fresh, same }, diag: { version, plan } };
}

function report(r: Results, sigDiffs: string[]): void {
  const ratio = (c: ToolRun, b: ToolRun) => c.wallS / b.wallS;
  const rf = ratio(r.compose.fresh, r.berth.fresh);
  const rs = ratio(r.compose.same, r.berth.same);
  say();
  say(`Berth ${berthVersionText(r)} vs ${composeVersion} on Docker ${engineVersion}, ${machine()}`);
  say(`workload: ${STACKS} stacks × ${SERVICES} services (${IMAGE}, no ports, no healthcheck, 1 network per stack); one run each, wall time of whole processes; order: ${opts.order}`);
  say(`docker-compose: ${STACKS} sequential \`docker-compose -p NAME -f FILE up -d\`; berth: one \`berth apply --env DIR\``);
  say(loadLine(loadAtStart));
  say();
  say(table([
    ['scenario', 'docker-compose', 'berth', 'compose/berth', 'target', 'result'],
    [`(a) fresh deploy, ${STACKS}×${SERVICES}`, secs(r.compose.fresh.wallS), secs(r.berth.fresh.wallS), `${rf.toFixed(2)}×`, `≥ ${TARGET_FRESH_RATIO}× (no slower)`, verdict(rf >= TARGET_FRESH_RATIO)],
    ['(b) same again, no change', secs(r.compose.same.wallS), secs(r.berth.same.wallS), `${rs.toFixed(2)}×`, `≥ ${TARGET_NOCHANGE_RATIO}×`, verdict(rs >= TARGET_NOCHANGE_RATIO)],
  ]));
  say();
  say(table([
    ['peak RSS', 'docker-compose (largest process)', 'berth'],
    ['(a) fresh deploy', mb(r.compose.fresh.maxRssKb), mb(r.berth.fresh.maxRssKb)],
    ['(b) no change', mb(r.compose.same.maxRssKb), mb(r.berth.same.maxRssKb)],
  ]));
  say();
  const per = (t: ToolRun) => `${secs(Math.min(...t.perProcessS))} … ${secs(Math.max(...t.perProcessS))}`;
  say(`docker-compose per project: fresh ${per(r.compose.fresh)}, no change ${per(r.compose.same)}`);
  say(`berth start-up floor (\`berth --version\`): ${secs(r.diag.version.wallS)}, ${mb(r.diag.version.maxRssKb)}; \`berth plan\` of the converged env: ${secs(r.diag.plan.wallS)}`);
  for (const [label, run] of [['fresh', r.berth.fresh], ['no change', r.berth.same]] as const) {
    const phases = berthPhases(run.log);
    const inStacks = phases.reduce((s, p) => s + p.ms, 0) / 1000;
    // berth apply runs several stacks at once, so their durations overlap: the sum is work, not wall time.
    say(`berth ${label}: ${secs(run.wallS)} wall; the stacks' own durations add up to ${secs(inStacks)} (they run side by side)`);
    if (phases.length) {
      const first = phases[0];
      const rest = phases.slice(1);
      const avg = (f: (p: StackPhases) => number) => (rest.length ? rest.reduce((s, p) => s + f(p), 0) / rest.length : 0);
      say(`  first stack to finish ${first.ms} ms (includes loading the catalog); the others ${rest.length ? `${avg((p) => p.ms).toFixed(0)} ms` : '-'} on average`);
      if (label === 'fresh') {
        say(`  per stack, longest step of each kind (steps run in parallel within a stack): create ${avg((p) => p.longestCreateMs).toFixed(0)} ms, start ${avg((p) => p.longestStartMs).toFixed(0)} ms, ready-wait ${avg((p) => p.longestWaitMs).toFixed(0)} ms`);
      }
    }
  }
  say(sigDiffs.length ? `WORKLOADS DIFFER:\n  ${sigDiffs.slice(0, 10).join('\n  ')}` : `workloads checked equal: same image, command, env, restart policy, network count per container; ${STACKS} networks each`);
}

let composeVersion = 'docker-compose';
const loadAtStart = os.loadavg()[0];
let engineVersion = '?';
const berthVersionText = (r: Results) => r.diag.version.stdout.trim();

async function main(): Promise<void> {
  await preflight();
  engineVersion = (await docker.version()).Version;
  const removed = await cleanup();
  if (removed.containers || removed.networks) say(`removed leftovers of an earlier run: ${removed.containers} containers, ${removed.networks} networks`);
  const ws = await makeWorkspace();
  let sigDiffs: string[] = [];
  try {
    const v = await run(ws, 'docker-compose', ['version', '--short']);
    composeVersion = `docker-compose ${v.stdout.trim()}`;
    let compose: Results['compose'];
    let berth: Results['berth'];
    let diag: Results['diag'];
    let composeSig: Map<string, string>;
    let berthSig: Map<string, string>;
    if (opts.order === 'compose-first') {
      compose = await measureCompose(ws);
      composeSig = await signature(COMPOSE_PREFIX);
      await cleanup();
      await pause();
      ({ berth, diag } = await measureBerth(ws));
      berthSig = await signature(BERTH_PREFIX);
    } else {
      ({ berth, diag } = await measureBerth(ws));
      berthSig = await signature(BERTH_PREFIX);
      await cleanup();
      await pause();
      compose = await measureCompose(ws);
      composeSig = await signature(COMPOSE_PREFIX);
    }
    sigDiffs = sameWorkload(composeSig, berthSig);
    report({ compose, berth, diag }, sigDiffs);
  } finally {
    const c = await cleanup();
    say(`cleaned up: ${c.containers} containers, ${c.networks} networks${opts['keep-temp'] ? `; kept ${ws.dir}` : ''}`);
    if (!opts['keep-temp']) await rm(ws.dir, { recursive: true, force: true });
  }
  if (sigDiffs.length) process.exitCode = 1;
}

runBench(main, cleanup);
