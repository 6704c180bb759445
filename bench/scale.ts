/**
 * Benchmark, not a test: one `berth serve` for many stacks over the three standalone test hosts h1..h3.
 *
 *   node --import tsx bench/scale.ts [--stacks 50] [--interval-seconds 60] [--idle-seconds 60] [--kill 10]
 *        [--swarm] [--concurrency N] [--from auto|dist|source] [--node-flags "…"] [--keep-temp] [--verbose]
 *   bash bench/run-scale.sh [same arguments]   # makes sure the test hosts run and hold the image, then this
 *
 * N stacks, one small container each (berth-test/busybox:1 `sleep`, no network), placed round-robin on h1, h2, h3
 * by a host selector; `berth serve` as operators run it (a child process, the environment on the harness git
 * server, JSON logs). It measures: spawn → every stack Ready (wall, serve's own CPU and the test daemons' CPU over
 * that time), one idle timer pass (wall, from the first stack's run to the last one's end), serve's CPU over an
 * idle window holding one timer pass, RSS idle and peak, the heap after a full collection at listen and at idle
 * (per stack), and drift: `--kill` containers SIGKILLed at once by hand, time until each runs again, and that
 * nothing else was touched. Everything it makes is labelled with its stacks (bscale-*) and removed at the end
 * (also on Ctrl-C); nothing else on the hosts is touched. `--swarm`: the same over the test Swarm instead
 * (bench/scale-swarm.ts). See bench/README.md.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { startGitServer, type GitServer } from '../test/harness/git-server.ts';
import { readHosts, type TestHost } from '../test/harness/env.ts';
import { busyboxImage, ensureImages } from '../test/harness/images.ts';
import { cpuOf, SwarmTarget, type Drift, type ScaleTarget } from './scale-swarm.ts';
import {
  bareNodeRss, EnvRepo, gitCli, liveServes, mib, mibB, Serve, usageLine, waitFor, writeProbes, type MemUsage, type Probes, type StackState,
} from './serve-child.ts';
import { loadLine, machine, runBench, say, secs, table, verdict } from './report.ts';

const PREFIX = 'bscale-';
const stackName = (i: number) => `${PREFIX}${String(i).padStart(4, '0')}`;
const TOKEN = 'bench-scale-t0ken';

// ---------- options ----------

const { values: opts } = parseArgs({
  options: {
    stacks: { type: 'string', default: '50' },
    'interval-seconds': { type: 'string', default: '60' },
    'idle-seconds': { type: 'string', default: '60' },
    kill: { type: 'string', default: '10' },
    concurrency: { type: 'string' },
    from: { type: 'string', default: 'auto' },
    'node-flags': { type: 'string', default: '' },
    swarm: { type: 'boolean', default: false },
    'keep-temp': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write('usage: node --import tsx bench/scale.ts [--stacks 50] [--interval-seconds 60] [--idle-seconds 60] [--kill 10]\n' +
    '         [--swarm] [--concurrency N] [--from auto|dist|source] [--node-flags "…"] [--keep-temp] [--verbose]\n');
  process.exit(0);
}
const STACKS = Number(opts.stacks);
const INTERVAL_S = Number(opts['interval-seconds']);
const IDLE_S = Number(opts['idle-seconds']);
const KILL = Number(opts.kill);
for (const [flag, v, lo, hi] of [['--stacks', STACKS, 2, 2000], ['--interval-seconds', INTERVAL_S, 5, 3600], ['--idle-seconds', IDLE_S, 5, 3600], ['--kill', KILL, 0, 100]] as const) {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${flag} must be a whole number in ${lo}..${hi}`);
}
if (KILL >= STACKS) throw new Error('--kill must be below --stacks (one more stack is killed alone first)');
if (!['auto', 'dist', 'source'].includes(opts.from!)) throw new Error('--from is auto, dist or source');
const CONCURRENCY = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
/** --expose-gc lets the probe weigh the heap after a full collection; it is called only after the RSS reads. */
const NODE_FLAGS = ['--expose-gc', ...opts['node-flags']!.split(/\s+/).filter(Boolean)];

const TARGETS = {
  idlePassS: 10,
  idleCpu: 0.05,
  idleRssMib: STACKS <= 50 ? 90 : 150,
  driftS: 5,
};

const verbose = (text: string) => opts.verbose && process.stderr.write(`${text}\n`);
/** Lists of many stacks are large: poll /api/stacks less often as they grow. */
const POLL_MS = STACKS > 200 ? 2_000 : 500;

// ---------- the standalone hosts ----------

