/**
 * `berth serve`: the long-running controller. Every flag can also come from an environment variable (how
 * containers and systemd units are configured); secrets only ever come from environment variables, named by a
 * flag, so they never show in `ps` or a shell history.
 */
import { Command, Option } from 'commander';


export interface ServeOpts {
  env?: string;
  envBranch: string;
  envTokenEnv?: string;
  cacheDir: string;
  ledgerBranch: string;
  listen: string;
  interval: string;
  intervalSeconds?: string;
  gitlabSecretEnv: string;
  githubSecretEnv: string;
  deadline: string;
  concurrency: string;
  users?: string;
  sessionSecretEnv?: string;
  apiTokenEnv?: string;
}

const opt = (flags: string, description: string, env: string, fallback?: string) => {
  const o = new Option(flags, description).env(env);
  return fallback === undefined ? o : o.default(fallback);
};

export function registerServeCommand(program: Command): void {
  program.command('serve')
    .description('run the controller: sync the environment repository, reconcile every stack on a timer and on webhooks, serve status and metrics')
    .addOption(opt('--env <path|url>', 'environment: a local folder or repository, or an http(s) git URL', 'BERTH_ENV'))
    .addOption(opt('--env-branch <name>', 'branch of the environment repository', 'BERTH_ENV_BRANCH', 'main'))
    .addOption(opt('--env-token-env <NAME>', 'name of the environment variable holding the HTTPS token for --env (never the token itself)', 'BERTH_ENV_TOKEN_ENV'))
    .addOption(opt('--cache-dir <dir>', 'where repositories are cloned', 'BERTH_CACHE_DIR', '.berth/cache'))
    .addOption(opt('--ledger-branch <name>', 'branch of the environment repository recording every deploy', 'BERTH_LEDGER_BRANCH', 'berth/deployed'))
    .addOption(opt('--listen <host:port>', 'address of the HTTP server (webhooks, /healthz, /metrics, /api/stacks)', 'BERTH_LISTEN', '0.0.0.0:7480'))
    .addOption(opt('--interval <cron>', 'when to re-sync and reconcile everything (node-cron; 6 fields for seconds)', 'BERTH_INTERVAL', '* * * * *'))
    .addOption(opt('--interval-seconds <n>', 'reconcile every N seconds instead of --interval (tests, demos)', 'BERTH_INTERVAL_SECONDS'))
    .addOption(opt('--gitlab-secret-env <NAME>', 'environment variable holding the GitLab webhook secret; unset → /hooks/gitlab answers 404', 'BERTH_GITLAB_SECRET_ENV', 'BERTH_GITLAB_WEBHOOK_SECRET'))
    .addOption(opt('--github-secret-env <NAME>', 'environment variable holding the GitHub webhook secret; unset → /hooks/github answers 404', 'BERTH_GITHUB_SECRET_ENV', 'BERTH_GITHUB_WEBHOOK_SECRET'))
    .addOption(opt('--deadline <duration>', 'longest a reconcile of one stack may take (e.g. 90s, 10m, 1h)', 'BERTH_DEADLINE', '10m'))
    .addOption(opt('--concurrency <n>', 'stacks reconciled at the same time', 'BERTH_CONCURRENCY', '4'))
    .addOption(opt('--users <file>', 'users of the web console (name, email, role, password_hash); enables the console and sign-in for /api', 'BERTH_USERS_FILE'))
    .addOption(opt('--session-secret-env <NAME>', 'environment variable holding the secret that signs console sessions (32+ characters)', 'BERTH_SESSION_SECRET_ENV', 'BERTH_SESSION_SECRET'))
    .addOption(opt('--api-token-env <NAME>', 'environment variable holding a bearer token that /api/* and /metrics then require (docs/security.md)', 'BERTH_API_TOKEN_ENV'))
    .addHelpText('after', '\nSee docs/serve.md for the endpoints, the status fields and the metrics.')
    .action(async (opts: ServeOpts) => {
      // Before serve's own modules load: loading them is what first grows the young generation.
      (await import('../lib/heap.ts')).tuneForLongIdleProcess();
      return (await import('./serve-run.ts')).serve(opts);
    });
}
