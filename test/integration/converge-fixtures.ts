// A catalog and an environment written to a temp folder, driven the way operators drive Berth: through
// loadEnvironment + reconcileStack, or through `node bin/berth.js` as a child process. Used by the converge
// acceptance tests, which assert on what the engines of the harness hosts really run.
import { after, before } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type Docker from 'dockerode';
import { loadEnvironment, type Environment } from '../../environment/environment.ts';
import { memorySink, type BerthEvent } from '../../engines/events.ts';
import { driversFor, reconcileStack, type StackOutcome } from '../../controller/reconcile.ts';
import { removeLabeled, tempDir, type Gate } from '../harness/env.ts';
import { ensureImages } from '../harness/images.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BERTH_BIN = path.join(REPO_ROOT, 'bin', 'berth.js');

// ---------- the catalog ----------

export interface VersionDef {
  description?: string;
  /** Question maps as berth.yml has them (variable, type, default, …). */
  questions?: Record<string, unknown>[];
  /** The text of docker-compose.yml.hbs. */
  compose: string;
}

export interface TemplateDef {
  description: string;
  versions: Record<string, VersionDef>;
}

/** Writes `<dir>/templates/<name>/{config.yml, <version>/{berth.yml, docker-compose.yml.hbs}}`. */
export function writeCatalog(dir: string, templates: Record<string, TemplateDef>): void {
  for (const [name, t] of Object.entries(templates)) {
    const tdir = path.join(dir, 'templates', name);
    mkdirSync(tdir, { recursive: true });
    writeFileSync(path.join(tdir, 'config.yml'), stringify({ name, description: t.description }));
    for (const [version, v] of Object.entries(t.versions)) {
      const vdir = path.join(tdir, version);
      mkdirSync(vdir, { recursive: true });
      writeFileSync(path.join(vdir, 'berth.yml'), stringify({ version, description: v.description ?? `${name} ${version}`, questions: v.questions ?? [] }));
      writeFileSync(path.join(vdir, 'docker-compose.yml.hbs'), v.compose);
    }
  }
}

/** The same healthcheck everywhere: busybox wget against the httpd of berth-test/web:N. */
export const HEALTH = (url = 'http://127.0.0.1/', interval = '500ms', retries = 3) =>
  `      test: ["CMD-SHELL", "wget -q -O /dev/null ${url}"]\n      interval: ${interval}\n      timeout: 2s\n      retries: ${retries}\n`;

const sleeper = (extra = '') => `    image: berth-test/busybox:1
    command: [sleep, "3600"]
    stop_grace_period: 1s
${extra}`;

