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
import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import Docker from 'dockerode';
import { startGitServer, type GitServer } from '../test/harness/git-server.ts';
import { busyboxImage, ensureImages, webImage } from '../test/harness/images.ts';
import {
  bareNodeRss, EnvRepo, gitCli, liveServes, mib, mmm, ms, median, Serve, usageLine, waitFor, writeProbes, type MemUsage, type Probes, type StackState,
} from './serve-child.ts';
import { loadLine, machine, runBench, say, secs, table, verdict } from './report.ts';

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
    console: { type: 'boolean', default: false },
    'keep-temp': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  process.stdout.write('usage: node --import tsx bench/serve.ts [--repeats 5] [--stacks 50] [--idle-seconds 20] [--interval-seconds 10]\n' +
    '         [--order start-first|stop-first] [--from auto|dist|source] [--node-flags "--max-semi-space-size=1"]\n' +
    '         [--only webhook|memory] [--console] [--heap-snapshot PREFIX] [--keep-temp] [--verbose]\n' +
    '  --console  serve with the web console (--users), and before the idle window a person signs in and opens its pages\n');
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
  /** A users file for --console: one viewer. */
  users: string;
  catalog: string;
  git: GitServer;
  probes: Probes;
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
  const users = path.join(dir, 'users.yml');
  await writeFile(users, `users:\n  - { name: bench, email: bench@example.com, role: viewer, password_hash: "${bcrypt.hashSync(CONSOLE_PASSWORD, 4)}" }\n`);
  return { dir, catalog, git, probes: await writeProbes(dir), users };
}

/** The environment of a measurement: the folder catalog and the default engine as its one host. */
const envRepo = (ws: Workspace, name: string, stacks: Record<string, string>) =>
  EnvRepo.create(ws.git, ws.dir, name, `catalogs:\n  - name: bench\n    path: ${ws.catalog}\nhosts:\n  - name: local\n    endpoint: unix://${SOCKET}\n`, stacks);

/** A push event as GitHub sends it, signed with the secret serve was given. */
function githubPush(repo: EnvRepo, after: string): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    ref: 'refs/heads/main', before: '0'.repeat(39) + '1', after, deleted: false,
    repository: { full_name: `bench/${repo.name}`, clone_url: repo.url, html_url: repo.url.replace(/\.git$/, '') },
  });
  const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`;
  return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature } };
}

/** `berth serve` on the workspace's environment repository. */
const startServe = (ws: Workspace, repo: EnvRepo, intervalSeconds: number, tag: string) => Serve.start({
  probes: ws.probes, envUrl: repo.url, token: TOKEN, intervalSeconds, tag, from: opts.from as 'auto' | 'dist' | 'source', nodeFlags: NODE_FLAGS,
  heapSnapshot: opts['heap-snapshot'], verbose: (line) => verbose(line),
  extraEnv: { BERTH_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, ...(opts.console ? { BERTH_SESSION_SECRET: 'bench-session-secret-of-at-least-32-chars' } : {}) },
  ...(opts.console ? { extraArgs: ['--users', ws.users] } : {}),
});

const CONSOLE_PASSWORD = 'bench-console-pw';

/** A person signs in to the console: the session cookie, which the benchmark's API reads then carry. */
async function consoleSignIn(url: string): Promise<string> {
  const cookies = new Map<string, string>();
  const keep = (r: Response) => {
    for (const c of r.headers.getSetCookie()) {
      const kv = c.split(';')[0];
      cookies.set(kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1));
    }
    return r;
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const login = keep(await fetch(`${url}/login`));
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1];
  if (!csrf) throw new Error('the console\'s sign-in page has no CSRF token');
  const signedIn = keep(await fetch(`${url}/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username: 'bench', password: CONSOLE_PASSWORD, next: '/stacks' }).toString(),
  }));
  if (signedIn.status !== 303) throw new Error(`console sign-in answered ${signedIn.status}`);
  return cookie();
}

/** The pages a person opens before leaving the console idle: the stacks, one stack, the catalog, the script. */
async function browseConsole(url: string, cookie: string, stack: string): Promise<string[]> {
  const pages = ['/stacks', `/stacks/${stack}`, '/catalog', '/console/assets/app.js'];
  for (const p of pages) {
    const r = await fetch(`${url}${p}`, { headers: { cookie } });
    if (r.status !== 200) throw new Error(`console ${p} answered ${r.status}`);
    await r.arrayBuffer();
  }
  return pages;
}

const webStack = (version: number) => `template: web\nversion: 1.0.0\nanswers:\n  web_version: "${version}"\n`;
const sleeperStack = 'template: sleeper\nversion: 1.0.0\nanswers: {}\n';

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
  const repo = await envRepo(ws, 'hook', { [HOOK_STACK]: webStack(1) });
  let head = (await gitCli(['rev-parse', 'HEAD'], repo.work)).trim();
  const t0 = performance.now();
  const s = await startServe(ws, repo, 3600, 'hook');
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
      const hook = githubPush(repo, head);
      const logFrom = s.logs.length;
      const sentEpoch = Date.now();
      const sent = performance.now();
      const answered = fetch(`${s.url}/hooks/github`, { method: 'POST', headers: hook.headers, body: hook.body }).then(async (r) => {
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

async function measureMemory(ws: Workspace): Promise<MemoryResult> {
  say(`(2) idle memory: ${STACKS} stacks × 1 service on one host, timer every ${INTERVAL_S} s, ${IDLE_S} s idle …`);
  const stacks = Object.fromEntries(Array.from({ length: STACKS }, (_, k) => [idleStack(k + 1), sleeperStack]));
  const repo = await envRepo(ws, 'idle', stacks);
  const head = (await gitCli(['rev-parse', 'HEAD'], repo.work)).trim();
  const bareNodeKb = await bareNodeRss();
  const t0 = performance.now();
  const s = await startServe(ws, repo, INTERVAL_S, 'idle');
  try {
    const atListenKb = await s.rss();
    if (opts.console) s.headers.cookie = await consoleSignIn(s.url);
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
    if (opts.console) say(`  console: opened ${(await browseConsole(s.url, s.headers.cookie!, idleStack(1))).join(', ')}`);
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
    const metrics = await (await fetch(`${s.url}/metrics`, { headers: s.headers })).text();
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

function report(hook: Awaited<ReturnType<typeof measureWebhook>> | undefined, mem: MemoryResult | undefined, engineVersion: string): void {
  say();
  say(`berth serve on Docker ${engineVersion} (default engine), ${machine()}`);
  const modes = [...new Set([hook?.mode, mem?.mode].filter(Boolean))];
  say(`berth ran from: ${modes.join('; ')}${opts.console ? '; with the web console (--users), its pages opened once' : ''}`);
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
  for (const p of liveServes) p.kill('SIGKILL');
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
