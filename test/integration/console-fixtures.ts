// The console's world: a git server holding an empty environment (host h1, a catalog folder, an age recipient),
// a catalog whose static-site asks for a password and whose README holds <script>, a users file with one
// person per role, and `berth serve --users` on it. Chromium (Debian's) is driven by playwright-core.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { chromium, type Browser } from 'playwright-core';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { startFakeForge, type FakeForge } from '../harness/fake-forge.ts';
import { dockerGate, isCI, removeLabeled, tempDir, type Gate } from '../harness/env.ts';
import { ensureImages, type ImageSpec } from '../harness/images.ts';
import { generateKey } from '../../lib/secrets.ts';
import { REPO_ROOT } from './converge-fixtures.ts';
import { Serve, TOKEN } from './serve-fixtures.ts';

export const STACK = 'console-site';
export const PORT = 18473;
export const PASSWORDS = { admin: 'admin-pw-4821', dora: 'dora-pw-7730', pete: 'pete-pw-1209', vic: 'vic-pw-5512' };
export const CHROMIUM = '/usr/bin/chromium';
const FORGE_TOKEN = 'console-forge-t0ken';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** The built-in static-site, plus a password its web service logs at start (to see it masked) and a hostile README. */
function writeCatalog(dir: string): void {
  cpSync(path.join(REPO_ROOT, 'templates', 'static-site'), path.join(dir, 'templates', 'static-site'), { recursive: true });
  const v = path.join(dir, 'templates', 'static-site', '0');
  const berth = readFileSync(path.join(v, 'berth.yml'), 'utf8') + [
    '  - variable: admin_password', '    label: Admin password', '    type: password', '    required: true', '    min_length: 8', '    group: Security', '',
  ].join('\n');
  writeFileSync(path.join(v, 'berth.yml'), berth);
  const compose = readFileSync(path.join(v, 'docker-compose.yml.hbs'), 'utf8')
    .replace('      SITE_TITLE: {{site_title}}', '      SITE_TITLE: {{site_title}}\n      ADMIN_PASSWORD: {{admin_password}}')
    .replace("'printf \"<h1>", "'echo \"web starting: $SITE_TITLE (admin password $ADMIN_PASSWORD)\"; printf \"<h1>");
  writeFileSync(path.join(v, 'docker-compose.yml.hbs'), compose);
  const readme = path.join(dir, 'templates', 'static-site', 'README.md');
  writeFileSync(readme, `${readFileSync(readme, 'utf8')}\n\nBeware of <script>window.__pwned = 1</script> in READMEs.\n`);
}

/** swarm-web: replicas of web:1 that log a message and a password at start (dnsrr: no IPVS on the test kernel). */
function writeSwarmTemplate(dir: string): void {
  const t = path.join(dir, 'templates', 'swarm-web');
  mkdirSync(path.join(t, '0'), { recursive: true });
  writeFileSync(path.join(t, 'config.yml'), stringify({ name: 'swarm-web', description: 'Web replicas for a Swarm' }));
  writeFileSync(path.join(t, '0', 'berth.yml'), stringify({ version: '1.0.0', questions: [
    { variable: 'message', type: 'string', default: 'hello' }, { variable: 'replicas', type: 'int', default: 2 },
    { variable: 'admin_password', type: 'password', required: true, min_length: 8 },
  ] }));
  writeFileSync(path.join(t, '0', 'docker-compose.yml.hbs'), `services:
  web:
    image: berth-test/web:1
    init: true
    stop_grace_period: 1s
    environment:
      MSG: "{{message}}"
      ADMIN_PASSWORD: "{{admin_password}}"
    command: [sh, -c, 'echo "swarm web starting: $MSG (admin password $ADMIN_PASSWORD)"; exec httpd -f -p 80 -h /www']
    deploy:
      replicas: {{replicas}}
      endpoint_mode: dnsrr
`);
}

export const NOTES_PORT = 18476;

