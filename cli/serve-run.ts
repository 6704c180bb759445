/** What `berth serve` does once it runs; cli/serve.ts declares the command and its flags. */
import git from 'isomorphic-git';
import cron from 'node-cron';
import { defaultFs } from '../lib/git/fs.ts';
import { splitUrlCredentials, type RepoSource } from '../lib/git/source.ts';
import { UserError } from '../lib/errors.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { Controller } from '../controller/loop.ts';
import { createServer, parseListen } from '../server/server.ts';
import type { WatchedRepository } from '../webhooks/match.ts';
import type { ServeOpts } from './serve.ts';

export async function serve(opts: ServeOpts): Promise<void> {
  const log = createLogger();
  const source = envSource(opts);
  const { host, port } = parseListen(opts.listen);
  if (!opts.intervalSeconds && !cron.validate(opts.interval)) {
    throw new UserError('FLAG_INVALID', `--interval ${JSON.stringify(opts.interval)} is not a cron expression`, { hint: 'e.g. "* * * * *" (every minute) or "*/15 * * * * *" (every 15 seconds)' });
  }
  const controller = new Controller({
    env: source, cacheDir: opts.cacheDir, ledgerBranch: opts.ledgerBranch, log,
    ...(opts.intervalSeconds ? { intervalMs: positive(opts.intervalSeconds, '--interval-seconds') * 1000 } : { cron: opts.interval }),
    deadlineMs: parseDuration(opts.deadline), concurrency: positive(opts.concurrency, '--concurrency'),
  });
  const users = opts.users ? await (await import('../console/users.ts')).loadUsers(opts.users) : undefined;
  const app = await createServer({
    controller, log, watched: await watchedRepository(source, log),
    gitlabSecret: process.env[opts.gitlabSecretEnv] || undefined, githubSecret: process.env[opts.githubSecretEnv] || undefined,
    ...(opts.apiTokenEnv && process.env[opts.apiTokenEnv] ? { apiToken: process.env[opts.apiTokenEnv] } : {}),
    ...(users ? { console: { users, controller, source, cacheDir: opts.cacheDir, sessionSecret: process.env[opts.sessionSecretEnv ?? 'BERTH_SESSION_SECRET'] || undefined } } : {}),
  });
  const address = await app.listen({ host, port });
  log.info({ address, gitlab: Boolean(process.env[opts.gitlabSecretEnv]), github: Boolean(process.env[opts.githubSecretEnv]) }, `listening on ${address}`);

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => (stopping ??= (async () => {
    log.info({ signal }, 'shutting down: finishing the reconciles in progress');
    await Promise.all([controller.stop(30_000), app.close()]);
    log.info('stopped');
  })());
  const done = new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(sig).then(resolve));
  });
  try {
    await controller.start();
  } catch (e) {
    await stop('startup failed');
    throw e;
  }
  await done;
  // Engine and git sockets with keep-alive may linger; a stopped controller has nothing left worth waiting for.
  setTimeout(() => process.exit(), 2_000).unref();
}

/** --env as a RepoSource: an http(s) URL (token from the named variable) or a local path. */
function envSource(opts: ServeOpts): RepoSource {
  if (!opts.env) throw new UserError('ENV_REQUIRED', 'berth serve needs an environment', { hint: 'give --env PATH|URL or set BERTH_ENV' });
  if (!/^https?:\/\//i.test(opts.env)) return { path: opts.env, branch: opts.envBranch };
  const split = splitUrlCredentials(opts.env);
  if (split.password) {
    throw new UserError('ENV_URL_HAS_CREDENTIALS', '--env must not carry a password or token: it would show in ps and in logs', {
      hint: 'put the token in an environment variable and name it: --env-token-env BERTH_ENV_TOKEN',
    });
  }
  const token = opts.envTokenEnv ? process.env[opts.envTokenEnv] : undefined;
  if (opts.envTokenEnv && !token) throw new UserError('ENV_TOKEN_MISSING', `--env-token-env names ${opts.envTokenEnv}, which is not set`);
  return { url: opts.env, branch: opts.envBranch, ...(token ? { token } : {}), ...(split.username ? { username: split.username } : {}) };
}

/** What webhooks must name: the URL, or for a local clone its `origin` remote (if it has one). */
async function watchedRepository(source: RepoSource, log: Logger): Promise<WatchedRepository> {
  if ('url' in source) return { url: source.url, branch: source.branch };
  const origin = await git.getConfig({ fs: defaultFs, dir: source.path, path: 'remote.origin.url' }).catch(() => undefined);
  if (typeof origin !== 'string') log.info({ env: source.path }, 'the environment is a local folder without an origin remote: webhooks will be ignored; the timer still reconciles');
  return { url: typeof origin === 'string' ? origin : undefined, branch: source.branch ?? 'main' };
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError('FLAG_INVALID', `${flag} ${JSON.stringify(text)} is not a positive whole number`);
  return n;
}

/** `500ms`, `90s`, `10m`, `1h`, or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UserError('FLAG_INVALID', `--deadline ${JSON.stringify(text)} is not a duration`, { hint: 'write e.g. 90s, 10m or 1h' });
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
