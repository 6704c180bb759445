// An air-gapped site for the offline-bundle tests: one dockerd in its own network namespace with no default
// route (nothing can leave it: a registry look-up fails at once with "network is unreachable") and, at first,
// no images. A veth pair gives the test machine 10.99.0.1 and the site 10.99.0.2 on a /30, so a test can reach
// the site's published ports the way an operator's console would; the site routes nowhere else. The daemon is
// driven over its unix socket, a file, which needs no network.
//
//   node --import tsx test/harness/airgap.ts start | stop [--purge] | status
//
// dockerd runs under `nsenter --net` (not `ip netns exec`, whose private /sys hides the cgroup mounts).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { pingSocket } from './dockerd.ts';
import { DATA_DIR, RUN_DIR } from './env.ts';

export const AIRGAP_NETNS = 'berth-airgap';
export const AIRGAP_SOCKET = `${RUN_DIR}/airgap.sock`;
export const AIRGAP_FILE = `${RUN_DIR}/airgap.json`;
export const AIRGAP_ADDRESS = '10.99.0.2';
const HOST_ADDRESS = '10.99.0.1';
const HOST_LINK = 'berth-ag0';
const PIDFILE = `${RUN_DIR}/airgap.pid`;
const EXEC_ROOT = `${RUN_DIR}/airgap-exec`;
const DATA_ROOT = `${DATA_DIR}/airgap`;
const LOG = `${RUN_DIR}/airgap.log`;
const PATH = `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${process.env.PATH ? `:${process.env.PATH}` : ''}`;

export interface AirgapHost { socket: string; dockerHost: string; address: string; netns: string }

const log = (msg: string) => process.stdout.write(`[airgap] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], allowFail = false): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH } });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr}`);
  return r.status === 0 ? (r.stdout ?? '') : '';
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function readPid(): number | undefined {
  const n = Number(existsSync(PIDFILE) ? readFileSync(PIDFILE, 'utf8').trim() : '');
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function until(fn: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return true;
    await sleep(250);
  }
  return fn();
}

/** The namespace with loopback and one /30 link to this machine; no default route, on purpose. */
function ensureNetwork(): void {
  if (!run('ip', ['netns', 'list']).split('\n').some((l) => l.split(' ')[0] === AIRGAP_NETNS)) run('ip', ['netns', 'add', AIRGAP_NETNS]);
  run('ip', ['-n', AIRGAP_NETNS, 'link', 'set', 'lo', 'up']);
  if (run('ip', ['link', 'show', 'dev', HOST_LINK], true) === '') run('ip', ['link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', AIRGAP_NETNS]);
  if (!run('ip', ['-o', '-4', 'addr', 'show', 'dev', HOST_LINK]).includes(`${HOST_ADDRESS}/30`)) run('ip', ['addr', 'add', `${HOST_ADDRESS}/30`, 'dev', HOST_LINK]);
  run('ip', ['link', 'set', HOST_LINK, 'up']);
  if (!run('ip', ['-n', AIRGAP_NETNS, '-o', '-4', 'addr', 'show', 'dev', 'eth0']).includes(`${AIRGAP_ADDRESS}/30`)) run('ip', ['-n', AIRGAP_NETNS, 'addr', 'add', `${AIRGAP_ADDRESS}/30`, 'dev', 'eth0']);
  run('ip', ['-n', AIRGAP_NETNS, 'link', 'set', 'eth0', 'up']);
  const routes = run('ip', ['-n', AIRGAP_NETNS, 'route', 'show', 'default']);
  if (routes.trim()) throw new Error(`netns ${AIRGAP_NETNS} has a default route (${routes.trim()}); an air-gapped site must not`);
}