/**
 * notes, in two versions for an upgrade without a terminal: 2.0.0 renames `greeting` to `message`, maps the
 * `mode` values to new names, and adds an API token Berth generates. Each version's page says what it runs with.
 */
function writeNotesTemplate(dir: string): void {
  const t = path.join(dir, 'templates', 'notes');
  mkdirSync(path.join(t, '0'), { recursive: true });
  mkdirSync(path.join(t, '1'), { recursive: true });
  writeFileSync(path.join(t, 'config.yml'), stringify({ name: 'notes', description: 'A notes page that learns to upgrade', category: 'Tools' }));
  // The notes live in a named volume: 1.0.0 writes them once, 2.0.0's start migrates them (so an upgrade
  // snapshots the volume first, and a rollback can take the data back too).
  const compose = (env: Record<string, string>, page: string, before = '') => `services:
  web:
    image: berth-test/web:1
    init: true
    stop_grace_period: 1s
    ports: ["${NOTES_PORT}:80"]
    environment:
${Object.entries(env).map(([k, v]) => `      ${k}: "{{${v}}}"`).join('\n')}
    volumes: [notes:/data]
    command: [sh, -c, '${before}mkdir -p /tmp/w && echo "${page} data=$(cat /data/db)" > /tmp/w/index.html && echo "notes up" && exec httpd -f -p 80 -h /tmp/w']
volumes:
  notes: {}
`;
  writeFileSync(path.join(t, '0', 'berth.yml'), stringify({ version: '1.0.0', questions: [
    { variable: 'greeting', label: 'Greeting', type: 'string', default: 'hello', required: true },
    { variable: 'mode', label: 'Mode', type: 'enum', options: ['fast', 'safe'], default: 'fast', required: true },
  ] }));
  writeFileSync(path.join(t, '0', 'docker-compose.yml.hbs'), compose({ GREETING: 'greeting', MODE: 'mode' }, 'notes v1: $GREETING $MODE', 'test -f /data/db || echo v1-notes > /data/db; '));
  writeFileSync(path.join(t, '1', 'berth.yml'), stringify({ version: '2.0.0', questions: [
    { variable: 'message', label: 'Message', type: 'string', default: 'hello', required: true },
    { variable: 'mode', label: 'Mode', type: 'enum', options: ['quick', 'careful'], default: 'quick', required: true },
    { variable: 'api_token', label: 'API token', type: 'password', required: true, generate: { length: 24, charset: 'alnum' } },
  ], migrations: [
    { rename: { from: 'greeting', to: 'message' } },
    { map: { variable: 'mode', values: { fast: 'quick', safe: 'careful' } } },
  ] }));
  writeFileSync(path.join(t, '1', 'README.md'), 'Greeting is now **message**; the modes are called quick and careful.\n');
  writeFileSync(path.join(t, '1', 'docker-compose.yml.hbs'), compose({ MESSAGE: 'message', MODE: 'mode', API_TOKEN: 'api_token' }, 'notes v2: $MESSAGE $MODE token:$n', 'n=$(printf %s "$API_TOKEN" | wc -c); echo "v2($(cat /data/db))" > /data/new && mv /data/new /data/db; '));
}

export class ConsoleWorld {
  private constructor(readonly git: GitServer, readonly forge: FakeForge, readonly tmp: { path: string; remove(): void }, readonly identity: string) {}

