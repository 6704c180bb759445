// Starts/stops the Docker test hosts h1..h3 (one dockerd each, own socket, data root,
// exec root, bridge and address pool), a TLS tcp endpoint on h3, an sshd on loopback that
// reaches every host, and optionally the machine's default dockerd on /var/run/docker.sock.
//
//   node --import tsx test/harness/dockerd.ts start [--default]   (idempotent: running → reused)
//   node --import tsx test/harness/dockerd.ts stop [--purge] [--default]
//   node --import tsx test/harness/dockerd.ts status
//   node --import tsx test/harness/dockerd.ts start-default | stop-default
//
// test/harness/hosts.sh wraps this. Needs root, dockerd, ip, openssl, ssh-keygen, sshd.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { DATA_DIR, HOSTS_FILE, RUN_DIR, type TestHost } from './env.ts';

export interface HostSpec {
  name: string;
  bridge: string;
  bridgeCidr: string; // gateway/prefix put on the bridge
  subnet: string;
  pool: string; // default-address-pool base
  tcpPort?: number;
}

// 172.31.0.0/16 is used only for these daemons' own bridges on this machine.
export const HOST_SPECS: HostSpec[] = [
  { name: 'h1', bridge: 'br-h1', bridgeCidr: '172.31.1.1/24', subnet: '172.31.1.0/24', pool: '172.31.32.0/19' },
  { name: 'h2', bridge: 'br-h2', bridgeCidr: '172.31.2.1/24', subnet: '172.31.2.0/24', pool: '172.31.64.0/19' },
  { name: 'h3', bridge: 'br-h3', bridgeCidr: '172.31.3.1/24', subnet: '172.31.3.0/24', pool: '172.31.96.0/19', tcpPort: 23760 },
];
export const TEST_NET = '172.31.0.0/16';
export const SSH_PORT = 2222;
export const TLS_DIR = `${RUN_DIR}/tls`;
export const SSH_DIR = `${RUN_DIR}/ssh`;
export const DEFAULT_SOCKET = '/var/run/docker.sock';
export const DEFAULT_PIDFILE = '/var/run/docker.pid';
export const DEFAULT_LOG = '/var/log/berth-dockerd.log';

const sock = (n: string) => `${RUN_DIR}/${n}.sock`;
const pidfile = (n: string) => `${RUN_DIR}/${n}.pid`;
const execRoot = (n: string) => `${RUN_DIR}/${n}-exec`;
const dataRoot = (n: string) => `${DATA_DIR}/${n}`;
const logFile = (n: string) => `${RUN_DIR}/${n}.log`;
const tlsFiles = {
  ca: `${TLS_DIR}/ca.pem`,
  cert: `${TLS_DIR}/client-cert.pem`,
  key: `${TLS_DIR}/client-key.pem`,
  serverCert: `${TLS_DIR}/server-cert.pem`,
  serverKey: `${TLS_DIR}/server-key.pem`,
};

const PATH = `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${process.env.PATH ? `:${process.env.PATH}` : ''}`;
const log = (msg: string): void => {
  process.stdout.write(`[hosts] ${msg}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH } });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr}`);
  }
  return r.stdout ?? '';
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // a killed daemon whose parent never reaps it stays a zombie: that is not alive
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export function pingSocket(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export function pingTls(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/_ping',
        timeout: timeoutMs,
        ca: readFileSync(tlsFiles.ca),
        cert: readFileSync(tlsFiles.cert),
        key: readFileSync(tlsFiles.key),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, timeout: timeoutMs });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
  });
}

async function waitUntil(fn: () => Promise<boolean>, timeoutMs: number, stillWorth: () => boolean = () => true): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    if (!stillWorth()) return false;
    await sleep(250);
  }
  return fn();
}

