// Shared helpers for tests that use the real-parts harness (Docker test hosts,
// local images, the smart-HTTP git server). See test/harness/README.md.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import Docker from 'dockerode';

/** Everything the harness makes at run time lives under these two folders. */
export const RUN_DIR = '/run/berth-test';
export const DATA_DIR = '/var/lib/berth-test';
/** Where dockerd.ts writes the endpoints; BERTH_TEST_HOSTS_FILE points tests at another list. */
export const HOSTS_FILE = process.env.BERTH_TEST_HOSTS_FILE || `${RUN_DIR}/hosts.json`;

/** Label put on every object (container, network, volume) a harness test makes. */
export const TEST_LABEL = 'berth-test';

export interface TlsFiles {
  ca: string; // paths to PEM files
  cert: string;
  key: string;
}

export interface SshEndpoint {
  host: string; // 127.0.0.1
  port: number; // 2222
  username: string; // root
  privateKey: string; // path to an OpenSSH private key; this key reaches this host only
  url: string; // ssh://root@127.0.0.1:2222
}

/** One entry of /run/berth-test/hosts.json. */
export interface TestHost {
  name: string; // h1, h2, h3
  socket: string; // /run/berth-test/hN.sock
  dockerHost: string; // unix:///run/berth-test/hN.sock
  bridge: { name: string; subnet: string; gateway: string };
  addressPool: string; // --default-address-pool base for user-defined networks
  storageDriver: string;
  iptables: boolean;
  tcp?: string; // tcp://127.0.0.1:23760 (TLS-verified)
  tls?: TlsFiles; // client certificate to use with tcp
  ssh?: SshEndpoint;
}

export function isCI(): boolean {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Reads hosts.json; throws a readable error if the hosts were never started. */
export function readHosts(file = HOSTS_FILE): TestHost[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} not found: start the test hosts with \`bash test/harness/hosts.sh start\``);
  }
  return JSON.parse(text) as TestHost[];
}

export function findHost(name: string, hosts: TestHost[] = readHosts()): TestHost {
  const h = hosts.find((x) => x.name === name);
  if (!h) throw new Error(`test host ${name} not in ${HOSTS_FILE}`);
  return h;
}

export type Via = 'socket' | 'tls' | 'ssh';

/** A dockerode client for a test host, over its unix socket (default), TLS tcp, or ssh. */
export function dockerFor(host: TestHost, via: Via = 'socket'): Docker {
  switch (via) {
    case 'socket':
      return new Docker({ socketPath: host.socket });
    case 'tls': {
      if (!host.tcp || !host.tls) throw new Error(`host ${host.name} has no TLS endpoint`);
      const u = new URL(host.tcp.replace(/^tcp:/, 'https:'));
      return new Docker({
        protocol: 'https',
        host: u.hostname,
        port: Number(u.port),
        ca: readFileSync(host.tls.ca),
        cert: readFileSync(host.tls.cert),
        key: readFileSync(host.tls.key),
      });
    }
    case 'ssh': {
      if (!host.ssh) throw new Error(`host ${host.name} has no ssh endpoint`);
      return new Docker({
        protocol: 'ssh',
        host: host.ssh.host,
        port: host.ssh.port,
        username: host.ssh.username,
        sshOptions: { privateKey: readFileSync(host.ssh.privateKey) },
      } as Docker.DockerOptions);
    }
  }
}

/** Resolves true when the engine answers _ping within timeoutMs. */
export async function pingDocker(docker: Docker, timeoutMs = 5000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      docker.ping(),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error('timeout')), timeoutMs);
      }),
    ]);
    return String(r) === 'OK';
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * Gate for tests needing the Docker test hosts.
 *
 *   const gate = await dockerGate();
 *   test('deploys', gate.opts, async () => { const h1 = gate.host('h1'); ... });
 *
 * Without CI, an unavailable harness gives `opts = { skip: reason }`.
 * With CI=true, `opts` is `{}` so the test runs, and `gate.host()` / `gate.hosts()`
 * throw the reason: a missing engine FAILS in CI, it never skips.
 */
export interface Gate {
  ok: boolean;
  reason?: string;
  opts: { skip?: string };
  hosts(): TestHost[];
  host(name: string): TestHost;
  docker(name: string, via?: Via): Docker;
}

export function makeGate(hosts: TestHost[], reason: string | undefined): Gate {
  const fail = () => {
    throw new Error(`Docker test hosts unavailable: ${reason}`);
  };
  const gate: Gate = {
    ok: reason === undefined,
    reason,
    opts: reason === undefined || isCI() ? {} : { skip: `Docker test hosts unavailable: ${reason}` },
    hosts: () => (reason === undefined ? hosts : fail()),
    host: (name) => (reason === undefined ? findHost(name, hosts) : fail()),
    docker: (name, via = 'socket') => dockerFor(gate.host(name), via),
  };
  return gate;
}

let gateCache: Promise<Gate> | undefined;

/** Reads hosts.json and pings every host's socket once per process. */
export function dockerGate(): Promise<Gate> {
  gateCache ??= (async () => {
    let hosts: TestHost[];
    try {
      hosts = readHosts();
    } catch (e) {
      return makeGate([], (e as Error).message);
    }
    for (const h of hosts) {
      if (!(await pingDocker(dockerFor(h), 5000))) return makeGate(hosts, `${h.name} does not answer _ping on ${h.socket}; start the test hosts with \`bash test/harness/hosts.sh start\``);
    }
    return makeGate(hosts, undefined);
  })();
  return gateCache;
}

/** Polls fn until it returns a truthy value (returned) or the timeout passes (throws). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 20000, intervalMs = 200, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    // A function: what was seen at the time out, not when the wait began.
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${typeof what === 'function' ? what() : what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Plain GET with a timeout; only ever point it at loopback or our own test bridges. */
export function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** A fresh temporary folder and a function removing it. */
export function tempDir(prefix = 'berth-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** IP address of a container on the given network (default: its first network). */
export async function containerIp(docker: Docker, id: string, network?: string): Promise<string> {
  const info = await docker.getContainer(id).inspect();
  const nets = info.NetworkSettings.Networks ?? {};
  const entry = network ? nets[network] : Object.values(nets)[0];
  if (!entry?.IPAddress) throw new Error(`container ${id} has no IP${network ? ` on ${network}` : ''}`);
  return entry.IPAddress;
}

/**
 * Removes containers, then networks, then volumes carrying `label` (default: TEST_LABEL).
 * `label` is a docker filter: "key" or "key=value".
 */
export async function removeLabeled(docker: Docker, label = TEST_LABEL): Promise<void> {
  const filters = JSON.stringify({ label: [label] });
  const containers = await docker.listContainers({ all: true, filters });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) await docker.getNetwork(n.Id).remove().catch(() => {});
  const vols = await docker.listVolumes({ filters });
  for (const v of vols.Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
}