/** The test catalog: small templates, each exercising one part of converging. */
export const TEMPLATES: Record<string, TemplateDef> = {
  // Placement: == and != constraints, global mode, replicas spread round-robin.
  placed: {
    description: 'Services placed by host labels',
    versions: {
      '1.0.0': {
        questions: [{ variable: 'web_replicas', type: 'int', default: 3, min: 0 }],
        compose: `services:
  db:
${sleeper(`    deploy:
      placement:
        constraints: [node.labels.role == db]
`)}  web:
    image: berth-test/web:1
    stop_grace_period: 1s
    deploy:
      replicas: {{web_replicas}}
      placement:
        constraints: [node.labels.role == web]
  agent:
${sleeper(`    deploy:
      mode: global
`)}  edge:
${sleeper(`    deploy:
      mode: global
      placement:
        constraints: [node.labels.role != db]
`)}  batch:
${sleeper(`    deploy:
      replicas: 2
      placement:
        constraints: [node.hostname != h1]
`)}`,
      },
    },
  },

  // The everyday stack: a web service with a healthcheck, a worker, and an optional cache with its own
  // network and volume (toggled by an answer, to make orphans).
  app: {
    description: 'Web, worker and an optional cache',
    versions: {
      '1.0.0': {
        questions: [
          { variable: 'web_version', type: 'string', default: '1' },
          { variable: 'web_replicas', type: 'int', default: 2, min: 0 },
          { variable: 'worker_replicas', type: 'int', default: 1, min: 0 },
          { variable: 'worker_mode', type: 'string', default: 'fast' },
          { variable: 'with_cache', type: 'boolean', default: true },
        ],
        compose: `services:
  web:
    image: berth-test/web:{{web_version}}
    healthcheck:
${HEALTH()}    stop_grace_period: 1s
    deploy:
      replicas: {{web_replicas}}
      placement:
        constraints: [node.labels.role == web]
  worker:
${sleeper(`    environment:
      MODE: {{worker_mode}}
    deploy:
      replicas: {{worker_replicas}}
      placement:
        constraints: [node.labels.role == web]
`)}{{#if with_cache}}
  cache:
${sleeper(`    networks: [backend]
    volumes:
      - cache_data:/data
    deploy:
      placement:
        constraints: [node.labels.role == db]
`)}{{/if}}
networks:
  backend: {}
volumes:
  cache_data: {}
`,
      },
    },
  },

  // depends_on across hosts: app (on the web hosts) waits for db (on h3) to be healthy; db's httpd only
  // starts after 3 seconds, so nothing can be healthy before then.
  deps: {
    description: 'A dependency that takes a while to become healthy',
    versions: {
      '1.0.0': {
        compose: `services:
  db:
    image: berth-test/web:1
    command: [sh, -c, "sleep 3; exec httpd -f -p 80 -h /www"]
    healthcheck:
${HEALTH('http://127.0.0.1/', '1s', 30)}    stop_grace_period: 1s
    deploy:
      placement:
        constraints: [node.labels.role == db]
  app:
${sleeper(`    depends_on:
      db:
        condition: service_healthy
    deploy:
      replicas: 2
      placement:
        constraints: [node.labels.role == web]
`)}`,
      },
    },
  },

  // Rolling updates: 1.0.0 takes the web image version as an answer; 2.0.0 ships web:2 with a healthcheck
  // that can never pass (the page does not exist), so its rollout must be undone.
  site: {
    description: 'A web service updated in place',
    versions: {
      '1.0.0': {
        questions: [{ variable: 'web_version', type: 'string', default: '1' }],
        compose: `services:
  web:
    image: berth-test/web:{{web_version}}
    healthcheck:
${HEALTH()}    stop_grace_period: 1s
    deploy:
      replicas: 2
      placement:
        constraints: [node.labels.role == web]
      update_config:
        parallelism: 1
        order: stop-first
        failure_action: rollback
        monitor: 5s
`,
      },
      '2.0.0': {
        compose: `services:
  web:
    image: berth-test/web:2
    healthcheck:
${HEALTH('http://127.0.0.1/healthz')}    stop_grace_period: 1s
    deploy:
      replicas: 2
      placement:
        constraints: [node.labels.role == web]
      update_config:
        parallelism: 1
        order: stop-first
        failure_action: rollback
        monitor: 5s
`,
      },
    },
  },
};

// ---------- the environment ----------

export interface HostDef {
  name: string;
  endpoint: string;
  labels: Record<string, string>;
}

/** h1 {role: web}, h2 {role: web}, h3 {role: db} at their unix sockets. */
export function harnessHosts(gate: Gate): HostDef[] {
  const labels: Record<string, string> = { h1: 'web', h2: 'web', h3: 'db' };
  return ['h1', 'h2', 'h3'].map((name) => ({ name, endpoint: gate.host(name).dockerHost, labels: { role: labels[name] } }));
}

export interface StackDef {
  template: string;
  version: string;
  answers?: Record<string, unknown>;
  hosts?: Record<string, string>;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Replica {
  host: string;
  id: string;
  name: string;
  service: string;
  number: number;
  state: string;
  startedAt: string;
  info: Docker.ContainerInspectInfo;
}

/**
 * One temp folder holding `catalog/` and `env/`. Every method re-reads the folder, as a fresh `berth apply`
 * would, so a test changes the environment by rewriting a stack file and reconciling again.
 */
export class World {
  readonly root: string;
  readonly catalogDir: string;
  readonly envDir: string;
  private readonly tmp: { path: string; remove(): void };

  constructor(
    readonly gate: Gate,
    readonly hosts: HostDef[] = harnessHosts(gate),
    templates: Record<string, TemplateDef> = TEMPLATES,
  ) {
    this.tmp = tempDir('berth-converge-');
    this.root = this.tmp.path;
    this.catalogDir = path.join(this.root, 'catalog');
    this.envDir = path.join(this.root, 'env');
    writeCatalog(this.catalogDir, templates);
    mkdirSync(path.join(this.envDir, 'stacks'), { recursive: true });
    writeFileSync(path.join(this.envDir, 'berth.yml'), stringify({ catalogs: [{ name: 'test', path: '../catalog' }], hosts: hosts }));
  }

  stackFile(name: string): string {
    return path.join(this.envDir, 'stacks', `${name}.yml`);
  }

  writeStack(name: string, def: StackDef): void {
    writeFileSync(this.stackFile(name), stringify({ template: def.template, version: def.version, answers: def.answers ?? {}, ...(def.hosts ? { hosts: def.hosts } : {}) }));
  }