async function killAndWait(pid: number | undefined, what: string, graceMs = 30000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid!, 'SIGTERM');
  if (!(await waitUntil(async () => !alive(pid), graceMs))) {
    log(`${what} (pid ${pid}) ignored SIGTERM; killing`);
    try {
      process.kill(pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    await waitUntil(async () => !alive(pid), 5000);
  }
}

// ---------- bridges and firewall ----------

function ensureBridge(spec: HostSpec): void {
  if (run('ip', ['link', 'show', 'dev', spec.bridge], { allowFail: true }) === '') {
    run('ip', ['link', 'add', spec.bridge, 'type', 'bridge']);
  }
  const addrs = run('ip', ['-o', '-4', 'addr', 'show', 'dev', spec.bridge]);
  if (!addrs.includes(` ${spec.bridgeCidr} `)) run('ip', ['addr', 'add', spec.bridgeCidr, 'dev', spec.bridge]);
  run('ip', ['link', 'set', spec.bridge, 'up']);
}

function deleteBridge(spec: HostSpec): void {
  run('ip', ['link', 'del', spec.bridge], { allowFail: true });
}

/**
 * br_netfilter makes bridged frames go through the FORWARD chain. If something (a dockerd with
 * default options) set its policy to DROP, let traffic among our test bridges through.
 */
function ensureForwardAccept(): void {
  const rules = run('iptables', ['-S', 'FORWARD'], { allowFail: true });
  if (!rules.includes('-P FORWARD DROP')) return;
  const rule = ['FORWARD', '-s', TEST_NET, '-d', TEST_NET, '-j', 'ACCEPT'];
  if (spawnSync('iptables', ['-C', ...rule], { env: { ...process.env, PATH } }).status !== 0) {
    run('iptables', ['-I', ...rule]);
    log(`FORWARD policy is DROP: inserted ACCEPT for ${TEST_NET}`);
  }
}

// ---------- TLS material ----------

export function ensureTls(): void {
  if (existsSync(tlsFiles.ca) && existsSync(tlsFiles.cert) && existsSync(tlsFiles.serverCert)) return;
  mkdirSync(TLS_DIR, { recursive: true, mode: 0o700 });
  const d = TLS_DIR;
  const key = (out: string) => run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
  key(`${d}/ca-key.pem`);
  run('openssl', [
    'req', '-x509', '-new', '-key', `${d}/ca-key.pem`, '-sha256', '-days', '3650', '-subj', '/CN=berth-test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', tlsFiles.ca,
  ]);
  const leaf = (name: string, cn: string, ext: string) => {
    key(`${d}/${name}-key.pem`);
    run('openssl', ['req', '-new', '-key', `${d}/${name}-key.pem`, '-subj', `/CN=${cn}`, '-out', `${d}/${name}.csr`]);
    writeFileSync(`${d}/${name}.ext`, ext);
    run('openssl', [
      'x509', '-req', '-in', `${d}/${name}.csr`, '-CA', tlsFiles.ca, '-CAkey', `${d}/ca-key.pem`, '-CAcreateserial',
      '-days', '3650', '-sha256', '-extfile', `${d}/${name}.ext`, '-out', `${d}/${name}-cert.pem`,
    ]);
    rmSync(`${d}/${name}.csr`);
    rmSync(`${d}/${name}.ext`);
  };
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  leaf('client', 'berth-test-client', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  for (const f of ['ca-key.pem', 'server-key.pem', 'client-key.pem']) chmodSync(`${d}/${f}`, 0o600);
  log(`made TLS CA, server and client certificates in ${TLS_DIR}`);
}

// ---------- sshd ----------

const sshKey = (n: string) => `${SSH_DIR}/id_${n}`;

export async function ensureSshd(): Promise<void> {
  mkdirSync(SSH_DIR, { recursive: true, mode: 0o755 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir
  const hostKey = `${SSH_DIR}/host_ed25519_key`;
  if (!existsSync(hostKey)) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-test-sshd', '-f', hostKey]);
  const lines: string[] = [];
  for (const s of HOST_SPECS) {
    if (!existsSync(sshKey(s.name))) run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `berth-test-${s.name}`, '-f', sshKey(s.name)]);
    const pub = readFileSync(`${sshKey(s.name)}.pub`, 'utf8').trim();
    // The key chooses the host: DOCKER_HOST for `docker system dial-stdio` on the ssh side.
    lines.push(`environment="DOCKER_HOST=unix://${sock(s.name)}",no-agent-forwarding,no-port-forwarding,no-X11-forwarding ${pub}`);
  }
  writeFileSync(`${SSH_DIR}/authorized_keys`, lines.join('\n') + '\n', { mode: 0o600 });
  const config = [
    `Port ${SSH_PORT}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${SSH_DIR}/sshd.pid`,
    `AuthorizedKeysFile ${SSH_DIR}/authorized_keys`,
    'AllowUsers root',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitUserEnvironment DOCKER_HOST',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'LogLevel INFO',
    '',
  ].join('\n');
  writeFileSync(`${SSH_DIR}/sshd_config`, config);
  // `docker -H ssh://root@127.0.0.1:2222 ...` runs `ssh` from PATH: this wrapper adds the key.
  mkdirSync(`${SSH_DIR}/bin`, { recursive: true });
  writeFileSync(
    `${SSH_DIR}/bin/ssh`,
    `#!/bin/sh\n# PATH=${SSH_DIR}/bin:$PATH docker -H ssh://root@127.0.0.1:${SSH_PORT} ps   (BERTH_TEST_SSH_KEY picks the host; default h1)\n` +
      `exec /usr/bin/ssh -i "\${BERTH_TEST_SSH_KEY:-${sshKey('h1')}}" -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$@"\n`,
    { mode: 0o755 },
  );

  const pid = readPid(`${SSH_DIR}/sshd.pid`);
  if (alive(pid) && (await portOpen(SSH_PORT))) {
    process.kill(pid!, 'SIGHUP'); // re-read config/authorized keys
    log(`sshd already running (pid ${pid}) on 127.0.0.1:${SSH_PORT}`);
    return;
  }
  if (await portOpen(SSH_PORT)) throw new Error(`port ${SSH_PORT} is taken by something other than our sshd`);
  run('/usr/sbin/sshd', ['-t', '-f', `${SSH_DIR}/sshd_config`]);
  run('/usr/sbin/sshd', ['-f', `${SSH_DIR}/sshd_config`, '-E', `${SSH_DIR}/sshd.log`]);
  if (!(await waitUntil(() => portOpen(SSH_PORT), 10000))) throw new Error(`sshd did not listen on ${SSH_PORT}; see ${SSH_DIR}/sshd.log`);
  log(`sshd started on 127.0.0.1:${SSH_PORT} (pid ${readPid(`${SSH_DIR}/sshd.pid`)})`);
}

async function stopSshd(): Promise<void> {
  await killAndWait(readPid(`${SSH_DIR}/sshd.pid`), 'sshd', 5000);
}

// ---------- dockerd ----------

interface Started {
  storageDriver: string;
  iptables: boolean;
}

async function spawnDockerd(name: string, args: string[], socketPath: string, logPath: string, pidPath: string): Promise<boolean> {
  const fd = openSync(logPath, 'w');
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, PATH } });
  closeSync(fd);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  child.unref();
  const ok = await waitUntil(() => pingSocket(socketPath), 60000, () => !exited);
  if (!ok) {
    await killAndWait(child.pid ?? readPid(pidPath), `dockerd ${name}`, 10000);
    const tail = readFileSync(logPath, 'utf8').split('\n').slice(-8).join('\n');
    log(`dockerd ${name} did not come up with ${args.filter((a) => a.startsWith('--storage-driver') || a.startsWith('--iptables')).join(' ')}:\n${tail}`);
  }
  return ok;
}

