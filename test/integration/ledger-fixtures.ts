// The ledger's acceptance world: a catalog folder, an environment repository on the harness's smart-HTTP git
// server (answers encrypted with age), a synced clone of it as `berth serve` keeps one, and the ledger branch
// berth/deployed of that repository — deployed to the harness hosts h1 and h2 through deployStack.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { deployStack, type DeployOutcome } from '../../controller/deploy.ts';
import { loadEnvironment, type Environment } from '../../environment/environment.ts';
import { Ledger } from '../../ledger/ledger.ts';
import { Engines } from '../../engines/registry.ts';
import { syncRepo } from '../../lib/git/index.ts';
import { encryptAnswerInFile, generateKey } from '../../lib/secrets.ts';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { tempDir, type Gate } from '../harness/env.ts';
import { useHarnessStacks, writeCatalog } from './converge-fixtures.ts';

export const TOKEN = 'ledger-it-token';
export const LEDGER = 'berth/deployed';
/** The clear text of the secret answer: it must never reach the ledger. */
export const SECRET = 'pa$$ "w0rd" with: yaml & {braces}';

const COMPOSE = `services:
  web:
    image: berth-test/web:{{web_version}}
    environment:
      TOKEN: {{token}}
      PRICE: costs $5
    stop_grace_period: 1s
    deploy:
      replicas: 2
      placement:
        constraints: [node.labels.role == web]
`;

export class LedgerWorld {
  readonly tmp = tempDir('berth-ledger-');
  readonly catalogDir = path.join(this.tmp.path, 'catalog');
  server!: GitServer;
  identity = '';
  recipient = '';
  ledger!: Ledger;
  dir = '';
  commit = '';

  constructor(readonly gate: Gate) {}

  async start(stacks: Record<string, string>): Promise<void> {
    writeCatalog(this.catalogDir, {
      ledgered: { description: 'A web service with a secret', versions: { '1.0.0': { questions: [{ variable: 'web_version', type: 'string', default: '1' }, { variable: 'token', type: 'password', required: true }], compose: COMPOSE } } },
    });
    ({ identity: this.identity, recipient: this.recipient } = await generateKey());
    this.server = await startGitServer({ root: path.join(this.tmp.path, 'server'), token: TOKEN });
    this.server.createBareRepo('env');
    const hosts = ['h1', 'h2'].map((name) => ({ name, endpoint: this.gate.host(name).dockerHost, labels: { role: 'web' } }));
    const files: Record<string, string> = { 'berth.yml': stringify({ catalogs: [{ name: 'test', path: this.catalogDir }], hosts }) };
    for (const [name, version] of Object.entries(stacks)) files[`stacks/${name}.yml`] = await this.stackText(version);
    this.server.commitFiles('env', files, { message: 'environment' });
    await this.sync();
    this.ledger = new Ledger({ dir: this.dir, remote: { url: this.server.repoUrl('env'), token: TOKEN } });
  }

  /** A stack file whose secret answer is age-encrypted, as `berth secret encrypt` writes it. */
  async stackText(webVersion: string): Promise<string> {
    const plain = `# the demo stack\ntemplate: ledgered\nversion: 1.0.0\nanswers:\n  web_version: "${webVersion}"\n`;
    return encryptAnswerInFile(plain, 'token', SECRET, [this.recipient]);
  }

  async commitEnv(files: Record<string, string>, message = 'change'): Promise<string> {
    const sha = this.server.commitFiles('env', files, { message });
    await this.sync();
    return sha;
  }

  async sync(): Promise<void> {
    const r = await syncRepo({ url: this.server.repoUrl('env'), branch: 'main', token: TOKEN }, { cacheDir: path.join(this.tmp.path, 'cache') });
    this.dir = r.dir;
    this.commit = r.commit;
  }

  load(): Promise<Environment> {
    return loadEnvironment(this.dir);
  }

  async deploy(stack: string, kind = 'push'): Promise<DeployOutcome> {
    const env = await this.load();
    const spec = env.stacks.find((s) => s.name === stack)!;
    const ctx = { env, sources: { environment: this.commit, catalogs: {} }, engines: new Engines(env), ledger: this.ledger, identities: [this.identity] };
    return deployStack(ctx, spec, { kind, why: `${kind} ${this.commit.slice(0, 7)}`, deliveryId: `delivery-${stack}` });
  }

  /** The git CLI, asynchronously: the server lives in this process. */
  async git(args: string[], cwd?: string): Promise<string> {
    const env = { PATH: process.env.PATH, HOME: this.tmp.path, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Ops Person', GIT_AUTHOR_EMAIL: 'ops@example.com', GIT_COMMITTER_NAME: 'Ops Person', GIT_COMMITTER_EMAIL: 'ops@example.com' };
    return (await promisify(execFile)('git', args, { cwd, env })).stdout;
  }

  async remoteHead(): Promise<string | undefined> {
    const out = await this.git(['ls-remote', this.server.authedUrl('env'), `refs/heads/${LEDGER}`]);
    return out.split('\t')[0] || undefined;
  }

  /** A person's clone of the environment repository with the ledger branch checked out and up to date. */
  async personClone(name = 'person'): Promise<string> {
    const dir = path.join(this.tmp.path, name);
    mkdirSync(dir, { recursive: true });
    await this.git(['clone', '--quiet', this.server.authedUrl('env'), dir]).catch(() => this.git(['fetch', '--quiet', 'origin'], dir));
    await this.git(['fetch', '--quiet', 'origin'], dir);
    await this.git(['checkout', '--quiet', '-B', LEDGER, `origin/${LEDGER}`], dir);
    return dir;
  }

  /** Image ID of every running container of the stack, keyed `host/name`. */
  async images(stack: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const h of ['h1', 'h2']) {
      const list = await this.gate.docker(h).listContainers({ filters: JSON.stringify({ label: [`berth.stack=${stack}`] }) });
      for (const c of list) out[`${h}/${c.Names[0].replace(/^\//, '')}`] = c.ImageID;
    }
    return out;
  }

  async imageId(host: string, ref: string): Promise<string> {
    return (await this.gate.docker(host).getImage(ref).inspect()).Id;
  }

  async dispose(): Promise<void> {
    await this.server?.close();
    this.tmp.remove();
  }
}

/**
 * The file's world, made before its tests and taken down after: `stacks` (name → web version) are deployable,
 * `extra` are names the tests add later; all are cleaned from the hosts before and after. Returns the getter.
 */
export function useLedgerWorld(gate: Gate, stacks: Record<string, string>, extra: string[] = []): () => LedgerWorld {
  const names = [...Object.keys(stacks), ...extra];
  let w: LedgerWorld | undefined;
  useHarnessStacks(gate, names, () => w?.dispose());
  before(async () => {
    if (!gate.ok) return;
    w = new LedgerWorld(gate);
    await w.start(stacks);
  });
  return () => w ?? assert.fail('the harness is not available');
}
