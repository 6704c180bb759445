// A real smart-HTTP git server for tests: a Node HTTP server on 127.0.0.1 that runs
// `git http-backend` (CGI) over bare repositories in a folder, with push enabled, optional
// token auth (HTTP Basic, any username, the token as password; or Bearer), and push hooks.
// The harness may use the git CLI; product code may not.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';

export interface PushEvent {
  repo: string; // name without .git, e.g. "catalog"
  path: string; // bare repository folder
  user?: string;
}

export interface GitServerOptions {
  root: string; // folder holding <name>.git bare repositories (made if missing)
  token?: string;
  onPush?: (e: PushEvent) => void | Promise<void>;
  /** log each request and http-backend's stderr */
  verbose?: boolean;
  /** listen on this port (a server brought back where a closed one was); default: any free port */
  port?: number;
}

export interface BareRepo {
  name: string;
  path: string;
  url: string;
}

export interface GitServer {
  url: string; // http://127.0.0.1:PORT
  port: number;
  root: string;
  token?: string;
  /** every completed push, oldest first */
  pushes: PushEvent[];
  /** `METHOD /path?query` of every request that passed authentication, in order. */
  requests: string[];
  repoUrl(name: string): string;
  /** repo URL with user:token embedded (for the git CLI) */
  authedUrl(name: string): string;
  createBareRepo(name: string, opts?: { defaultBranch?: string }): BareRepo;
  /**
   * Commits files to a branch of a bare repo (through a temp clone with the git CLI, straight on
   * disk: no HTTP, no push hooks). null deletes a path. Returns the new commit id.
   */
  commitFiles(name: string, files: Record<string, string | Buffer | null>, opts?: { message?: string; branch?: string }): string;
  /** `git rev-parse` in the bare repo; undefined if the ref does not exist */
  revParse(name: string, ref: string): string | undefined;
  onPush(fn: (e: PushEvent) => void | Promise<void>): () => void;
  /** resolves with the next push to `repo` (any repo if omitted) */
  nextPush(repo?: string, timeoutMs?: number): Promise<PushEvent>;
  close(): Promise<void>;
}

const repoDir = (name: string) => (name.endsWith('.git') ? name : `${name}.git`);
const repoName = (name: string) => name.replace(/\.git$/, '');

/** git with a config isolated from the machine's and the user's. */
function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'berth-test',
    GIT_AUTHOR_EMAIL: 'berth-test@localhost',
    GIT_COMMITTER_NAME: 'berth-test',
    GIT_COMMITTER_EMAIL: 'berth-test@localhost',
    LANG: 'C',
    ...extra,
  };
}

