/**
 * The `forge:` block of berth.yml: where the environment repository's merge requests live. Parsed here, beside
 * the code that uses it, and called from environment/environment.ts so every berth.yml problem is still reported
 * in one pass with its line.
 */
import { isPlainMap, kindOf, MapReader } from '../catalog/yaml-file.ts';

/** `local`: no forge; proposals are branches of the environment repository itself (upgrades/local.ts). */
export const FORGE_TYPES = ['gitlab', 'github', 'local'] as const;
export type ForgeType = (typeof FORGE_TYPES)[number];

export interface ForgeConfig {
  type: ForgeType;
  /** GitLab: the instance URL (`https://gitlab.example.com`); GitHub: the REST base (`https://api.github.com`). */
  apiUrl: string;
  /** GitLab: `group/project` or the numeric id; GitHub: `owner/repo`. */
  project: string;
  /** Name of the environment variable holding the API token (never the token itself). */
  tokenEnv: string;
  /** The branch merge requests target, i.e. the branch Berth deploys from. */
  branch: string;
}

export const DEFAULT_API_URL: Record<ForgeType, string> = { gitlab: 'https://gitlab.com', github: 'https://api.github.com', local: '' };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GITHUB_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const GITLAB_PROJECT = /^(\d+|[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+)$/;
const KEYS = ['type', 'api_url', 'project', 'token_env', 'branch'];

/** Reads `forge:` from berth.yml's top-level reader; undefined when absent or wrong (the problems say why). */
export function parseForgeConfig(top: MapReader): ForgeConfig | undefined {
  const raw = top.obj.forge;
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainMap(raw)) return void top.problem('forge', `must be a map with type:, project: and token_env:, got ${kindOf(raw)}`);
  const r = new MapReader(top.yaml, [...top.path, 'forge'], top.field('forge'), raw, top.problems);
  if (raw.token !== undefined) r.problem('token', 'tokens never go in berth.yml; put it in an environment variable and name that variable with token_env:', 'key');
  const type = forgeType(r);
  if (type === 'local') {
    r.unknownKeys(['type', 'branch']);
    return { type, apiUrl: '', project: '', tokenEnv: '', branch: r.string('branch') ?? 'main' };
  }
  r.unknownKeys(raw.token === undefined ? KEYS : [...KEYS, 'token']);
  const project = projectOf(r, type);
  const tokenEnv = r.string('token_env', true);
  if (tokenEnv !== undefined && !ENV_NAME.test(tokenEnv)) r.problem('token_env', `"${tokenEnv}" is not an environment variable name`);
  const apiUrl = apiUrlOf(r, type);
  const branch = r.string('branch') ?? 'main';
  if (!type || project === undefined || tokenEnv === undefined || !ENV_NAME.test(tokenEnv) || apiUrl === undefined) return undefined;
  return { type, apiUrl, project, tokenEnv, branch };
}

function forgeType(r: MapReader): ForgeType | undefined {
  const type = r.string('type', true);
  if (type === undefined) return undefined;
  if ((FORGE_TYPES as readonly string[]).includes(type)) return type as ForgeType;
  r.problem('type', `"${type}" is not a forge Berth can open merge requests on; use gitlab, github, or local (upgrade branches in the environment repository itself)`);
  return undefined;
}

/** A GitLab numeric id may be written as a number; everything else is text. */
function projectOf(r: MapReader, type: ForgeType | undefined): string | undefined {
  const v = r.obj.project;
  const project = typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? String(v) : r.string('project', true);
  if (project === undefined || type === undefined) return project;
  if (type === 'github' && !GITHUB_REPO.test(project)) return void r.problem('project', `"${project}" is not a GitHub repository; write owner/repo`);
  if (type === 'gitlab' && !GITLAB_PROJECT.test(project)) return void r.problem('project', `"${project}" is not a GitLab project; write group/project (the path) or its numeric id`);
  return project;
}

function apiUrlOf(r: MapReader, type: ForgeType | undefined): string | undefined {
  const given = r.string('api_url');
  if (given === undefined) return type ? DEFAULT_API_URL[type] : undefined;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return void r.problem('api_url', `"${given}" is not a URL; write e.g. ${type ? DEFAULT_API_URL[type] : DEFAULT_API_URL.gitlab}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return void r.problem('api_url', 'must be an http:// or https:// URL');
  if (url.username || url.password) return void r.problem('api_url', 'must not hold credentials; name the token\'s variable with token_env:');
  // gitbeaker appends /api/v4 itself, so an instance URL written with it would double it.
  const clean = given.replace(/\/+$/, '');
  return type === 'gitlab' ? clean.replace(/\/api\/v4$/, '') : clean;
}
