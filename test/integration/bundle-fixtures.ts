// Offline-bundle fixtures: a vendor's catalog repository (versions added commit by commit), a signing key,
// and the air-gapped site host (test/harness/airgap.ts) behind a gate that fails in CI when it is missing.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { pingSocket } from '../harness/dockerd.ts';
import { isCI } from '../harness/env.ts';
import { readAirgap, type AirgapHost } from '../harness/airgap.ts';

export function git(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', 'user.name=Vendor', '-c', 'user.email=vendor@example.com', ...args], { cwd }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `berth-bundle-${prefix}-`));
}

/** A catalog repository with template `shop`; each `addVersion` is one commit, like a vendor's release. */
export class VendorCatalog {
  constructor(readonly dir: string, readonly port: number) {}

  static async create(port: number): Promise<VendorCatalog> {
    const dir = tempDir('catalog');
    mkdirSync(path.join(dir, 'templates/shop'), { recursive: true });
    writeFileSync(path.join(dir, 'templates/shop/config.yml'), 'name: shop\ndescription: A web shop (bundle tests)\n');
    await git(['init', '-q', '-b', 'main'], dir);
    return new VendorCatalog(dir, port);
  }

  /** Version `folder` serving berth-test/web:`web`, beside a busybox side-car. */
  async addVersion(folder: string, version: string, web: number): Promise<void> {
    const v = path.join(this.dir, 'templates/shop', folder);
    mkdirSync(v, { recursive: true });
    writeFileSync(path.join(v, 'berth.yml'), `version: ${version}\nquestions:\n  - variable: port\n    type: int\n    default: ${this.port}\n`);
    writeFileSync(path.join(v, 'README.md'), `Shop ${version}: web ${web}.\n`);
    writeFileSync(path.join(v, 'docker-compose.yml.hbs'), [
      'services:',
      '  web:',
      `    image: berth-test/web:${web}`,
      '    ports: ["{{port}}:80"]',
      '  side:',
      '    image: berth-test/busybox:1',
      '    command: [sleep, "3600"]',
      '',
    ].join('\n'));
    await git(['add', '-A'], this.dir);
    await git(['commit', '-q', '-m', `shop ${version}`], this.dir);
  }
}

/** An Ed25519 key pair as PEM files in `dir`. */
export function keyPair(dir: string, name: string): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const priv = path.join(dir, `${name}.pem`);
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(`${priv}.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub: `${priv}.pub` };
}

export interface AirgapGate { opts: { skip?: string }; host(): AirgapHost; docker(): Docker }

/** The air-gapped host, or why not: skipped outside CI, a failure in CI (as dockerGate does). */
export async function airgapGate(): Promise<AirgapGate> {
  let reason: string | undefined;
  let host: AirgapHost | undefined;
  try {
    host = readAirgap();
    if (!(await pingSocket(host.socket))) reason = `the air-gapped host does not answer on ${host.socket}`;
  } catch (e) {
    reason = (e as Error).message;
  }
  const get = () => {
    if (reason || !host) throw new Error(reason);
    return host;
  };
  return { opts: reason && !isCI() ? { skip: reason } : {}, host: get, docker: () => new Docker({ socketPath: get().socket }) };
}

/** Empties the site: its containers, networks and images go (it is the bundle suite's alone). */
export async function emptySite(docker: Docker): Promise<void> {
  for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const n of await docker.listNetworks()) if (!['bridge', 'host', 'none'].includes(n.Name)) await docker.getNetwork(n.Id).remove().catch(() => {});
  for (const i of await docker.listImages({ all: true })) await docker.getImage(i.Id).remove({ force: true, noprune: false }).catch(() => {});
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