export function git(args: string[], cwd?: string, env: Record<string, string> = {}): string {
  const r = spawnSync('git', args, { cwd, env: gitEnv(env), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr}`);
  return r.stdout;
}

function checkAuth(req: http.IncomingMessage, token: string | undefined): { ok: boolean; user?: string } {
  if (token === undefined) return { ok: true };
  const h = req.headers.authorization ?? '';
  const [scheme, value = ''] = h.split(' ', 2);
  if (scheme?.toLowerCase() === 'basic') {
    const dec = Buffer.from(value, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i >= 0 && dec.slice(i + 1) === token) return { ok: true, user: dec.slice(0, i) || 'token' };
  } else if (scheme?.toLowerCase() === 'bearer' && value === token) {
    return { ok: true, user: 'token' };
  }
  return { ok: false };
}

export async function startGitServer(opts: GitServerOptions): Promise<GitServer> {
  const root = resolvePath(opts.root);
  mkdirSync(root, { recursive: true });
  const hooks = new Set<(e: PushEvent) => void | Promise<void>>();
  if (opts.onPush) hooks.add(opts.onPush);
  const pushes: PushEvent[] = [];
  const requests: string[] = [];
  const vlog = (m: string) => opts.verbose && process.stderr.write(`[git-server] ${m}\n`);

  const firePush = (e: PushEvent) => {
    pushes.push(e);
    for (const h of hooks) {
      Promise.resolve()
        .then(() => h(e))
        .catch((err: unknown) => process.stderr.write(`[git-server] onPush hook failed: ${String(err)}\n`));
    }
  };

  const server = http.createServer((req, res) => {
    const auth = checkAuth(req, opts.token);
    if (!auth.ok) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="berth-test-git"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const pathInfo = decodeURIComponent(u.pathname);
    vlog(`${req.method} ${u.pathname}${u.search}`);
    requests.push(`${req.method} ${u.pathname}${u.search}`);
    const isReceivePack = req.method === 'POST' && pathInfo.endsWith('/git-receive-pack');

    const env = gitEnv({
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      // push over HTTP is refused by http-backend unless enabled
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.receivepack',
      GIT_CONFIG_VALUE_0: 'true',
      GIT_CONFIG_KEY_1: 'safe.directory',
      GIT_CONFIG_VALUE_1: '*',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: 'berth-test-git',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: pathInfo,
      QUERY_STRING: u.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: auth.user ?? 'anonymous',
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      // CONTENT_LENGTH is left unset on purpose: http-backend then reads the body to EOF,
      // which is right both for chunked uploads and for bodies we decompress here.
    });
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });

    let body: Readable = req;
    const enc = String(req.headers['content-encoding'] ?? '').toLowerCase();
    if (enc === 'gzip' || enc === 'x-gzip') body = req.pipe(createGunzip());
    else if (enc === 'deflate') body = req.pipe(createInflate());
    body.on('error', (e) => {
      vlog(`request body error: ${e.message}`);
      child.kill();
    });
    body.pipe(child.stdin);
    child.stdin.on('error', () => {}); // http-backend may close stdin early (e.g. on a refused request)

    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));

    let head = Buffer.alloc(0);
    let headersSent = false;
    let status = 200;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sepLen = 4;
      const lf = head.indexOf('\n\n');
      if (lf >= 0 && (end < 0 || lf < end)) {
        end = lf;
        sepLen = 2;
      }
      if (end < 0) return;
      const headers: Record<string, string | string[]> = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') {
          status = parseInt(v, 10) || 200;
          continue;
        }
        const prev = headers[k];
        headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      res.writeHead(status, headers);
      headersSent = true;
      const rest = head.subarray(end + sepLen);
      if (rest.length) res.write(rest);
    });
    child.on('error', (e) => {
      if (!headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        headersSent = true;
      }
      res.end(`git http-backend failed: ${e.message}\n`);
    });
    child.on('close', (code) => {
      if (stderr) vlog(`http-backend stderr: ${stderr.trim()}`);
      if (!headersSent) {
        res.writeHead(code === 0 ? 200 : 500, { 'Content-Type': 'text/plain' });
        headersSent = true;
        res.end(code === 0 ? '' : `git http-backend exited ${code}: ${stderr}`);
        return;
      }
      res.end();
      if (isReceivePack && code === 0 && status === 200) {
        const rel = pathInfo.replace(/^\/+/, '').replace(/\/git-receive-pack$/, '');
        firePush({ repo: repoName(rel), path: join(root, rel), user: auth.user });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const self: GitServer = {
    url,
    port,
    root,
    token: opts.token,
    pushes,
    requests,
    repoUrl: (name) => `${url}/${repoDir(name)}`,
    authedUrl: (name) => (opts.token ? `http://berth:${encodeURIComponent(opts.token)}@127.0.0.1:${port}/${repoDir(name)}` : `${url}/${repoDir(name)}`),
    createBareRepo(name, { defaultBranch = 'main' } = {}) {
      const path = join(root, repoDir(name));
      if (!existsSync(path)) {
        mkdirSync(dirname(path), { recursive: true });
        git(['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, path]);
        git(['config', 'http.receivepack', 'true'], path);
      }
      return { name: repoName(name), path, url: self.repoUrl(name) };
    },
    commitFiles(name, files, { message = 'test commit', branch = 'main' } = {}) {
      const bare = join(root, repoDir(name));
      const work = mkdtempSync(join(tmpdir(), 'berth-git-work-'));
      try {
        git(['init', '--quiet', `--initial-branch=${branch}`, work]);
        git(['remote', 'add', 'origin', bare], work);
        const has = git(['ls-remote', '--heads', 'origin', branch], work).trim() !== '';
        if (has) {
          git(['fetch', '--quiet', 'origin', branch], work);
          git(['checkout', '--quiet', '-B', branch, 'FETCH_HEAD'], work);
        }
        for (const [p, content] of Object.entries(files)) {
          const full = join(work, p);
          if (content === null) {
            rmSync(full, { recursive: true, force: true });
          } else {
            mkdirSync(dirname(full), { recursive: true });
            writeFileSync(full, content);
          }
        }
        git(['add', '-A'], work);
        git(['commit', '--quiet', '--allow-empty', '-m', message], work);
        git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], work);
        return git(['rev-parse', 'HEAD'], work).trim();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    revParse(name, ref) {
      const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: join(root, repoDir(name)), env: gitEnv(), encoding: 'utf8' });
      return r.status === 0 ? r.stdout.trim() : undefined;
    },
    onPush(fn) {
      hooks.add(fn);
      return () => hooks.delete(fn);
    },
    nextPush(repo, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          off();
          reject(new Error(`no push${repo ? ` to ${repo}` : ''} within ${timeoutMs}ms`));
        }, timeoutMs);
        const off = self.onPush((e) => {
          if (repo && e.repo !== repoName(repo)) return;
          clearTimeout(t);
          off();
          resolve(e);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return self;
}