  removeStack(name: string): void {
    rmSync(this.stackFile(name), { force: true });
  }

  load(): Promise<Environment> {
    return loadEnvironment(this.envDir);
  }

  /** desired → observe → plan → execute for one stack, with fresh drivers, as `berth apply STACK` does. */
  async reconcile(stack: string, opts: { dryRun?: boolean } = {}): Promise<StackOutcome & { events: BerthEvent[] }> {
    const env = await this.load();
    const spec = env.stacks.find((s) => s.name === stack);
    if (!spec) throw new Error(`no stack ${stack} in ${this.envDir}`);
    const sink = memorySink();
    const out = await reconcileStack(env, spec, { why: 'test', drivers: driversFor(env.hosts), events: sink, dryRun: opts.dryRun });
    return { ...out, events: sink.events };
  }

  /** `node bin/berth.js ARGS` with `--env` pointing here; never throws on a non-zero exit. */
  cli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    return runBerth([...args, '--env', this.envDir], opts);
  }

  /** Every container of the stack on the harness hosts of this world (unreachable ones skipped), inspected. */
  async replicas(stack: string): Promise<Replica[]> {
    const out: Replica[] = [];
    for (const h of this.hosts) {
      if (!['h1', 'h2', 'h3'].includes(h.name)) continue;
      const docker = this.gate.docker(h.name);
      const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${stack}`] }) });
      for (const c of list) {
        const info = await docker.getContainer(c.Id).inspect();
        out.push({
          host: h.name, id: c.Id, name: info.Name.replace(/^\//, ''), service: c.Labels['berth.service'], number: Number(c.Labels['berth.number']),
          state: info.State.Status, startedAt: info.State.StartedAt, info,
        });
      }
    }
    return out.sort((a, b) => a.service.localeCompare(b.service) || a.number - b.number || a.host.localeCompare(b.host));
  }

  /** `service#number@host` → `id startedAt`: equal snapshots mean nothing was touched. */
  async snapshot(stack: string): Promise<Record<string, string>> {
    return Object.fromEntries((await this.replicas(stack)).map((r) => [`${r.service}#${r.number}@${r.host}`, `${r.id} ${r.startedAt}`]));
  }

  dispose(): void {
    this.tmp.remove();
  }
}

export function runBerth(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BERTH_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, BERTH_LOG_LEVEL: 'warn', ...opts.env },
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(Object.assign(err, { stdout, stderr }));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

// ---------- set-up and clean-up ----------

export const HARNESS_HOSTS = ['h1', 'h2', 'h3'];

export async function prepareImages(gate: Gate): Promise<void> {
  await Promise.all(HARNESS_HOSTS.map((h) => ensureImages(gate.docker(h))));
}

/**
 * A test file's stacks: their leftovers removed and the harness images loaded before its tests; after them,
 * `teardown` (stop what could recreate containers, close servers) and the stacks removed again.
 */
export function useHarnessStacks(gate: Gate, stacks: string[], teardown?: () => unknown): void {
  before(async () => {
    if (!gate.ok) return;
    await cleanStacks(gate, stacks);
    await prepareImages(gate);
  });
  after(async () => {
    await teardown?.();
    await cleanStacks(gate, stacks);
  });
}

/** Why a reconcile did not converge: its error, each failed host and each failed step, one per line. */
export function failures(o: StackOutcome & { events: BerthEvent[] }): string {
  const events = o.events.filter((e) => e.status === 'failed').map((e) => `${e.host} ${e.service ?? ''}#${e.number ?? ''} ${e.action}: ${e.message}`);
  return [o.error?.message, ...Object.entries(o.result?.hosts ?? {}).map(([h, r]) => r.error && `${h}: ${r.error}`), ...events].filter(Boolean).join('\n');
}

/** Containers, networks and volumes of the stacks, on every harness host (by Berth's label and compose's). */
export async function cleanStacks(gate: Gate, stacks: string[]): Promise<void> {
  if (!gate.ok) return;
  for (const h of HARNESS_HOSTS) {
    const docker = gate.docker(h);
    for (const s of stacks) {
      await removeLabeled(docker, `berth.stack=${s}`).catch(() => {});
      await removeLabeled(docker, `com.docker.compose.project=${s}`).catch(() => {});
    }
  }
}

/** Group replicas as `host: [service#number, …]` for compact placement assertions. */
export function layout(replicas: Replica[], service?: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of replicas) if (!service || r.service === service) (out[r.host] ??= []).push(`${r.service}#${r.number}`);
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}
