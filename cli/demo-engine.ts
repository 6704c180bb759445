/**
 * The demo's first contact with Docker: one ping of the engine the demo deploys to before anything starts, and,
 * when it does not answer, one error that says what to do on this machine — instead of a controller retrying
 * `connect ENOENT` every few seconds with no hint.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../lib/errors.ts';
import type { HostSpec } from '../environment/types.ts';

/** What to run here, by what is missing: the engine itself, the daemon, or access to its socket. */
export function engineAdvice(host: HostSpec, isRoot: boolean): string {
  const socket = host.endpoint.startsWith('unix://') ? host.endpoint.slice('unix://'.length) : undefined;
  const sudo = isRoot ? '' : 'sudo ';
  if (socket && !existsSync('/usr/bin/dockerd') && !existsSync('/usr/sbin/dockerd') && !existsSync('/usr/local/bin/dockerd')) {
    return `Docker is not installed. On Debian or Ubuntu: ${sudo}apt-get install -y docker.io && ${sudo}systemctl start docker (without systemd: ${sudo}dockerd >/var/log/dockerd.log 2>&1 &), then run the demo again.`;
  }
  if (socket && !existsSync(socket)) {
    return `dockerd is installed but not running (no ${socket}). Start it: ${sudo}systemctl start docker (without systemd: ${sudo}dockerd >/var/log/dockerd.log 2>&1 &), then run the demo again.`;
  }
  if (socket) return `dockerd does not answer on ${socket}: check that it is running (${sudo}systemctl status docker) and that this user may use the socket (${sudo}usermod -aG docker $USER, then log in again).`;
  return `check that the Docker engine at ${host.endpoint} is running and reachable, or unset DOCKER_HOST to use the local one.`;
}

/** Pings every host; the first that does not answer becomes one UserError with the advice above. */
export async function requireEngines(hosts: HostSpec[], ping: (h: HostSpec) => Promise<void>): Promise<void> {
  for (const h of hosts) {
    try {
      await ping(h);
    } catch (e) {
      throw new UserError('DEMO_NO_ENGINE', `the demo needs a Docker engine, and ${h.endpoint} does not answer: ${(e as Error).message.split('\n')[0]}`, {
        data: { host: h.name, endpoint: h.endpoint },
        hint: engineAdvice(h, process.getuid?.() === 0),
      });
    }
  }
}
