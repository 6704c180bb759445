/**
 * A Swarm's API, through whichever of its managers answers: tried in berth.yml order, the one that answered kept
 * until it fails, so one manager down is not an outage. A worker (or a node that left) is skipped: only managers
 * serve services, tasks, nodes, configs and secrets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { UnreachableError } from '../../lib/errors.ts';
import type { HostSpec, SwarmSpec } from '../../environment/types.ts';
import { connectHost, isConnectionError, pingHost } from '../docker/connect.ts';

export class SwarmClient {
  private current?: { docker: Docker; endpoint: string };
  private readonly clients = new Map<string, Docker>();

  constructor(readonly swarm: SwarmSpec) {}

  private hostOf(endpoint: string): HostSpec {
    return { name: `${this.swarm.name} manager ${endpoint}`, endpoint, labels: {}, ...(this.swarm.tls ? { tls: this.swarm.tls } : {}), ...(this.swarm.ssh ? { ssh: this.swarm.ssh } : {}) };
  }

  private client(endpoint: string): Docker {
    let c = this.clients.get(endpoint);
    if (!c) this.clients.set(endpoint, (c = connectHost(this.hostOf(endpoint))));
    return c;
  }

  /** A manager that answers and can run the Swarm's API. */
  async manager(): Promise<{ docker: Docker; endpoint: string }> {
    if (this.current) return this.current;
    const why: string[] = [];
    for (const endpoint of this.swarm.managers) {
      const docker = this.client(endpoint);
      try {
        await pingHost(docker, this.hostOf(endpoint));
        const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
        if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) {
          why.push(`${endpoint}: not a swarm manager (state ${info.Swarm?.LocalNodeState ?? 'unknown'})`);
          continue;
        }
        return (this.current = { docker, endpoint });
      } catch (e) {
        why.push(`${endpoint}: ${(e as Error).message}`);
      }
    }
    throw new UnreachableError('swarm.unreachable', `swarm ${this.swarm.name}: no manager answers (${why.join('; ')})`, {
      data: { swarm: this.swarm.name, managers: this.swarm.managers },
      hint: 'Check that the managers listed under swarms: in berth.yml are up and reachable from Berth, and that they are managers (docker node ls).',
    });
  }

  /** A client of the answering manager for its event stream: no idle timeout (the stream is quiet for hours). */
  async eventsClient(): Promise<Docker> {
    return connectHost(this.hostOf((await this.manager()).endpoint), { timeoutMs: 0 });
  }

  /**
   * Runs fn on a manager; a connection failure drops it and tries the next manager once. While the managers elect
   * a leader (one was lost), Swarm refuses writes for a few seconds; those are tried again, on the same bound.
   */
  async call<T>(fn: (docker: Docker) => Promise<T>): Promise<T> {
    const m = await this.manager();
    try {
      return await fn(m.docker);
    } catch (e) {
      if (isLeaderless(e)) return this.whenLed(fn, e);
      if (!isConnectionError(e) && (e as { statusCode?: number }).statusCode !== 503) throw e;
      this.current = undefined;
      return this.whenLed(fn);
    }
  }

  /** fn on the answering manager, now (after a lost connection) or after a pause (Swarm leaderless), until the bound. */
  private async whenLed<T>(fn: (docker: Docker) => Promise<T>, leaderless?: unknown): Promise<T> {
    const end = Date.now() + LEADER_WAIT_MS;
    for (let wait = leaderless === undefined ? 0 : 500; ; wait = Math.min(Math.max(wait * 2, 500), 2_000)) {
      if (wait) await sleep(wait);
      try {
        return await fn((await this.manager()).docker);
      } catch (e) {
        if (!isLeaderless(e) || Date.now() >= end) throw e;
      }
    }
  }
}

/** How long a write waits for Swarm to elect a leader: raft elections take seconds, a deploy's deadline minutes. */
const LEADER_WAIT_MS = 30_000;

/** Swarm's answers while it has no leader (a manager was lost and the others are electing one). */
function isLeaderless(e: unknown): boolean {
  return /does not have a leader|lost leader status|leadership (changed|lost)|no elected cluster leader|raft: (proposal dropped|failed to process the request)/i.test(apiMessage(e));
}

export const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

/** Docker's JSON error body says it best; dockerode puts it under `json.message`. */
export function apiMessage(e: unknown): string {
  const err = e as { json?: { message?: string }; message?: string };
  return err.json?.message ?? err.message ?? String(e);
}
