// `berth serve` driven the way an operator runs it: an environment repository on the harness git server (token
// auth), a catalog folder, `node bin/berth.js serve` as a child process, signed webhooks over HTTP, and every
// assertion made on the harness hosts, /api/stacks and /metrics.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import path from 'node:path';
import { stringify } from 'yaml';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { tempDir, waitFor, type Gate } from '../harness/env.ts';
import { BERTH_BIN, HEALTH, REPO_ROOT, writeCatalog } from './converge-fixtures.ts';

export const TOKEN = 'serve-t0ken-9f8e7d';
export const GITHUB_SECRET = 'gh-hook-secret-3b1c';
export const GITLAB_SECRET = 'gl-hook-secret-77aa';

/** A web service whose httpd starts `start_delay` seconds late, so a rollout has a window to interrupt. */
const WEB = `services:
  web:
    image: berth-test/web:{{web_version}}
    command: [sh, -c, "sleep {{start_delay}}; exec httpd -f -p 80 -h /www"]
    healthcheck:
${HEALTH('http://127.0.0.1/', '500ms', 40)}    stop_grace_period: 1s
    deploy:
      replicas: {{replicas}}
      update_config:
        order: {{order}}
`;

export interface WebAnswers {
  web_version?: string;
  replicas?: number;
  start_delay?: number;
  /** The rolling update's order (default start-first). */
  order?: 'start-first' | 'stop-first';
}

/** A git server holding `env.git` (berth.yml naming host h1 and a catalog folder), and helpers to push to it. */
export class ServeWorld {
  readonly catalogDir: string;
  readonly url: string;
  private constructor(
    readonly gate: Gate,
    readonly stack: string,
    readonly git: GitServer,
    private readonly tmp: { path: string; remove(): void },
  ) {
    this.catalogDir = path.join(tmp.path, 'catalog');
    this.url = git.repoUrl('env');
  }

  /** `endpoint`: how serve reaches h1 (default its socket; a test may put a proxy in between). */
  static async create(gate: Gate, stack: string, answers: WebAnswers = {}, opts: { endpoint?: string } = {}): Promise<ServeWorld> {
    const tmp = tempDir('berth-serve-');
    const git = await startGitServer({ root: path.join(tmp.path, 'git'), token: TOKEN });
    const w = new ServeWorld(gate, stack, git, tmp);
    writeCatalog(w.catalogDir, {
      web: {
        description: 'One web service',
        versions: {
          '1.0.0': {
            questions: [
              { variable: 'web_version', type: 'string', default: '1' },
              { variable: 'replicas', type: 'int', default: 1 },
              { variable: 'start_delay', type: 'int', default: 0 },
              { variable: 'order', type: 'enum', options: ['start-first', 'stop-first'], default: 'start-first' },
            ],
            compose: WEB,
          },
        },
      },
    });
    git.createBareRepo('env');
    const berth = { catalogs: [{ name: 'test', path: w.catalogDir }], hosts: [{ name: 'h1', endpoint: opts.endpoint ?? gate.host('h1').dockerHost }] };
    git.commitFiles('env', { 'berth.yml': stringify(berth), [`stacks/${stack}.yml`]: w.stackYaml(answers) }, { message: 'initial environment' });
    return w;
  }

  stackYaml(answers: WebAnswers): string {
    return stringify({ template: 'web', version: '1.0.0', answers });
  }

  /** Commits new answers to main (on disk, as a push would leave it); returns the commit. */
  push(answers: WebAnswers, message = 'change answers'): string {
    return this.git.commitFiles('env', { [`stacks/${this.stack}.yml`]: this.stackYaml(answers) }, { message });
  }

  /** `node bin/berth.js serve` against this world's environment, on a free loopback port. */
  serve(opts: { intervalSeconds?: number; cacheDir?: string; extraEnv?: NodeJS.ProcessEnv } = {}): Promise<Serve> {
    const args = [
      'serve', '--env', this.url, '--env-token-env', 'SERVE_TEST_TOKEN', '--listen', '127.0.0.1:0',
      '--interval-seconds', String(opts.intervalSeconds ?? 3600), '--cache-dir', opts.cacheDir ?? path.join(this.tmp.path, 'cache'), '--deadline', '2m',
    ];
    return Serve.start(args, {
      SERVE_TEST_TOKEN: TOKEN, BERTH_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, BERTH_GITLAB_WEBHOOK_SECRET: GITLAB_SECRET, ...opts.extraEnv,
    });
  }

