// A Swarm world: a catalog and an environment repository (git, so deploys are recorded in the ledger) whose
// stacks target the test Swarm, reconciled through deployStack exactly as serve and `berth apply` do.
import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { deployStack, type DeployOutcome } from '../../controller/deploy.ts';
import { cliContext } from '../../cli/context.ts';
import { memorySink } from '../../engines/events.ts';
import { loadEnvironment } from '../../environment/environment.ts';
import type { SwarmEngine } from '../../engines/swarm/engine.ts';
import { tempDir } from '../harness/env.ts';
import type { TestSwarm } from '../harness/swarm.ts';
import { writeCatalog } from './converge-fixtures.ts';

export const COMPOSE = `services:
  web:
    image: berth-test/web:{{version}}
    init: true
    stop_grace_period: 1s
    environment:
      MSG: "{{msg}}"
    healthcheck:
      test: ["CMD", "sh", "-c", "{{health}}"]
      interval: 1s
      timeout: 2s
      retries: 2
    networks: [back]
    deploy:
      replicas: {{replicas}}
      endpoint_mode: dnsrr
      placement:
        constraints: [node.labels.berth-test.node != bsw1]
      update_config:
        parallelism: 1
        delay: 0s
        monitor: 3s
        failure_action: rollback
  probe:
    image: berth-test/web:1
    init: true
    stop_grace_period: 1s
    networks: [back]
    deploy:
      endpoint_mode: dnsrr
      placement:
        constraints: [node.labels.berth-test.node == bsw1]
networks:
  back: {}
`;

const QUESTIONS = [
  { variable: 'version', type: 'string', default: '1' },
  { variable: 'msg', type: 'string', default: 'hello' },
  { variable: 'health', type: 'string', default: 'true' },
  { variable: 'replicas', type: 'int', default: 2 },
];

/** Which template the world's stacks use: the test's own `tiers` (default) or one of the built-in catalog. */
export interface WorldTemplate { template: string; version: string }
const TIERS: WorldTemplate = { template: 'tiers', version: '1.0.0' };

export class SwarmWorld {
  readonly tmp = tempDir('berth-swarm-');
  readonly envDir = path.join(this.tmp.path, 'env');

  constructor(readonly swarm: TestSwarm, readonly uses: WorldTemplate = TIERS, builtin = false) {
    if (!builtin) writeCatalog(path.join(this.tmp.path, 'catalog'), { tiers: { description: 'web and a probe on an overlay', versions: { '1.0.0': { questions: QUESTIONS, compose: COMPOSE } } } });
    mkdirSync(path.join(this.envDir, 'stacks'), { recursive: true });
    writeFileSync(path.join(this.envDir, 'berth.yml'), stringify({
      catalogs: [builtin ? { name: 'builtin', builtin: true } : { name: 'test', path: '../catalog' }], hosts: [],
      swarms: [{ name: 'test', managers: ['unix:///run/berth-test/no-such-manager.sock', swarm.manager] }],
    }));
    this.git('init', '-q', '-b', 'main');
  }

  git(...args: string[]): string {
    return this.gitIn(this.envDir, ...args);
  }

  /** git as a person runs it, in another work tree of the environment repository (e.g. the ledger branch's). */
  gitIn(cwd: string, ...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });
  }

  /** Writes the stack file and commits it (a deploy records the commit it came from). */
  writeStack(name: string, answers: Record<string, unknown>): void {
    writeFileSync(path.join(this.envDir, 'stacks', `${name}.yml`), stringify({ ...this.uses, swarm: 'test', answers }));
    this.git('add', '-A');
    this.git('commit', '-qm', `stack ${name}: ${JSON.stringify(answers)}`);
  }

  async deploy(stack: string, why = 'test', dryRun = false): Promise<DeployOutcome & { events: string[] }> {
    const env = await loadEnvironment(this.envDir);
    const spec = env.stacks.find((s) => s.name === stack)!;
    const sink = memorySink();
    const ctx = { ...(await cliContext(env)), events: sink };
    const o = await deployStack(ctx, spec, { kind: 'timer', why }, { dryRun });
    return { ...o, events: sink.events.map((e) => `${e.service ?? ''} ${e.action} ${e.status}: ${e.message ?? ''}`) };
  }

  async engine(): Promise<SwarmEngine> {
    const env = await loadEnvironment(this.envDir);
    return (await cliContext(env)).engines.swarm('test');
  }

  /** Service name → version index, for the stack. */
  async versions(stack: string): Promise<Record<string, number>> {
    const services = await this.manager().listServices({ filters: JSON.stringify({ label: [`com.docker.stack.namespace=${stack}`] }) });
    return Object.fromEntries(services.map((s) => [s.Spec!.Name!, s.Version!.Index!]));
  }

  manager() {
    return this.swarm.nodes[0].docker;
  }

  /** Runs a command in the running task of `service` on `node`. */
  async exec(node: string, service: string, cmd: string[]): Promise<string> {
    const docker = this.swarm.node(node).docker;
    const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.name=${service}`], status: ['running'] }) });
    if (!c) throw new Error(`no running task of ${service} on ${node}`);
    const exec = await docker.getContainer(c.Id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((resolve) => stream.on('end', resolve));
    const buf = Buffer.concat(chunks);
    const out: Buffer[] = [];
    for (let i = 0; i + 8 <= buf.length; i += 8 + buf.readUInt32BE(i + 4)) out.push(buf.subarray(i + 8, i + 8 + buf.readUInt32BE(i + 4)));
    return Buffer.concat(out).toString('utf8');
  }

  async remove(stack: string): Promise<void> {
    const docker = this.manager();
    const filters = JSON.stringify({ label: [`com.docker.stack.namespace=${stack}`] });
    for (const s of await docker.listServices({ filters })) await docker.getService(s.ID).remove().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1500));
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
    for (const c of await docker.listConfigs({ filters })) await docker.getConfig(c.ID).remove().catch(() => undefined);
    for (const c of await docker.listSecrets({ filters })) await docker.getSecret(c.ID).remove().catch(() => undefined);
    // The stack's volumes were made on each node by its tasks; they go once the tasks' containers have.
    for (const node of this.swarm.nodes) {
      const left = () => node.docker.listContainers({ all: true, filters }).then((l) => l.length, () => 0);
      for (let i = 0; i < 40 && (await left()); i++) await new Promise((r) => setTimeout(r, 250));
      const { Volumes } = await node.docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }));
      for (const v of Volumes ?? []) await node.docker.getVolume(v.Name).remove().catch(() => undefined);
    }
  }

  cleanup(): void {
    this.tmp.remove();
  }
}

/**
 * A SwarmWorld for one test file's stack, made before its tests (the stack removed first: a killed run may have
 * left it) and removed after them; `world()` is undefined only when the test Swarm is missing.
 */
export function useSwarmWorld(found: { swarm?: TestSwarm }, stack: string, beforeRemove?: () => void, make = (swarm: TestSwarm) => new SwarmWorld(swarm)): () => SwarmWorld {
  let world: SwarmWorld | undefined;
  before(async () => {
    if (!found.swarm) return;
    world = make(found.swarm);
    await world.remove(stack);
  });
  after(async () => {
    beforeRemove?.();
    await world?.remove(stack);
    world?.cleanup();
  });
  return () => world!;
}