interface Host {
  spec: TestHost;
  docker: Docker;
  /** dockerd's pid, for its CPU time. */
  pid?: number;
}

const ours = (c: Docker.ContainerInfo) => (c.Labels?.['berth.stack'] ?? c.Labels?.['com.docker.compose.project'] ?? '').startsWith(PREFIX);

/** Every container of the benchmark on the host, by its stack label. */
async function containersOf(h: Host): Promise<Docker.ContainerInfo[]> {
  return (await h.docker.listContainers({ all: true, filters: JSON.stringify({ label: ['berth.stack'] }) })).filter(ours);
}

/** Kills `victims`' containers at once (SIGKILL, as by hand); the seconds until each runs again. */
async function killAndWait(hs: Host[], victims: string[], before: Map<string, { host: Host; c: Docker.ContainerInfo }>): Promise<number[]> {
  const t0 = Date.now();
  await Promise.all(victims.map((v) => before.get(v)!.host.docker.getContainer(before.get(v)!.c.Id).kill()));
  const back = new Map<string, number>();
  await waitFor(`the ${victims.length} killed containers running again`, 180_000, 100, async () => {
    await Promise.all(hs.map(async (h) => {
      for (const c of await h.docker.listContainers({ filters: JSON.stringify({ label: ['berth.stack'], status: ['running'] }) })) {
        const st = c.Labels['berth.stack'];
        if (victims.includes(st) && !back.has(st)) back.set(st, (Date.now() - t0) / 1000);
      }
    }));
    return back.size === victims.length;
  });
  return victims.map((v) => back.get(v)!);
}

/** Stacks placed round-robin on h1, h2, h3 by a host selector each; drift is a container SIGKILLed by hand. */
class StandaloneTarget implements ScaleTarget {
  private hs: Host[] = [];
  // No network: Docker's default address pools hold a few dozen bridge networks per engine, not hundreds.
  readonly compose = 'services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "86400"]\n    network_mode: none\n    stop_grace_period: 1s\n';
  readonly driftWhat = { one: 'a container killed → running again', many: (n: number) => `${n} containers killed at once → all running again` };

  async describe(): Promise<string> {
    return `h1, h2, h3 (Docker ${(await this.hs[0]!.docker.version()).Version})`;
  }

  async prepare(): Promise<number> {
    const all = readHosts().filter((h) => ['h1', 'h2', 'h3'].includes(h.name));
    if (all.length !== 3) throw new Error('the test hosts h1..h3 are not all in /run/berth-test/hosts.json: bash test/harness/hosts.sh start');
    this.hs = all.map((spec) => ({ spec, docker: new Docker({ socketPath: spec.socket }) }));
    for (const h of this.hs) {
      try {
        await h.docker.ping();
      } catch (e) {
        throw new Error(`${h.spec.name} does not answer on ${h.spec.socket} (${(e as Error).message}); start the test hosts: bash test/harness/hosts.sh start`);
      }
      h.pid = Number((await readFile(path.join(path.dirname(h.spec.socket), `${h.spec.name}.pid`), 'utf8').catch(() => '')).trim()) || undefined;
    }
    await Promise.all(this.hs.map((h) => ensureImages(h.docker, [busyboxImage()])));
    return this.cleanup();
  }

  berthYml(catalog: string): string {
    return `catalogs:\n  - name: bench\n    path: ${catalog}\nhosts:\n${this.hs.map((h) => `  - name: ${h.spec.name}\n    endpoint: ${h.spec.dockerHost}\n    labels: { slot: ${h.spec.name} }\n`).join('')}`;
  }

  /** Stack i on host h(i mod 3 + 1): a host selector per stack, so each runs exactly one container. */
  stackFile(i: number): string {
    return `template: sleeper\nversion: 1.0.0\nhosts:\n  slot: h${(i % 3) + 1}\nanswers: {}\n`;
  }

  async daemonCpu(): Promise<number> {
    return (await Promise.all(this.hs.map((h) => cpuOf(h.pid)))).reduce((a, b) => a + b, 0);
  }