  /** `swarm`: the environment also declares the test Swarm (as `test`), and the catalog a template for it. */
  static async create(gate: Gate, opts: { swarm?: { manager: string }; notes?: boolean } = {}): Promise<ConsoleWorld> {
    const tmp = tempDir('berth-console-');
    const git = await startGitServer({ root: path.join(tmp.path, 'git'), token: TOKEN });
    const { identity, recipient } = await generateKey();
    const forge = await startFakeForge({ token: FORGE_TOKEN, gitlab: { project: 'ops/env', id: 7 }, branchExists: (b) => git.revParse('env', `refs/heads/${b}`) !== undefined });
    const w = new ConsoleWorld(git, forge, tmp, identity);
    const catalog = path.join(tmp.path, 'catalog');
    writeCatalog(catalog);
    if (opts.swarm) writeSwarmTemplate(catalog);
    if (opts.notes) writeNotesTemplate(catalog);
    git.createBareRepo('env');
    const berth = { catalogs: [{ name: 'vendor', path: catalog }], hosts: [{ name: 'h1', endpoint: gate.host('h1').dockerHost, labels: { role: 'web' } }],
      ...(opts.swarm ? { swarms: [{ name: 'test', managers: [opts.swarm.manager] }] } : {}),
      ...(opts.notes ? { snapshots: { helper_image: 'berth-test/busybox:1' } } : {}),
      forge: { type: 'gitlab', api_url: forge.url, project: 'ops/env', token_env: 'CONSOLE_FORGE_TOKEN' } };
    git.commitFiles('env', { 'berth.yml': stringify(berth), '.berth-recipients': `${recipient}\n` }, { message: 'empty environment' });
    const users = Object.entries({ admin: 'admin', dora: 'deployer', pete: 'proposer', vic: 'viewer' }).map(([name, role]) => ({
      name, email: `${name}@example.com`, role, password_hash: bcrypt.hashSync(PASSWORDS[name as keyof typeof PASSWORDS], 4),
    }));
    writeFileSync(path.join(tmp.path, 'users.yml'), stringify({ users }));
    return w;
  }

  serve(): Promise<Serve> {
    const args = ['serve', '--env', this.git.repoUrl('env'), '--env-token-env', 'SERVE_TEST_TOKEN', '--listen', '127.0.0.1:0', '--interval-seconds', '3600',
      '--cache-dir', path.join(this.tmp.path, 'cache'), '--deadline', '2m', '--users', path.join(this.tmp.path, 'users.yml')];
    return Serve.start(args, { SERVE_TEST_TOKEN: TOKEN, BERTH_AGE_KEY: this.identity, BERTH_SESSION_SECRET: 'a-test-session-secret-of-at-least-32-chars', CONSOLE_FORGE_TOKEN: FORGE_TOKEN });
  }

  /** git in the environment's bare repository on disk, e.g. `show main:stacks/x.yml`. */
  gitOut(...args: string[]): string {
    return execFileSync('git', ['--git-dir', path.join(this.git.root, 'env.git'), ...args], {
      encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  }

  async dispose(): Promise<void> {
    await this.forge.close();
    await this.git.close();
    this.tmp.remove();
  }
}

/**
 * A console test file's world on h1: the stack's containers removed before and after, its images there, then the
 * environment, `berth serve` and Chromium. Without Chromium the tests skip, except in CI where they must run.
 */
export async function useConsoleOnH1(o: { stack: string; images: ImageSpec[]; notes?: boolean }) {
  const gate = await dockerGate();
  const noBrowser = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`;
  const opts = gate.opts.skip || !noBrowser || isCI() ? gate.opts : { skip: noBrowser };
  const got: { world?: ConsoleWorld; serve?: Serve; browser?: Browser } = {};
  before(async () => {
    if (opts.skip) return;
    const h1 = gate.docker('h1');
    await removeLabeled(h1, `berth.stack=${o.stack}`);
    await ensureImages(h1, o.images);
    got.world = await ConsoleWorld.create(gate, { notes: o.notes ?? false });
    got.serve = await got.world.serve();
    got.browser = await launchBrowser();
  });
  after(async () => {
    await got.browser?.close();
    await got.serve?.stop();
    if (!opts.skip) await removeLabeled(gate.docker('h1'), `berth.stack=${o.stack}`);
    await got.world?.dispose();
  });
  return {
    opts,
    get world() { return got.world!; },
    get serve() { return got.serve!; },
    get browser() { return got.browser!; },
  };
}
