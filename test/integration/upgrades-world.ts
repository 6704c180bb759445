// The real parts the upgrade tests share: an environment repository on the harness's smart-HTTP git server, a
// catalog folder on disk, and the fake GitLab/GitHub. The git CLI runs through execFile (asynchronously), since
// the git server lives in this process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadEnvironment, type Environment } from '../../environment/environment.ts';
import { syncRepo } from '../../lib/git/index.ts';
import { proposeUpgrades, type ProposalResult } from '../../upgrades/propose.ts';
import { startFakeForge, type FakeForge } from '../harness/fake-forge.ts';
import { startGitServer, type GitServer } from '../harness/git-server.ts';
import { writeCatalog } from '../unit/upgrades-fixtures.ts';

export const TOKEN = 'forge-token-8c1f2e';
export const TOKEN_ENV = 'BERTH_TEST_FORGE_TOKEN';

export interface World {
  tmp: string;
  catalog: string;
  server: GitServer;
  forge: FakeForge;
  repoUrl: string;
  berthCache: string;
  /** Loads the environment from a fresh sync of main, as `berth serve` would. */
  loadEnv(): Promise<{ env: Environment; dir: string }>;
  propose(): Promise<ProposalResult[]>;
  /** The git CLI over HTTP, authenticated, in `cwd`. */
  git(args: string[], cwd?: string): Promise<string>;
  /** A fresh clone of `branch`; the caller reads files from the returned folder. */
  clone(branch: string): Promise<string>;
  close(): Promise<void>;
}

function berthYml(kind: 'gitlab' | 'github', catalog: string, apiUrl: string): string {
  const project = kind === 'gitlab' ? 'ops/env' : 'acme/env';
  return `# The test environment.
catalogs:
  - name: main
    path: ${catalog}
hosts:
  - name: h1
    endpoint: unix:///run/berth-test/h1.sock
forge:
  type: ${kind}
  api_url: ${apiUrl}
  project: ${project}
  token_env: ${TOKEN_ENV}
`;
}

/** `catalog` writes another catalog into the folder it is given; `files` are more files of the environment. */
export async function startWorld(kind: 'gitlab' | 'github', stacks: Record<string, string>, opts: { catalog?: (dir: string) => string; files?: Record<string, string> } = {}): Promise<World> {
  const tmp = mkdtempSync(path.join(tmpdir(), `berth-upgrades-${kind}-`));
  const catalog = (opts.catalog ?? writeCatalog)(path.join(tmp, 'catalog'));
  const server = await startGitServer({ root: path.join(tmp, 'server'), token: TOKEN });
  server.createBareRepo('env');
  const branchExists = (b: string) => server.revParse('env', `refs/heads/${b}`) !== undefined;
  const forge = await startFakeForge({ token: TOKEN, ...(kind === 'gitlab' ? { gitlab: { project: 'ops/env', id: 7 } } : { github: { repo: 'acme/env' } }), branchExists });
  server.commitFiles('env', { 'berth.yml': berthYml(kind, catalog, forge.url), ...opts.files, ...Object.fromEntries(Object.entries(stacks).map(([k, v]) => [`stacks/${k}.yml`, v])) }, { message: 'environment' });
  const repoUrl = server.repoUrl('env');
  const berthCache = path.join(tmp, 'berth-cache');
  const gitEnv = { PATH: process.env.PATH, HOME: tmp, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Operator', GIT_AUTHOR_EMAIL: 'ops@example.com', GIT_COMMITTER_NAME: 'Operator', GIT_COMMITTER_EMAIL: 'ops@example.com' };
  let clones = 0;
  const world: World = {
    tmp, catalog, server, forge, repoUrl, berthCache,
    async loadEnv() {
      const { dir } = await syncRepo({ url: repoUrl, branch: 'main', token: TOKEN }, { cacheDir: path.join(tmp, 'env-cache') });
      return { env: await loadEnvironment(dir), dir };
    },
    async propose() {
      const { env } = await world.loadEnv();
      return proposeUpgrades(env, { cacheDir: berthCache, remote: { url: repoUrl, token: TOKEN, username: 'oauth2' }, processEnv: { [TOKEN_ENV]: TOKEN } });
    },
    async git(args, cwd) {
      return (await promisify(execFile)('git', args, { cwd, env: gitEnv })).stdout;
    },
    async clone(branch) {
      const dir = path.join(tmp, `clone-${++clones}`);
      await world.git(['clone', '--quiet', '--branch', branch, server.authedUrl('env'), dir]);
      return dir;
    },
    async close() {
      await forge.close();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  return world;
}

export function read(dir: string, file: string): string {
  return readFileSync(path.join(dir, file), 'utf8');
}

/** A stack file for template `web` at `version`, with a host port of its own. */
export function webStack(version: string, port: number, extra = ''): string {
  return `# The shop's web front.\ntemplate: web\nversion: ${version}   # pinned\nanswers:\n  title: Shop\n  port: ${port}\n  db_password: "pa55-w0rd:VERY-secret"\n${extra}`;
}

export const byStack = (results: ProposalResult[]) => Object.fromEntries(results.map((r) => [r.stack, r]));