  /**
   * One container killed, then `kill` at once (other stacks): each time until running again; then that nothing
   * else was touched — every other stack's container is the same one, still running, and no other run changed anything.
   */
  async drift(s: Serve, kill: number, track: () => Promise<void>): Promise<Drift> {
    const hs = this.hs;
    const before = new Map<string, { host: Host; c: Docker.ContainerInfo }>();
    for (const h of hs) for (const c of await containersOf(h)) before.set(c.Labels['berth.stack'], { host: h, c });
    const names = [...before.keys()].sort();
    const many = Array.from({ length: kill }, (_, k) => names[Math.floor((k * names.length) / kill)]);
    const one = names.find((n) => !many.includes(n)) ?? names[0];
    const logFrom = s.logs.length;
    const [oneS] = await killAndWait(hs, [one], before);
    await sleep(5_000);
    const backS = await killAndWait(hs, many, before);
    await sleep(5_000);
    await track();
    const victims = [one, ...many];
    let otherTouched = 0;
    for (const h of hs) {
      for (const c of await containersOf(h)) {
        const st = c.Labels['berth.stack'];
        if (victims.includes(st)) continue;
        const was = before.get(st);
        if (!was || was.c.Id !== c.Id || c.State !== 'running') otherTouched++;
      }
    }
    const runs = s.logs.slice(logFrom).filter((l) => l.outcome === 'converged').map((l) => String(l.stack));
    otherTouched += runs.filter((r) => !victims.includes(r)).length;
    return { oneS, backS, otherTouched, runs };
  }

  /** Removes every container, network and volume of the benchmark's stacks; nothing else. */
  async cleanup(): Promise<number> {
    let removed = 0;
    const gone = (e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : Promise.reject(e));
    for (const h of this.hs) {
      const cs = await containersOf(h);
      for (let i = 0; i < cs.length; i += 20) await Promise.all(cs.slice(i, i + 20).map((c) => h.docker.getContainer(c.Id).remove({ force: true }).catch(gone)));
      removed += cs.length;
      const nets = (await h.docker.listNetworks({ filters: JSON.stringify({ label: ['berth.stack'] }) })).filter((n) => (n.Labels?.['berth.stack'] ?? '').startsWith(PREFIX));
      for (const n of nets) await h.docker.getNetwork(n.Id).remove().catch(gone);
      const vols = ((await h.docker.listVolumes({ filters: JSON.stringify({ label: ['berth.stack'] }) })).Volumes ?? []).filter((v) => (v.Labels?.['berth.stack'] ?? '').startsWith(PREFIX));
      for (const v of vols) await h.docker.getVolume(v.Name).remove().catch(gone);
      const left = await containersOf(h);
      if (left.length) throw new Error(`cleanup left ${left.length} containers of ${PREFIX}* on ${h.spec.name}`);
    }
    return removed;
  }
}

// ---------- workspace ----------

interface Workspace {
  dir: string;
  git: GitServer;
  probes: Probes;
  repo: EnvRepo;
  head: string;
}

async function makeWorkspace(target: ScaleTarget): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-scale-'));
  const catalog = path.join(dir, 'catalog');
  const v = path.join(catalog, 'templates', 'sleeper', '1.0.0');
  await mkdir(v, { recursive: true });
  await writeFile(path.join(catalog, 'templates', 'sleeper', 'config.yml'), 'name: sleeper\ndescription: One busybox sleep (bench/scale.ts)\n');
  await writeFile(path.join(v, 'berth.yml'), 'version: 1.0.0\nquestions: []\n');
  await writeFile(path.join(v, 'docker-compose.yml.hbs'), target.compose);
  const git = await startGitServer({ root: path.join(dir, 'git'), token: TOKEN });
  const stacks = Object.fromEntries(Array.from({ length: STACKS }, (_, k) => [stackName(k + 1), target.stackFile(k + 1)]));
  const repo = await EnvRepo.create(git, dir, 'scale', target.berthYml(catalog), stacks);
  const head = (await gitCli(['rev-parse', 'HEAD'], repo.work)).trim();
  return { dir, git, probes: await writeProbes(dir), repo, head };
}

// ---------- the run ----------

interface Result {
  mode: string;
  bareNodeKb: number;
  listenKb: number;
  startupS: number;
  startupCpuS: number;
  dockerdCpuS: number;
  idlePassS: number;
  idlePassRenders: number;
  idleCpu: number;
  idleWindowS: number;
  idleKb: number[];
  peakKb: number;
  usageListen?: MemUsage;
  usageIdle?: MemUsage;
  drift?: Drift;
  errors: string[];
}

async function ready(s: Serve, head: string, track: () => Promise<void>): Promise<void> {
  await waitFor(`all ${STACKS} stacks Ready`, Math.max(300_000, STACKS * 2_000), POLL_MS, async () => {
    await track();
    const list = await s.json<StackState[]>('/api/stacks');
    const bad = list.filter((x) => x.status === 'Failed' || x.status === 'Stalled');
    if (bad.length) throw new Error(`${bad.length} stacks ${bad[0].status}: ${bad[0].stack} ${bad[0].reason} ${bad[0].lastError}`);
    const done = list.filter((x) => x.desiredCommit === head && x.status === 'Ready' && !x.reconciling).length;
    verbose(`  ${done}/${STACKS} Ready`);
    return list.length === STACKS && done === STACKS;
  });
}

