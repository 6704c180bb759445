/**
 * What every network operation shares: an HTTP client that honours an abort signal, token auth, a deadline,
 * and the translation of isomorphic-git and socket errors into Berth errors with credentials scrubbed.
 */
import nodeHttp from 'isomorphic-git/http/node';
import type { AuthCallback, HttpClient } from 'isomorphic-git';
import { BerthError, ConflictError, UnreachableError, UserError } from '../errors.ts';
import { scrubCredentials, splitUrlCredentials } from './source.ts';

export interface RemoteOptions {
  url: string;
  token?: string;
  /** HTTP Basic username that goes with the token; GitLab wants 'oauth2', GitHub 'x-access-token'. */
  username?: string;
  http?: HttpClient;
  signal?: AbortSignal;
  /** Default 60 s; a hung server must not stall the controller forever. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

export interface Remote {
  /** The URL without userinfo: safe to store in .git/config and to print. */
  url: string;
  http: HttpClient;
  onAuth?: AuthCallback;
  signal: AbortSignal;
  secrets: string[];
  timeoutMs: number;
  userSignal?: AbortSignal;
  controller: AbortController;
}

/** Resolves credentials (explicit token wins over URL userinfo) and builds the per-call HTTP client. */
export function prepareRemote(opts: RemoteOptions): Remote {
  const split = splitUrlCredentials(opts.url);
  const password = opts.token ?? split.password;
  const username = opts.username ?? (opts.token ? undefined : split.username) ?? 'oauth2';
  const controller = new AbortController();
  const { signal } = controller;
  const base = opts.http ?? nodeHttp;
  // Passing the signal to each request closes the socket on timeout instead of leaving it dangling.
  const http: HttpClient = { request: (req) => base.request({ ...req, signal }) };
  const onAuth: AuthCallback | undefined = password ? () => ({ username, password }) : undefined;
  const secrets = [password, split.username].filter((s): s is string => !!s);
  return { url: split.url, http, onAuth, signal, secrets, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, userSignal: opts.signal, controller };
}

/**
 * Runs a network operation against the remote's deadline and the caller's signal. The race matters:
 * isomorphic-git does not always notice an aborted response stream, and the caller must get control back.
 * (A plain timer, not AbortSignal.timeout inside AbortSignal.any: Node 20 may collect that one early.)
 */
export async function withDeadline<T>(remote: Remote, run: () => Promise<T>): Promise<T> {
  const { controller, userSignal } = remote;
  if (userSignal?.aborted) throw userSignal.reason;
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${remote.timeoutMs} ms`, 'TimeoutError')), remote.timeoutMs);
  const forward = () => controller.abort(userSignal?.reason);
  userSignal?.addEventListener('abort', forward, { once: true });
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason);
    controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run(), aborted]);
  } finally {
    clearTimeout(timer);
    userSignal?.removeEventListener('abort', forward);
    controller.signal.removeEventListener('abort', onAbort);
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** Maps whatever a clone, fetch or push threw to a Berth error whose text is free of credentials. */
export function toRemoteError(err: unknown, remote: Remote, action: string): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as { code?: string; name?: string; message?: string; data?: { statusCode?: number; reason?: string; what?: string } };
  const reason = scrubCredentials(String(e?.message ?? err), remote.secrets);
  const data = { url: remote.url, reason, ...(e?.code ? { cause: e.code } : {}) };
  const where = `${action} ${remote.url}`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new UnreachableError('REPO_UNREACHABLE', `${where}: gave up (${e.name === 'TimeoutError' ? 'timed out' : 'aborted'})`, {
      data,
      hint: 'Check that the git server is up and reachable from this machine.',
    });
  }
  if (e?.code === 'HttpError') {
    const status = e.data?.statusCode ?? 0;
    if (status === 401 || status === 403) {
      return new UserError('REPO_AUTH_FAILED', `${where}: the server refused the credentials (HTTP ${status})`, {
        data: { ...data, status },
        hint: 'Check the token (its env var, scopes and expiry) configured for this repository.',
      });
    }
    if (status === 404) {
      return new UserError('REPO_NOT_FOUND', `${where}: no such repository (HTTP 404)`, { data: { ...data, status }, hint: 'Check the repository URL.' });
    }
    return new UnreachableError('REPO_UNREACHABLE', `${where}: HTTP ${status}`, { data: { ...data, status }, hint: 'The git server answered with an error; it will be retried.' });
  }
  if (e?.code === 'NotFoundError') {
    return new UserError('BRANCH_NOT_FOUND', `${where}: ${reason}`, { data, hint: 'Check the branch name configured for this repository.' });
  }
  if (e?.code === 'PushRejectedError' || e?.code === 'GitPushError') {
    return new ConflictError('PUSH_REJECTED', `${where}: the remote branch has commits this one lacks`, {
      data,
      hint: 'Fetch the branch, rebuild the commit on top of it, and push again.',
    });
  }
  if ((e?.code && NETWORK_CODES.has(e.code)) || /socket hang up|ECONNREFUSED|timed out/i.test(reason)) {
    return new UnreachableError('REPO_UNREACHABLE', `${where}: ${reason}`, { data, hint: 'Check that the git server is up and reachable from this machine.' });
  }
  return new BerthError('GIT_FAILED', 'internal', `${where}: ${reason}`, { data });
}
