import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';

const BERTH_YML = `# The demo environment Berth made: the built-in catalog on this machine's Docker.
# Without a hosts: list Berth uses $DOCKER_HOST, else unix:///var/run/docker.sock.
catalogs:
  - name: builtin
    builtin: true
`;

const stackYml = (port: number) => `# The classic first stack. Change an answer and run \`berth demo\` (or \`berth apply\`) again.
template: static-site
version: 1.0.0
answers:
  site_title: Hello from Berth
  scale: 2
  http_port: ${port}
`;

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Writes the demo environment once; later runs keep the user's edits. */
export async function ensureDemoEnvironment(dir: string, port: number): Promise<boolean> {
  if (await exists(path.join(dir, 'berth.yml'))) return false;
  await mkdir(path.join(dir, 'stacks'), { recursive: true });
  await writeFile(path.join(dir, 'berth.yml'), BERTH_YML);
  await writeFile(path.join(dir, 'stacks', 'static-site.yml'), stackYml(port));
  return true;
}

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('deploy the built-in static-site stack to the local Docker engine and say where to open it')
    .option('--dir <dir>', 'where to keep the demo environment', process.env.BERTH_DEMO_DIR ?? 'berth-demo')
    .option('--port <port>', 'host port of the site (first run only)', (v) => Number.parseInt(v, 10), 8080)
    .action(async (opts: { dir: string; port: number }) => {
      const dir = path.resolve(opts.dir);
      if (await ensureDemoEnvironment(dir, opts.port)) process.stderr.write(`made the demo environment in ${dir}\n`);
      const [{ loadEnvironment }, { driversFor, reconcileStack }, { stackStatus }, { plainSink, ttySink }, { createLogger }] = await Promise.all([
        import('../controller/environment.ts'), import('../controller/reconcile.ts'), import('../controller/status.ts'), import('../controller/events.ts'), import('../lib/log.ts'),
      ]);
      const env = await loadEnvironment(dir);
      const drivers = driversFor(env.hosts);
      const events = process.stderr.isTTY ? ttySink(process.stderr) : plainSink(process.stderr);
      for (const spec of env.stacks) {
        const o = await reconcileStack(env, spec, { why: 'demo', drivers, events, log: createLogger() });
        if (o.error || o.outcome === 'failed') {
          const why = o.error?.message ?? Object.entries(o.result?.hosts ?? {}).map(([h, r]) => `${h}: ${r.error ?? r.outcome}`).join('; ');
          process.stderr.write(`stack ${spec.name} failed: ${why}\n`);
          process.exitCode = 1;
          continue;
        }
        const said = o.outcome === 'unchanged' ? 'already up to date: nothing changed' : 'deployed';
        process.stdout.write(`stack ${spec.name} ${said}\n`);
        if (o.desired && o.observed) for (const e of stackStatus(o.desired, o.observed).endpoints) process.stdout.write(`open ${e.url}\n`);
      }
      process.stdout.write(`edit ${path.join(dir, 'stacks')}/*.yml and run berth demo again to redeploy; berth status --env ${opts.dir} shows what runs\n`);
    });
}