/** Waits for a timer pass whose every run started after `after`; its wall time from the first run's start to the last one's end. */
async function timerPass(s: Serve, after: number, track: () => Promise<void>): Promise<{ wallS: number; end: number }> {
  const list = await waitFor('a timer pass over every stack', (INTERVAL_S + 120) * 1000 + STACKS * 100, POLL_MS, async () => {
    await track();
    const l = await s.json<StackState[]>('/api/stacks');
    return l.every((x) => !x.reconciling && x.lastReconcile && x.lastReconcile.why === 'timer' && Date.parse(x.lastReconcile.at) > after) && l;
  });
  const starts = list.map((x) => Date.parse(x.lastReconcile!.at));
  const ends = list.map((x) => Date.parse(x.lastReconcile!.at) + x.lastReconcile!.durationMs);
  return { wallS: (Math.max(...ends) - Math.min(...starts)) / 1000, end: Math.max(...ends) };
}

const renders = async (s: Serve) => Number(/^berth_renders_total (\d+)/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? NaN);

async function run(ws: Workspace, target: ScaleTarget): Promise<Result> {
  const bareNodeKb = await bareNodeRss();
  const t0 = performance.now();
  const dockerd0 = await target.daemonCpu();
  const s = await Serve.start({
    probes: ws.probes, envUrl: ws.repo.url, token: TOKEN, intervalSeconds: INTERVAL_S, tag: 'scale', from: opts.from as 'auto' | 'dist' | 'source',
    nodeFlags: NODE_FLAGS, extraArgs: CONCURRENCY ? ['--concurrency', String(CONCURRENCY)] : [], verbose: (l) => verbose(l),
  });
  let peakKb = 0;
  const track = async () => void (peakKb = Math.max(peakKb, (await s.rss()).rss));
  try {
    const listenKb = (await s.rss()).rss;
    const usageListen = await s.memoryUsage();
    say(`  serve listening (${s.mode}); deploying ${STACKS} stacks …`);
    await ready(s, ws.head, track);
    const startupS = (performance.now() - t0) / 1000;
    const startupCpuS = await s.cpuSeconds();
    const dockerdCpuS = (await target.daemonCpu()) - dockerd0;
    say(`  all Ready after ${secs(startupS)}; waiting for the timer pass that follows the deploys, then an idle one …`);
    const readyAt = Date.now();
    const first = await timerPass(s, readyAt, track);
    const r0 = await renders(s);
    const idle = await timerPass(s, first.end, track);
    const idlePassRenders = (await renders(s)) - r0;
    say(`  idle timer pass: ${secs(idle.wallS)} (${idlePassRenders} renders); idle for ${IDLE_S} s …`);
    const cpu0 = await s.cpuSeconds();
    const w0 = performance.now();
    while (performance.now() - w0 < IDLE_S * 1000) {
      await track();
      await sleep(1_000);
    }
    const idleWindowS = (performance.now() - w0) / 1000;
    const idleCpu = ((await s.cpuSeconds()) - cpu0) / idleWindowS;
    const idleKb: number[] = [];
    for (let i = 0; i < 5; i++) {
      if (i) await sleep(1_000);
      idleKb.push((await s.rss()).rss);
    }
    peakKb = Math.max(peakKb, ...idleKb);
    const usageIdle = await s.memoryUsage();
    let drift: Result['drift'];
    if (KILL) {
      say(`  drift: ${target.driftWhat.one}, then ${target.driftWhat.many(KILL)} …`);
      drift = await target.drift(s, KILL, track);
    }
    return {
      mode: s.mode, bareNodeKb, listenKb, startupS, startupCpuS, dockerdCpuS, idlePassS: idle.wallS, idlePassRenders, idleCpu, idleWindowS,
      idleKb, peakKb, usageListen, usageIdle, drift, errors: s.errors(),
    };
  } finally {
    await s.stop();
  }
}

// ---------- report ----------