  /** The containers of the stack on h1, all states. */
  async containers(): Promise<Array<{ id: string; name: string; image: string; state: string }>> {
    const list = await this.gate.docker('h1').listContainers({ all: true, filters: JSON.stringify({ label: [`berth.stack=${this.stack}`] }) });
    return list.map((c) => ({ id: c.Id, name: c.Names[0].replace(/^\//, ''), image: c.Image, state: c.State })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Polls h1 until exactly `replicas` containers run `berth-test/web:<version>`, and nothing else of the stack exists. */
  async converged(version: string, replicas = 1, timeoutMs = 60_000): Promise<void> {
    await waitFor(async () => {
      const cs = await this.containers();
      return cs.length === replicas && cs.every((c) => c.state === 'running' && c.image === `berth-test/web:${version}`);
    }, { timeoutMs, intervalMs: 250, what: `${this.stack} on h1 to run ${replicas} × web:${version} (have ${JSON.stringify(await this.containers())})` });
  }

  /** Commits of the ledger branch on the server that touch this stack, newest first (git CLI on disk, async). */
  ledger(): Promise<Array<{ sha: string; message: string }>> {
    const args = ['--git-dir', path.join(this.git.root, 'env.git'), 'log', '--format=%H%x00%B%x01', 'berth/deployed', '--', `stacks/${this.stack}`];
    return new Promise((resolve) => {
      execFile('git', args, { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } }, (err, stdout) => {
        if (err) return resolve([]); // no ledger branch yet
        resolve(stdout.split('\x01').map((e) => e.trim()).filter(Boolean).map((e) => {
          const [sha, message] = e.split('\x00');
          return { sha, message };
        }));
      });
    });
  }

  /** The server's ledger once serve's background push has brought `commit` (a stack's deployedCommit) there. */
  async ledgerUpTo(commit: string | null, timeoutMs = 30_000): Promise<Array<{ sha: string; message: string }>> {
    return waitFor(async () => {
      const l = await this.ledger();
      return l[0]?.sha === commit && l;
    }, { timeoutMs, intervalMs: 100, what: `${commit?.slice(0, 7)} pushed to the server's ledger` });
  }

  async dispose(): Promise<void> {
    await this.git.close();
    this.tmp.remove();
  }

  // ---------- webhook bodies ----------

  githubPush(after: string): { headers: Record<string, string>; body: string } {
    const body = JSON.stringify({
      ref: 'refs/heads/main', before: '0'.repeat(39) + '1', after, deleted: false,
      repository: { full_name: 'berth/env', clone_url: this.url, html_url: this.url.replace(/\.git$/, '') },
    });
    return { body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': sign(body) } };
  }

  gitlabPush(after: string): { headers: Record<string, string>; body: string } {
    const body = JSON.stringify({
      object_kind: 'push', ref: 'refs/heads/main', before: '0'.repeat(39) + '1', after,
      project: { path_with_namespace: 'berth/env', git_http_url: this.url, web_url: this.url.replace(/\.git$/, '') },
    });
    return { body, headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': GITLAB_SECRET, 'idempotency-key': randomUUID() } };
  }
}

export function sign(body: string, secret = GITHUB_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A running `berth serve`: its address, its JSON log lines, and ways to end it. */
export class Serve {
  readonly logs: Array<Record<string, unknown>> = [];
  private constructor(readonly proc: ChildProcess, readonly url: string) {}

  static start(args: string[], env: NodeJS.ProcessEnv): Promise<Serve> {
    const proc = spawn(process.execPath, [BERTH_BIN, ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, BERTH_LOG_FORMAT: 'json', BERTH_LOG_LEVEL: 'info', ...env },
    });
    const lines: Array<Record<string, unknown>> = [];
    let rest = '';
    let raw = '';
    return new Promise((resolve, reject) => {
      let serve: Serve | undefined;
      proc.stderr!.on('data', (chunk: Buffer) => {
        rest += chunk.toString('utf8');
        const parts = rest.split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          if (process.env.BERTH_TEST_VERBOSE) process.stderr.write(`[serve] ${line}\n`);
          let entry: Record<string, unknown>;
          try {
            entry = JSON.parse(line) as Record<string, unknown>;
          } catch {
            raw += `${line}\n`;
            continue;
          }
          (serve?.logs ?? lines).push(entry);
          if (!serve && typeof entry.address === 'string') {
            serve = new Serve(proc, entry.address);
            serve.logs.push(...lines);
            resolve(serve);
          }
        }
      });
      proc.once('exit', (code, signal) => {
        if (!serve) reject(new Error(`berth serve exited (${code ?? signal}) before listening:\n${raw}${lines.map((l) => JSON.stringify(l)).join('\n')}`));
      });
    });
  }

  get(p: string): Promise<Response> {
    return fetch(`${this.url}${p}`);
  }

  async json<T = unknown>(p: string): Promise<T> {
    return (await (await this.get(p)).json()) as T;
  }

  hook(forge: 'github' | 'gitlab', req: { headers: Record<string, string>; body: string | Buffer }): Promise<Response> {
    return fetch(`${this.url}/hooks/${forge}`, { method: 'POST', headers: req.headers, body: typeof req.body === 'string' ? req.body : new Uint8Array(req.body) });
  }

  /** Metrics as `name{labels}` → value (labels as Prometheus prints them). */
  async metrics(): Promise<Map<string, number>> {
    const text = await (await this.get('/metrics')).text();
    return parseMetrics(text);
  }

  /** SIGTERM and wait; SIGKILL if it does not exit in time. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode;
    const exited = new Promise<number | null>((r) => this.proc.once('exit', (code) => r(code)));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async kill9(): Promise<void> {
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Sum of a metric's series whose labels include every given pair. */
export function metric(all: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of all) {
    if (!(key === name || key.startsWith(`${name}{`))) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}
