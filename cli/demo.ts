import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';

const BERTH_YML = `# The demo environment Berth made: the built-in catalog on this machine's Docker.
# Without a hosts: list Berth uses $DOCKER_HOST, else unix:///var/run/docker.sock.
catalogs:
  - name: builtin
    builtin: true
`;

const stackYml = (port: number) => `# The classic first stack. Change an answer and commit: berth demo redeploys it.
template: static-site
version: 1.0.0
answers:
  site_title: Hello from Berth
  scale: 2
  http_port: ${port}
`;

interface DemoOpts { dir: string; port: number; once?: boolean; listen: string; intervalSeconds: string }

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/**
 * Writes the demo environment once, as a git repository with one commit, so the demo is the real GitOps loop:
 * commits deploy, and the deploy ledger (branch berth/deployed) lives beside them. Later runs keep the user's edits.
 */
export async function ensureDemoEnvironment(dir: string, port: number): Promise<boolean> {
  const made = !(await exists(path.join(dir, 'berth.yml')));
  if (made) {
    await mkdir(path.join(dir, 'stacks'), { recursive: true });
    await writeFile(path.join(dir, 'berth.yml'), BERTH_YML);
    await writeFile(path.join(dir, 'stacks', 'static-site.yml'), stackYml(port));
  }
  if (!(await exists(path.join(dir, '.git')))) {
    const [{ default: git }, fs] = await Promise.all([import('isomorphic-git'), import('node:fs')]);
    await git.init({ fs, dir, defaultBranch: 'main' });
    for (const file of ['berth.yml', 'stacks/static-site.yml']) if (await exists(path.join(dir, file))) await git.add({ fs, dir, filepath: file });
    await git.commit({ fs, dir, message: 'Berth demo environment\n', author: { name: 'Berth demo', email: 'demo@berth.invalid' } });
  }
  return made;
}

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('run Berth on a demo environment repository: the built-in static-site on the local Docker engine; commits redeploy, a revert rolls back')
    .option('--dir <dir>', 'where to keep the demo environment repository', process.env.BERTH_DEMO_DIR ?? 'berth-demo')
    .option('--port <port>', 'host port of the site (first run only)', (v) => Number.parseInt(v, 10), 8080)
    .option('--once', 'deploy once and exit instead of watching the repository')
    .option('--listen <host:port>', 'address of berth serve (status, metrics, webhooks)', '127.0.0.1:7480')
    .option('--interval-seconds <n>', 'how often to look for new commits', '3')
    .action(async (opts: DemoOpts) => {
      const dir = path.resolve(opts.dir);
      if (await ensureDemoEnvironment(dir, opts.port)) process.stderr.write(`made the demo environment repository in ${dir}\n`);
      await checkEngines(dir);
      if (opts.once) return deployOnce(dir, opts);
      const [host, port] = [opts.listen.replace(/:\d+$/, ''), opts.listen.replace(/^.*:/, '')];
      const rel = path.relative(process.cwd(), dir) || '.';
      process.stdout.write([
        `Berth watches ${rel} (every ${opts.intervalSeconds}s) and deploys static-site to the local Docker engine.`,
        `  open        http://localhost:${opts.port}/   (the site, once deployed)`,
        `  status      http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/api/stacks`,
        `  redeploy    cd ${rel} && sed -i 's/^  site_title: .*/  site_title: Hello again/' stacks/static-site.yml && git commit -qam "New title"`,
        `  history     npx berth history static-site --env ${rel}`,
        `  roll back   npx berth rollback static-site --env ${rel}   (a git revert of the last deploy on branch berth/deployed)`,
        'Ctrl-C stops Berth; the stack keeps running.',
        '',
      ].join('\n'));
      const { serve } = await import('./serve-run.ts');
      await serve({
        env: dir, envBranch: 'main', cacheDir: path.join(dir, '.git', 'berth-cache'), ledgerBranch: 'berth/deployed',
        listen: opts.listen, interval: '* * * * *', intervalSeconds: opts.intervalSeconds,
        gitlabSecretEnv: 'BERTH_GITLAB_WEBHOOK_SECRET', githubSecretEnv: 'BERTH_GITHUB_WEBHOOK_SECRET', deadline: '10m', concurrency: '4',
      });
    });
}

/** Before serving: an engine that does not answer is one clear error, not a retry loop (cli/demo-engine.ts). */
async function checkEngines(dir: string): Promise<void> {
  const [{ loadEnvironment }, { DockerHostDriver }, { requireEngines }] = await Promise.all([
    import('../environment/environment.ts'), import('../engines/standalone/driver.ts'), import('./demo-engine.ts'),
  ]);
  const env = await loadEnvironment(dir);
  await requireEngines(env.hosts, (h) => new DockerHostDriver(h).ping());
}

/** `berth demo --once`: the same deploy as serve's and apply's (through the ledger), then where to look. */
async function deployOnce(dir: string, opts: DemoOpts): Promise<void> {
  const [{ loadEnvironment }, { deployStack }, { pinoSink, ttySink }, { createLogger }, { cliContext }] = await Promise.all([
    import('../environment/environment.ts'), import('../controller/deploy.ts'), import('../engines/events.ts'), import('../lib/log.ts'), import('./context.ts'),
  ]);
  const env = await loadEnvironment(dir);
  const log = createLogger();
  const events = process.stderr.isTTY ? ttySink(process.stderr) : pinoSink(log);
  const ctx = { ...(await cliContext(env, log)), events };
  for (const spec of env.stacks) {
    const o = await deployStack(ctx, spec, { kind: 'cli', why: 'cli' });
    if (o.error || o.outcome === 'failed') {
      const why = o.error?.message ?? Object.entries(o.result?.hosts ?? {}).map(([h, r]) => `${h}: ${r.error ?? r.outcome}`).join('; ');
      process.stderr.write(`stack ${spec.name} failed: ${why}\n`);
      process.exitCode = 1;
      continue;
    }
    process.stdout.write(`stack ${spec.name} ${o.outcome === 'unchanged' ? 'already up to date: nothing changed' : 'deployed'}\n`);
    if (o.desired && o.observed) for (const e of ctx.engines.for(spec).status(o.desired, o.observed).endpoints) process.stdout.write(`open ${e.url}\n`);
  }
  process.stdout.write(`commit a change in ${opts.dir} and run berth demo --once again to redeploy; berth history static-site --env ${opts.dir} lists the deploys\n`);
}