function report(r: Result, target: ScaleTarget, where: string, loadAtStart: number): void {
  const max = Math.max(...r.idleKb) / 1024;
  say();
  say(`berth serve, ${STACKS} stacks (one busybox container each) over ${where}; ${machine()}`);
  say(`berth ran from: ${r.mode}; timer every ${INTERVAL_S} s; concurrency ${CONCURRENCY ?? 'default (4)'}`);
  say(loadLine(loadAtStart));
  say();
  const rows: string[][] = [['figure', 'value', 'target', 'result']];
  rows.push(['start → all Ready', secs(r.startupS), '', '']);
  rows.push(['  serve CPU during it (share of the wall time)', `${secs(r.startupCpuS)} (${((r.startupCpuS / r.startupS) * 100).toFixed(0)}%)`, '', '']);
  rows.push(['  the three engines\' dockerd CPU during it', Number.isNaN(r.dockerdCpuS) ? 'n/a' : secs(r.dockerdCpuS), '', '']);
  rows.push(['idle timer pass (first run start → last run end)', secs(r.idlePassS), `< ${TARGETS.idlePassS} s`, verdict(r.idlePassS < TARGETS.idlePassS)]);
  rows.push(['  renders in it', String(r.idlePassRenders), '0', verdict(r.idlePassRenders === 0)]);
  rows.push([`CPU over ${Math.round(r.idleWindowS)} s idle (one timer pass in it)`, `${(r.idleCpu * 100).toFixed(2)}% of a core`, `< ${TARGETS.idleCpu * 100}%`, verdict(r.idleCpu < TARGETS.idleCpu)]);
  rows.push(['RSS idle (max of 5 reads)', `${max.toFixed(1)} MiB`, `< ${TARGETS.idleRssMib} MiB`, verdict(max < TARGETS.idleRssMib)]);
  rows.push(['RSS peak (deploy included)', mib(r.peakKb), '', '']);
  if (r.drift) {
    rows.push([`drift: ${target.driftWhat.one}`, secs(r.drift.oneS), `< ${TARGETS.driftS} s`, verdict(r.drift.oneS < TARGETS.driftS)]);
    if (r.drift.backS.length) rows.push([`drift: ${target.driftWhat.many(KILL)}`, secs(Math.max(...r.drift.backS)), '', '']);
    rows.push(['  other stacks touched meanwhile', String(r.drift.otherTouched), '0', verdict(r.drift.otherTouched === 0)]);
  }
  say(table(rows));
  say();
  say(`memory: a bare node process ${mib(r.bareNodeKb)}; serve listening, before any sync, ${mib(r.listenKb)}`);
  say(`  at listen: ${usageLine(r.usageListen)}`);
  say(`  idle:      ${usageLine(r.usageIdle)}`);
  const heapOf = (u?: MemUsage) => u?.afterGc?.heapUsed ?? u?.heapUsed;
  const [h0, h1] = [heapOf(r.usageListen), heapOf(r.usageIdle)];
  if (h0 !== undefined && h1 !== undefined) say(`  heap per stack (idle − listen, after a full collection, / ${STACKS}): ${((h1 - h0) / STACKS / 1024).toFixed(1)} KiB (${mibB(h1 - h0)} in all)`);
  if (r.drift) say(`drift: the ${KILL} killed at once back after ${r.drift.backS.map((x) => x.toFixed(1)).join(', ')} s (${CONCURRENCY ?? 4} reconciles at a time); runs that changed something: ${r.drift.runs.length} (${[...new Set(r.drift.runs)].length} stacks)`);
  if (r.errors.length) say(`serve logged ${r.errors.length} errors: ${r.errors.slice(0, 3).join(' | ')}`);
}

// ---------- main ----------

let ws: Workspace | undefined;
const target: ScaleTarget = opts.swarm ? new SwarmTarget(PREFIX) : new StandaloneTarget();
let prepared = false;
let finishing: Promise<void> | undefined;
/** Once, whether main ends or Ctrl-C comes first: kill serve, remove what the benchmark made. */
const finish = (): Promise<void> => (finishing ??= (async () => {
  for (const p of liveServes) p.kill('SIGKILL');
  const n = prepared ? await target.cleanup() : 0;
  await ws?.git.close();
  if (ws && !opts['keep-temp']) await rm(ws.dir, { recursive: true, force: true });
  say(`cleaned up: ${n} ${opts.swarm ? 'services' : 'containers'}${ws ? (opts['keep-temp'] ? `; kept ${ws.dir}` : `, ${ws.dir}`) : ''}`);
})());

async function main(): Promise<void> {
  const loadAtStart = os.loadavg()[0];
  const leftovers = await target.prepare();
  prepared = true;
  if (leftovers) say(`removed leftovers of an earlier run: ${leftovers}`);
  const where = await target.describe();
  say(`scale: ${STACKS} stacks over ${where}, timer ${INTERVAL_S} s, idle window ${IDLE_S} s, drift ${KILL} …`);
  ws = await makeWorkspace(target);
  try {
    report(await run(ws, target), target, where, loadAtStart);
  } finally {
    await finish();
  }
}

runBench(main, finish);
