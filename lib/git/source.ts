/**
 * Where a catalog or environment repository lives, and how to talk about it without leaking credentials.
 */
export type RepoSource =
  | {
      url: string;
      branch: string;
      /** The token value itself, already resolved by the caller from an env var. */
      token?: string;
      /** HTTP Basic username sent with the token: 'oauth2' suits GitLab, 'x-access-token' GitHub. */
      username?: string;
    }
  | { path: string; branch?: string };

export type UrlSource = Extract<RepoSource, { url: string }>;

export function isUrlSource(source: RepoSource): source is UrlSource {
  return 'url' in source;
}

/** Credentials embedded in a URL are taken out so they never reach .git/config, errors or logs. */
export function splitUrlCredentials(url: string): { url: string; username?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  if (!parsed.username && !parsed.password) return { url };
  const username = decodeURIComponent(parsed.username) || undefined;
  const password = decodeURIComponent(parsed.password) || undefined;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), username, password };
}

/**
 * Removes `scheme://user:secret@` userinfo and any literal secret from text. Applied to every message
 * that leaves this module, because isomorphic-git errors quote URLs verbatim.
 */
export function scrubCredentials(text: string, secrets: Array<string | undefined> = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1***@');
  for (const s of secrets) {
    if (s) out = out.split(s).join('***');
    // Tokens also travel URL-encoded inside userinfo.
    if (s && encodeURIComponent(s) !== s) out = out.split(encodeURIComponent(s)).join('***');
  }
  return out;
}

/** A label for logs and errors: the URL without credentials, or the local path. */
export function describeSource(source: RepoSource): string {
  if (isUrlSource(source)) return `${splitUrlCredentials(source.url).url} (${source.branch})`;
  return source.branch ? `${source.path} (${source.branch})` : source.path;
}

/** A folder name for the cache: readable host+path, plus the branch so two branches never share a work tree. */
export function cacheName(url: string, branch: string): string {
  const clean = splitUrlCredentials(url).url;
  let hostPath = clean;
  try {
    const u = new URL(clean);
    hostPath = `${u.host}${u.pathname}`;
  } catch {
    // not a URL: sanitise the raw text
  }
  const sanitize = (s: string) =>
    s
      .replace(/\.git\/?$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[_.]+|_+$/g, '');
  return `${sanitize(hostPath)}@${sanitize(branch)}`;
}