function stateFile(name: string): string {
  return `${RUN_DIR}/${name}.state.json`;
}

async function ensureHostDaemon(spec: HostSpec): Promise<Started> {
  const pid = readPid(pidfile(spec.name));
  if (alive(pid)) {
    if (await waitUntil(() => pingSocket(sock(spec.name)), 20000, () => alive(pid))) {
      log(`${spec.name} already running (pid ${pid}) on ${sock(spec.name)}`);
      try {
        return JSON.parse(readFileSync(stateFile(spec.name), 'utf8')) as Started;
      } catch {
        return { storageDriver: 'overlay2', iptables: false };
      }
    }
    log(`${spec.name} (pid ${pid}) does not answer _ping; restarting it`);
    await killAndWait(pid, `dockerd ${spec.name}`);
  }
  ensureBridge(spec);
  mkdirSync(dataRoot(spec.name), { recursive: true });
  mkdirSync(execRoot(spec.name), { recursive: true });
  writeFileSync(`${RUN_DIR}/${spec.name}.daemon.json`, '{}\n'); // never read /etc/docker/daemon.json
  const base = [
    '-H', `unix://${sock(spec.name)}`,
    '--data-root', dataRoot(spec.name),
    '--exec-root', execRoot(spec.name),
    '--pidfile', pidfile(spec.name),
    '--config-file', `${RUN_DIR}/${spec.name}.daemon.json`,
    '--bridge', spec.bridge,
    '--default-address-pool', `base=${spec.pool},size=24`,
    // Several daemons share one netfilter: each dockerd with iptables=true flushes the DOCKER*
    // chains of the others when it starts, so the test hosts leave iptables alone. Published
    // ports still work on 127.0.0.1 through docker-proxy; no forwarding off this machine.
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--ip', '127.0.0.1',
    '--userland-proxy=true',
    '--containerd-namespace', `berth-${spec.name}`,
    '--containerd-plugins-namespace', `berth-${spec.name}-plugins`,
  ];
  if (spec.tcpPort) {
    base.push(
      '-H', `tcp://127.0.0.1:${spec.tcpPort}`,
      '--tlsverify', '--tlscacert', tlsFiles.ca, '--tlscert', tlsFiles.serverCert, '--tlskey', tlsFiles.serverKey,
    );
  }
  for (const driver of ['overlay2', 'vfs']) {
    if (await spawnDockerd(spec.name, [...base, '--storage-driver', driver], sock(spec.name), logFile(spec.name), pidfile(spec.name))) {
      const st: Started = { storageDriver: driver, iptables: false };
      writeFileSync(stateFile(spec.name), JSON.stringify(st) + '\n');
      log(`${spec.name} started (pid ${readPid(pidfile(spec.name))}, ${driver}) on ${sock(spec.name)}${spec.tcpPort ? ` and tcp://127.0.0.1:${spec.tcpPort} (TLS)` : ''}`);
      return st;
    }
  }
  throw new Error(`dockerd ${spec.name} failed to start; see ${logFile(spec.name)}`);
}

function hostEntry(spec: HostSpec, st: Started): TestHost {
  const h: TestHost = {
    name: spec.name,
    socket: sock(spec.name),
    dockerHost: `unix://${sock(spec.name)}`,
    bridge: { name: spec.bridge, subnet: spec.subnet, gateway: spec.bridgeCidr.split('/')[0] },
    addressPool: spec.pool,
    storageDriver: st.storageDriver,
    iptables: st.iptables,
    ssh: { host: '127.0.0.1', port: SSH_PORT, username: 'root', privateKey: sshKey(spec.name), url: `ssh://root@127.0.0.1:${SSH_PORT}` },
  };
  if (spec.tcpPort) {
    h.tcp = `tcp://127.0.0.1:${spec.tcpPort}`;
    h.tls = { ca: tlsFiles.ca, cert: tlsFiles.cert, key: tlsFiles.key };
  }
  return h;
}

export async function startHosts(): Promise<TestHost[]> {
  if (process.getuid?.() !== 0) throw new Error('the Docker test hosts need root');
  mkdirSync(RUN_DIR, { recursive: true, mode: 0o755 });
  mkdirSync(DATA_DIR, { recursive: true });
  ensureTls();
  ensureForwardAccept();
  const hosts: TestHost[] = [];
  for (const spec of HOST_SPECS) hosts.push(hostEntry(spec, await ensureHostDaemon(spec)));
  const tcp = HOST_SPECS.find((s) => s.tcpPort);
  if (tcp && !(await waitUntil(() => pingTls(tcp.tcpPort!), 15000))) throw new Error(`${tcp.name} does not answer _ping over TLS on ${tcp.tcpPort}`);
  await ensureSshd();
  writeFileSync(HOSTS_FILE, JSON.stringify(hosts, null, 2) + '\n');
  log(`wrote ${HOSTS_FILE}`);
  return hosts;
}

export async function stopHosts({ purge = false }: { purge?: boolean } = {}): Promise<void> {
  await stopSshd();
  for (const spec of HOST_SPECS) {
    const pid = readPid(pidfile(spec.name));
    if (alive(pid)) {
      log(`stopping ${spec.name} (pid ${pid})`);
      await killAndWait(pid, `dockerd ${spec.name}`);
    }
    // a managed containerd left behind by a killed dockerd
    const cpid = readPid(`${execRoot(spec.name)}/containerd/containerd.pid`);
    if (alive(cpid) && readFileSync(`/proc/${cpid}/cmdline`, 'utf8').includes(execRoot(spec.name))) await killAndWait(cpid, `containerd ${spec.name}`, 10000);
    deleteBridge(spec);
    if (purge) {
      for (const dir of [dataRoot(spec.name), execRoot(spec.name)]) {
        const mounts = readFileSync('/proc/mounts', 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1])
          .filter((m) => m && m.startsWith(dir + '/'))
          .sort((a, b) => b.length - a.length);
        for (const m of mounts) run('umount', ['-l', m], { allowFail: true });
        rmSync(dir, { recursive: true, force: true });
      }
      log(`purged ${dataRoot(spec.name)}`);
    }
  }
  rmSync(HOSTS_FILE, { force: true });
  log('test hosts stopped');
}

