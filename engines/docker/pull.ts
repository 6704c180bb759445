/**
 * Image presence and pulls for one engine, per compose's pull_policy. Registry passwords are read from the
 * controller's environment at pull time and only ever travel in the X-Registry-Auth header: never in a
 * query string, an event or a log line.
 */
import type Docker from 'dockerode';
import { BerthError, UserError } from '../../lib/errors.ts';
import type { ServiceModel } from '../../catalog/model.ts';

/** One entry of the environment's registry list. */
export interface RegistryCredential {
  server: string;
  username: string;
  /** Name of the environment variable holding the password or token. */
  passwordEnv: string;
}

export type PullPolicy = ServiceModel['pull_policy'];

export const DEFAULT_PULL_TIMEOUT_MS = 15 * 60_000;

const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** `nginx`, `library/nginx` → docker.io; `ghcr.io/a/b`, `localhost:5000/x` → that registry. */
export function registryOf(ref: string): string {
  const first = ref.split('/')[0];
  if (!ref.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) return DOCKER_HUB;
  return HUB_ALIASES.has(first) ? DOCKER_HUB : first;
}

function normalizeServer(server: string): string {
  const s = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return HUB_ALIASES.has(s) ? DOCKER_HUB : s;
}

/** Docker's auth body for the image's registry, or undefined when no credential is configured for it. */
export function authFor(ref: string, registries: readonly RegistryCredential[]): Docker.AuthConfig | undefined {
  const registry = registryOf(ref);
  const cred = registries.find((r) => normalizeServer(r.server) === registry);
  if (!cred) return undefined;
  const password = process.env[cred.passwordEnv];
  if (password === undefined || password === '') {
    throw new UserError('registry.password.missing', `registry ${cred.server}: environment variable ${cred.passwordEnv} is not set`, {
      data: { server: cred.server, env: cred.passwordEnv },
      hint: `export ${cred.passwordEnv} in the controller's environment (it holds the password or token for ${cred.username})`,
    });
  }
  return { username: cred.username, password, serveraddress: registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry };
}

export async function imagePresent(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/** Whether pull_policy asks for a pull given the image is (not) on the host; throws when it forbids one. */
export function needsPull(ref: string, policy: PullPolicy, present: boolean, hostName: string): boolean {
  if (policy === 'always') return true;
  if (policy === 'never' || policy === 'build') {
    if (present) return false;
    const why = policy === 'build' ? 'pull_policy is build and Berth does not build images' : 'pull_policy is never';
    throw new UserError('image.missing', `image ${ref} is not on host ${hostName} and ${why}`, {
      data: { image: ref, host: hostName, pull_policy: policy },
      hint: `load the image on ${hostName} (docker load / docker pull there), or set pull_policy: missing`,
    });
  }
  return !present;
}

interface ProgressLine {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Pulls ref; the engine reports failures inside the progress stream, so every line is checked. */
export async function pullImage(docker: Docker, ref: string, hostName: string, opts: { auth?: Docker.AuthConfig; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
  const deadline = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_PULL_TIMEOUT_MS);
  const signal = opts.signal ? AbortSignal.any([deadline, opts.signal]) : deadline;
  // auth goes as dockerode's 4th argument: in the options object it would end up in the query string.
  const pull = docker.pull.bind(docker) as unknown as (ref: string, o: object, cb: undefined, auth?: object) => Promise<NodeJS.ReadableStream>;
  const stream = await pull(ref, { abortSignal: signal }, undefined, opts.auth);
  const lines = await new Promise<ProgressLine[]>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: ProgressLine[]) => (err ? reject(err) : resolve(out)));
  });
  const bad = lines.find((l) => l.error || l.errorDetail);
  if (bad) {
    const msg = bad.errorDetail?.message ?? bad.error ?? 'unknown error';
    throw new BerthError('image.pull.failed', 'user', `pulling ${ref} on host ${hostName} failed: ${msg}`, {
      data: { image: ref, host: hostName },
      hint: /denied|unauthorized|authentication/i.test(msg) ? 'check the registry credentials in berth.yml (registries) and their environment variables' : 'check the image name and tag, and that the host can reach the registry',
    });
  }
}