async function spawnDaemon(driver: string): Promise<boolean> {
  writeFileSync(`${RUN_DIR}/airgap.daemon.json`, '{}\n');
  const args = [
    `--net=/run/netns/${AIRGAP_NETNS}`, '--', 'dockerd',
    '-H', `unix://${AIRGAP_SOCKET}`, '--data-root', DATA_ROOT, '--exec-root', EXEC_ROOT, '--pidfile', PIDFILE,
    '--config-file', `${RUN_DIR}/airgap.daemon.json`, '--bip', '10.98.0.1/24', '--default-address-pool', 'base=10.97.0.0/16,size=24',
    '--containerd-namespace', 'berth-airgap', '--containerd-plugins-namespace', 'berth-airgap-plugins', '--storage-driver', driver,
  ];
  const fd = openSync(LOG, 'w');
  const child = spawn('nsenter', args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, PATH } });
  closeSync(fd);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  child.unref();
  const end = Date.now() + 60_000;
  while (Date.now() < end && !exited) {
    if (await pingSocket(AIRGAP_SOCKET)) return true;
    await sleep(250);
  }
  if (!exited) await stopDaemon();
  log(`dockerd with ${driver} did not come up:\n${readFileSync(LOG, 'utf8').split('\n').slice(-6).join('\n')}`);
  return false;
}

export async function startAirgap(): Promise<AirgapHost> {
  if (process.getuid?.() !== 0) throw new Error('the air-gapped test host needs root');
  mkdirSync(RUN_DIR, { recursive: true });
  mkdirSync(DATA_ROOT, { recursive: true });
  mkdirSync(EXEC_ROOT, { recursive: true });
  ensureNetwork();
  const host: AirgapHost = { socket: AIRGAP_SOCKET, dockerHost: `unix://${AIRGAP_SOCKET}`, address: AIRGAP_ADDRESS, netns: AIRGAP_NETNS };
  const pid = readPid();
  if (alive(pid) && (await until(() => pingSocket(AIRGAP_SOCKET), 20_000))) {
    log(`already running (pid ${pid}) on ${AIRGAP_SOCKET}`);
  } else {
    if (alive(pid)) await stopDaemon();
    if (!(await spawnDaemon('overlay2')) && !(await spawnDaemon('vfs'))) throw new Error(`the air-gapped dockerd failed to start; see ${LOG}`);
    log(`started (pid ${readPid()}) on ${AIRGAP_SOCKET}, netns ${AIRGAP_NETNS}, reachable at ${AIRGAP_ADDRESS}`);
  }
  writeFileSync(AIRGAP_FILE, `${JSON.stringify(host, null, 2)}\n`);
  return host;
}

async function stopDaemon(): Promise<void> {
  const pid = readPid();
  if (!alive(pid)) return;
  process.kill(pid!, 'SIGTERM');
  if (!(await until(async () => !alive(pid), 30_000))) process.kill(pid!, 'SIGKILL');
}

export async function stopAirgap(purge: boolean): Promise<void> {
  await stopDaemon();
  // What the daemon left in its namespace (containerd, shims, docker-proxy) goes with it.
  for (const p of run('ip', ['netns', 'pids', AIRGAP_NETNS], true).split('\n').filter(Boolean)) run('kill', ['-KILL', p], true);
  run('ip', ['link', 'del', HOST_LINK], true);
  run('ip', ['netns', 'del', AIRGAP_NETNS], true);
  if (purge) {
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && (m.startsWith(`${DATA_ROOT}/`) || m.startsWith(`${EXEC_ROOT}/`)));
    for (const m of mounts.sort((a, b) => b.length - a.length)) run('umount', ['-l', m], true);
    rmSync(DATA_ROOT, { recursive: true, force: true });
    rmSync(EXEC_ROOT, { recursive: true, force: true });
  }
  rmSync(AIRGAP_FILE, { force: true });
  log('stopped');
}

/** The running site, or an error saying how to start it. */
export function readAirgap(): AirgapHost {
  if (!existsSync(AIRGAP_FILE)) throw new Error(`${AIRGAP_FILE} not found: start the air-gapped host with \`node --import tsx test/harness/airgap.ts start\``);
  return JSON.parse(readFileSync(AIRGAP_FILE, 'utf8')) as AirgapHost;
}

async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'start':
      await startAirgap();
      return 0;
    case 'stop':
      await stopAirgap(argv.includes('--purge'));
      return 0;
    case 'status': {
      const up = await pingSocket(AIRGAP_SOCKET);
      log(`${up ? 'up' : 'DOWN'} ${AIRGAP_SOCKET}`);
      return up ? 0 : 1;
    }
    default:
      process.stderr.write('usage: airgap.ts start | stop [--purge] | status\n');
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`[airgap] ${(e as Error).message}\n`);
    process.exit(1);
  });
}
