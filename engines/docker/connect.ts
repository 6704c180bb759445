/**
 * Endpoint → dockerode client. Every request carries a socket idle timeout so a host that went away fails
 * the call instead of hanging an apply; ping gets a short hard deadline on top, because "is it there at
 * all" must answer in seconds.
 */
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import Dockerode from './dockerode.ts';
import { UnreachableError, UserError } from '../../lib/errors.ts';
import type { HostSpec } from '../../environment/types.ts';

/** Idle timeout of one request. Long calls (stop with a grace period, pulls) get their own client or deadline. */
export const DEFAULT_TIMEOUT_MS = 60_000;
export const PING_TIMEOUT_MS = 5_000;

type Scheme = 'unix' | 'tcp' | 'ssh';

function schemeOf(host: HostSpec): Scheme {
  const m = /^(unix|tcp|ssh):\/\//.exec(host.endpoint);
  if (!m) {
    throw new UserError('host.endpoint.invalid', `host ${host.name}: endpoint "${host.endpoint}" is not unix://, tcp:// or ssh://`, {
      data: { host: host.name, endpoint: host.endpoint },
      hint: 'write it as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host[:port]',
    });
  }
  return m[1] as Scheme;
}

function readPem(host: HostSpec, what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError('host.tls.unreadable', `host ${host.name}: cannot read TLS ${what} file ${path}: ${(e as Error).message}`, {
      data: { host: host.name, file: path },
      hint: 'tls paths in berth.yml must be absolute paths of PEM files readable by the controller',
    });
  }
}

function tcpOptions(host: HostSpec, timeout: number): Docker.DockerOptions {
  const u = new URL(host.endpoint);
  const tls = host.tls;
  const port = Number(u.port || (tls ? 2376 : 2375));
  if (!tls) return { protocol: 'http', host: u.hostname, port, timeout };
  return {
    protocol: 'https',
    host: u.hostname,
    port,
    timeout,
    ca: readPem(host, 'ca', tls.ca),
    cert: readPem(host, 'cert', tls.cert),
    key: readPem(host, 'key', tls.key),
  };
}

function sshOptions(host: HostSpec, timeout: number): Docker.DockerOptions {
  const u = new URL(host.endpoint);
  const keyFile = host.ssh?.privateKeyFile;
  let privateKey: Buffer | undefined;
  if (keyFile) {
    try {
      privateKey = readFileSync(keyFile);
    } catch (e) {
      throw new UserError('host.ssh.unreadable', `host ${host.name}: cannot read ssh private key ${keyFile}: ${(e as Error).message}`, {
        data: { host: host.name, file: keyFile },
      });
    }
  }
  // Without a key file the agent answers, as plain `ssh` would. The host key is not pinned: the endpoint
  // in berth.yml is trusted the way DOCKER_HOST=ssh:// is.
  const auth = privateKey ? { privateKey } : { agent: process.env.SSH_AUTH_SOCK };
  return {
    protocol: 'ssh',
    host: u.hostname,
    port: Number(u.port || 22),
    username: decodeURIComponent(u.username) || undefined,
    // No modem `timeout` here: an ssh channel is not a net.Socket and has no setTimeout (the request
    // would throw). The driver's per-call deadline (withDeadline) bounds ssh calls instead.
    sshOptions: { ...auth, readyTimeout: Math.min(timeout, 10_000) },
  } as Docker.DockerOptions;
}

/** A client for the host's endpoint. Does not connect: the first request does. */
export function connectHost(host: HostSpec, opts: { timeoutMs?: number } = {}): Docker {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  switch (schemeOf(host)) {
    case 'unix':
      return new Dockerode({ socketPath: host.endpoint.slice('unix://'.length), timeout });
    case 'tcp':
      return new Dockerode(tcpOptions(host, timeout));
    case 'ssh':
      return new Dockerode(sshOptions(host, timeout));
  }
}

const CHECKS: Record<Scheme, string> = {
  unix: 'check that dockerd is running on that machine and that the socket exists and is readable by the controller',
  tcp: 'check that the machine is up, the port is open to the controller, and the TLS files match the daemon (tls: ca/cert/key)',
  ssh: 'check ssh access (user, port, private key) and that `docker` is on the remote PATH (the connection runs `docker system dial-stdio`)',
};

const NETWORK_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EACCES',
  'ENOTFOUND', 'EAI_AGAIN', 'ABORT_ERR', 'ERR_SSL_WRONG_VERSION_NUMBER', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ECONNABORTED',
]);

/** True when the error says the engine could not be talked to at all (as opposed to a Docker API error). */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; statusCode?: number; level?: string; name?: string; message?: string };
  if (err?.statusCode !== undefined) return false;
  if (err?.code && NETWORK_CODES.has(err.code)) return true;
  if (err?.level === 'client-authentication' || err?.level === 'client-timeout' || err?.level === 'client-socket') return true;
  return err?.name === 'AbortError' || /socket hang up|timed? ?out|All configured authentication methods failed/i.test(err?.message ?? '');
}

/** Wraps a connection failure into an UnreachableError naming the host, the endpoint and what to check. */
export function unreachable(host: HostSpec, e: unknown): UnreachableError {
  const err = e as { code?: string; message?: string };
  const why = err?.code && !String(err.message).includes(err.code) ? `${err.code}: ${err.message}` : String(err?.message ?? e);
  let check: string;
  try {
    check = CHECKS[schemeOf(host)];
  } catch {
    check = 'check the endpoint';
  }
  return new UnreachableError('host.unreachable', `host ${host.name} (${host.endpoint}) is unreachable: ${why}`, {
    data: { host: host.name, endpoint: host.endpoint },
    hint: check,
    cause: e,
  });
}

/** Answers within PING_TIMEOUT_MS or throws UnreachableError. */
export async function pingHost(docker: Docker, host: HostSpec, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? PING_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  try {
    // The typings lag dockerode 5: ping takes { abortSignal }.
    const ping = docker.ping.bind(docker) as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>;
    await raceAbort(ping({ abortSignal: signal }), signal);
  } catch (e) {
    if (deadline.aborted) throw unreachable(host, new Error(`no answer to ping within ${opts.timeoutMs ?? PING_TIMEOUT_MS}ms`));
    throw unreachable(host, e);
  }
}

/** Rejects when fn has not settled within ms: the bound for calls whose transport has no socket timeout (ssh). */
export function withDeadline<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return raceAbort(p, signal).catch((e: unknown) => {
    if (signal.aborted) throw Object.assign(new Error(`${what}: no answer within ${ms}ms`), { code: 'ETIMEDOUT' });
    throw e;
  });
}

/** ssh connection set-up ignores the request's abort signal, so the deadline is also enforced here. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
