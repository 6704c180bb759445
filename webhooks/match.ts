/**
 * Does a trigger concern the repository and branch Berth watches? URLs are compared by host and path so
 * that the forms a forge sends (https clone URL, scp-like SSH, web URL) all match the one the operator wrote.
 */
import type { Trigger } from './types.ts';

export interface WatchedRepository {
  /** Any clone or web URL of the repository; credentials in it are ignored (and never echoed). */
  url?: string;
  /** `group/project` or `owner/repo`. */
  path?: string;
  branch: string;
}

export interface MatchResult {
  accepted: boolean;
  reason?: string;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ssh:': '22', 'git:': '9418', 'git+ssh:': '22' };

export function matchesRepository(trigger: Trigger, watched: WatchedRepository): MatchResult {
  if (!watched.url && !watched.path) return { accepted: false, reason: 'no repository is configured to watch' };
  if (!sameRepository(trigger, watched)) {
    const watching = watched.path ?? displayUrl(watched.url ?? '');
    return { accepted: false, reason: `repository ${trigger.repoPath ?? displayUrl(trigger.repository)} is not watched (watching ${watching})` };
  }
  if (trigger.branch === undefined) return { accepted: false, reason: `ref ${trigger.ref ?? '(none)'} is not a branch (watching ${watched.branch})` };
  // Git ref names are case-sensitive, so the branch is compared exactly.
  if (trigger.branch !== watched.branch) return { accepted: false, reason: `branch ${trigger.branch} is not watched (watching ${watched.branch})` };
  return { accepted: true };
}

function sameRepository(trigger: Trigger, watched: WatchedRepository): boolean {
  const urls = [trigger.repoUrl, ...trigger.repoUrls, trigger.repository].filter((u): u is string => !!u);
  if (watched.url) {
    const want = repoUrlKey(watched.url);
    if (urls.some((u) => repoUrlKey(u) === want)) return true;
  }
  if (watched.path) {
    const want = normalizePath(watched.path);
    if (trigger.repoPath && normalizePath(trigger.repoPath) === want) return true;
    if (urls.some((u) => pathOfUrl(u) === want)) return true;
  }
  return false;
}

/**
 * `host[:port]/path`, lowercased, without credentials, scheme, default port, trailing slash or `.git`. The
 * whole key is lowercased, not just the host: GitHub and GitLab both treat project paths case-insensitively.
 */
export function repoUrlKey(url: string): string {
  const scp = scpLike(url);
  if (scp) return `${scp.host}/${normalizePath(scp.path)}`.toLowerCase();
  const parsed = parseUrl(url);
  if (!parsed || !parsed.host) return normalizePath(url);
  const port = parsed.port && parsed.port !== DEFAULT_PORTS[parsed.protocol] ? `:${parsed.port}` : '';
  return `${parsed.hostname}${port}/${normalizePath(decodePath(parsed.pathname))}`.toLowerCase();
}

/** A URL fit for a log line or a reason: scheme, host and path, never a user name or password. */
export function displayUrl(url: string): string {
  const scp = scpLike(url);
  if (scp) return `${scp.host}:${scp.path}`;
  const parsed = parseUrl(url);
  if (!parsed || !parsed.host) return url;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function normalizePath(path: string): string {
  return path.trim().replace(/\/+$/, '').replace(/\.git$/i, '').replace(/^\/+/, '').toLowerCase();
}

function pathOfUrl(url: string): string | undefined {
  const scp = scpLike(url);
  if (scp) return normalizePath(scp.path);
  const parsed = parseUrl(url);
  return parsed?.host ? normalizePath(decodePath(parsed.pathname)) : undefined;
}

/** `git@host:group/project.git`: what GitLab's git_ssh_url and GitHub's ssh_url look like. */
function scpLike(url: string): { host: string; path: string } | undefined {
  if (url.includes('://')) return undefined;
  const m = /^(?:[^@/:]+@)?([^@/:]+):(.+)$/.exec(url.trim());
  return m ? { host: m[1].toLowerCase(), path: m[2] } : undefined;
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url.trim());
  } catch {
    return undefined;
  }
}