export async function status(): Promise<boolean> {
  let all = true;
  for (const spec of HOST_SPECS) {
    const ok = await pingSocket(sock(spec.name));
    all &&= ok;
    log(`${spec.name}: ${ok ? 'up' : 'DOWN'} ${sock(spec.name)}`);
    if (spec.tcpPort) {
      const t = existsSync(tlsFiles.ca) && (await pingTls(spec.tcpPort));
      all &&= t;
      log(`${spec.name}: tls ${t ? 'up' : 'DOWN'} tcp://127.0.0.1:${spec.tcpPort}`);
    }
  }
  const s = await portOpen(SSH_PORT);
  all &&= s;
  log(`sshd: ${s ? 'up' : 'DOWN'} 127.0.0.1:${SSH_PORT}`);
  log(`default: ${(await pingSocket(DEFAULT_SOCKET)) ? 'up' : 'down'} ${DEFAULT_SOCKET}`);
  return all;
}

// ---------- the machine's default daemon (for the demo) ----------

export async function startDefaultDaemon(): Promise<void> {
  if (await pingSocket(DEFAULT_SOCKET)) {
    log(`default dockerd already answers on ${DEFAULT_SOCKET}`);
    return;
  }
  const pid = readPid(DEFAULT_PIDFILE);
  if (alive(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd') {
    if (await waitUntil(() => pingSocket(DEFAULT_SOCKET), 20000, () => alive(pid))) return log('default dockerd came up');
    await killAndWait(pid, 'default dockerd');
  }
  const args = ['-H', `unix://${DEFAULT_SOCKET}`, '--pidfile', DEFAULT_PIDFILE, '--ip-forward=false'];
  // Options /etc/docker/daemon.json may also set would make dockerd refuse to start.
  if (!existsSync('/etc/docker/daemon.json')) args.push('--ip', '127.0.0.1', '--default-address-pool', 'base=172.30.0.0/16,size=24');
  for (const extra of [[], ['--iptables=false'], ['--iptables=false', '--storage-driver', 'vfs']]) {
    if (await spawnDockerd('default', [...args, ...extra], DEFAULT_SOCKET, DEFAULT_LOG, DEFAULT_PIDFILE)) {
      log(`default dockerd started (pid ${readPid(DEFAULT_PIDFILE)}) on ${DEFAULT_SOCKET} ${extra.join(' ')}; log ${DEFAULT_LOG}`);
      return;
    }
  }
  throw new Error(`default dockerd failed to start; see ${DEFAULT_LOG}`);
}

export async function stopDefaultDaemon(): Promise<void> {
  const pid = readPid(DEFAULT_PIDFILE);
  if (alive(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd') {
    log(`stopping default dockerd (pid ${pid})`);
    await killAndWait(pid, 'default dockerd');
  }
}

// ---------- CLI ----------

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const withDefault = rest.includes('--default');
  switch (cmd) {
    case 'start':
      if (withDefault) await startDefaultDaemon();
      await startHosts();
      return 0;
    case 'stop':
      await stopHosts({ purge: rest.includes('--purge') });
      if (withDefault) await stopDefaultDaemon();
      return 0;
    case 'restart':
      await stopHosts();
      await startHosts();
      return 0;
    case 'status':
      return (await status()) ? 0 : 1;
    case 'start-default':
      await startDefaultDaemon();
      return 0;
    case 'stop-default':
      await stopDefaultDaemon();
      return 0;
    default:
      process.stderr.write('usage: dockerd.ts start [--default] | stop [--purge] [--default] | restart | status | start-default | stop-default\n');
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`[hosts] ERROR: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
