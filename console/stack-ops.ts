/**
 * A stack's page beyond its status: the containers on each host, the deploy history with each deploy's diff,
 * the rollback (the ledger's own, authored by the person), and logs with the stack's secrets masked.
 */
import git from 'isomorphic-git';
import { defaultFs } from '../lib/git/fs.ts';
import { readFilesAt } from '../lib/git/index.ts';
import { UserError } from '../lib/errors.ts';
import { maskSecrets } from '../lib/secrets.ts';
import { unifiedDiff } from '../upgrades/diff.ts';
import type { ObservedContainer } from '../engines/standalone/types.ts';
import type { HistoryEntry } from '../ledger/ledger.ts';
import type { Principal } from '../server/access.ts';
import { plainAnswers } from '../engines/standalone/desired.ts';
import { hostAddress } from '../engines/standalone/status.ts';
import type { HostSpec } from '../environment/types.ts';
import type { ConsoleService } from './service.ts';

export interface HostContainers {
  host: string;
  reachable: boolean;
  error?: string;
  containers: Array<Pick<ObservedContainer, 'id' | 'name' | 'service' | 'number' | 'image' | 'state' | 'health' | 'startedAt' | 'exitCode'> & { urls: string[] }>;
}

const SHA = /^[0-9a-f]{40}$/;

export class StackOps {
  constructor(private readonly svc: ConsoleService) {}

  private async ledger() {
    const l = await this.svc.controller.ledgerNow();
    if (!l) throw new UserError('NO_LEDGER', 'this environment has no ledger (it is a plain folder): there is no history to show or roll back');
    return l;
  }

  async containers(stack: string): Promise<HostContainers[]> {
    const swarm = this.svc.spec(stack)?.swarm;
    if (swarm !== undefined) return this.tasks(stack, swarm);
    const engines = this.svc.controller.engines();
    const snap = this.svc.controller.snapshot();
    return Promise.all(Object.entries(engines).map(async ([host, driver]) => {
      const seen = await driver.observe(stack).catch((e: Error) => ({ reachable: false, error: e.message, containers: [] as ObservedContainer[] }));
      const spec = snap.env?.hosts.find((h) => h.name === host);
      return {
        host, reachable: seen.reachable, ...(seen.error ? { error: seen.error } : {}),
        containers: seen.containers.map((c) => ({
          id: c.id, name: c.name, service: c.service, number: c.number, image: c.image, state: c.state, health: c.health, startedAt: c.startedAt, exitCode: c.exitCode,
          urls: c.state === 'running' && spec ? publishedUrls(c, spec) : [],
        })),
      };
    })).then((hosts) => hosts.filter((h) => !h.reachable || h.containers.length > 0));
  }

  /** A Swarm stack's tasks, one row each, grouped by the node Swarm placed them on. */
  private async tasks(stack: string, swarm: string): Promise<HostContainers[]> {
    const engine = this.svc.controller.swarmEngine(swarm);
    if (!engine) return [{ host: `swarm ${swarm}`, reachable: false, error: `berth.yml declares no swarm "${swarm}"`, containers: [] }];
    const o = await engine.observe(stack);
    if (!o.reachable) return [{ host: `swarm ${swarm}`, reachable: false, ...(o.error ? { error: o.error } : {}), containers: [] }];
    const images = new Map(o.services.map((s) => [s.service, String((s.spec.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, '')]));
    const live = o.tasks.filter((t) => t.desiredState === 'running' || (t.error && t.state !== 'shutdown'));
    const nodes = [...new Set(live.map((t) => t.node))].sort();
    return nodes.map((node) => ({
      host: `swarm ${swarm} · ${node}`, reachable: true,
      containers: live.filter((t) => t.node === node).map((t) => ({
        id: t.containerId ?? t.id, name: `${stack}_${t.service}.${t.slot ?? t.nodeId.slice(0, 12)}`, service: t.service, number: t.slot ?? 0, image: images.get(t.service) ?? '',
        state: t.error ? `${t.state}: ${t.error}` : t.state, startedAt: t.timestamp, urls: [],
      } as HostContainers['containers'][number])),
    }));
  }

  async history(stack: string, limit = 30): Promise<HistoryEntry[]> {
    const ledger = await this.ledger();
    await ledger.refresh().catch(() => undefined);
    return ledger.history(stack, limit);
  }

  /** The diff a ledger commit made to the stack's folder (its compose files and deploy record). */
  async diff(stack: string, commit: string): Promise<string> {
    if (!SHA.test(commit)) throw new UserError('COMMIT_INVALID', `"${commit}" is not a commit id`);
    const ledger = await this.ledger();
    const prefix = `stacks/${stack}`;
    const { commit: info } = await git.readCommit({ fs: defaultFs, dir: ledger.dir, oid: commit }).catch(() => {
      throw new UserError('COMMIT_NOT_FOUND', `no commit ${commit.slice(0, 7)} on the ledger`);
    });
    const after = await readFilesAt(ledger.dir, commit, prefix);
    const before = info.parent[0] ? await readFilesAt(ledger.dir, info.parent[0], prefix) : {};
    const files = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return files.map((f) => unifiedDiff(before[f] ?? '', after[f] ?? '', { fromLabel: `a/${prefix}/${f}`, toLabel: `b/${prefix}/${f}` })).filter(Boolean).join('\n');
  }

  async rollback(stack: string, who: Principal, to?: string, withData = false): Promise<{ commit: string; kind: string; of: string; pushed: boolean }> {
    if (to !== undefined && !SHA.test(to)) throw new UserError('COMMIT_INVALID', `"${to}" is not a commit id`);
    const ledger = await this.ledger();
    const r = await ledger.rollback(stack, { ...(to ? { to } : {}), withData, author: { name: who.name, email: who.email } });
    this.svc.controller.changed('revert', `rollback ${r.commit.slice(0, 7)}`);
    return r;
  }

  /** The stack's secrets in clear (to mask them out of logs); never sent anywhere. */
  async secrets(stack: string): Promise<string[]> {
    const spec = this.svc.spec(stack);
    if (!spec) return [];
    const { answers, encrypted } = await plainAnswers(spec, {}).catch(() => ({ answers: {} as Record<string, unknown>, encrypted: [] as string[] }));
    return encrypted.map((k) => String(answers[k] ?? '')).filter(Boolean);
  }

  /** The last `tail` lines of each of the service's containers (or the one named), masked. */
  async logs(stack: string, service: string, tail: number): Promise<Array<{ host: string; container: string; text: string }>> {
    const secrets = await this.secrets(stack);
    const out: Array<{ host: string; container: string; text: string }> = [];
    const swarm = this.svc.spec(stack)?.swarm;
    if (swarm !== undefined) {
      // Swarm gathers a service's logs from every task on every node: one panel for the service.
      const engine = this.svc.controller.swarmEngine(swarm);
      const text = engine ? await engine.logsTail(stack, service, tail).catch((e: Error) => `(logs unavailable: ${e.message})`) : `(berth.yml declares no swarm "${swarm}")`;
      return [{ host: `swarm ${swarm}`, container: `${stack}_${service}`, text: maskSecrets(text, secrets) }];
    }
    for (const [host, driver] of Object.entries(this.svc.controller.engines())) {
      const seen = await driver.observe(stack).catch(() => undefined);
      for (const c of seen?.containers.filter((x) => x.service === service) ?? []) {
        out.push({ host, container: c.name, text: maskSecrets(await driver.logsTail(c.id, tail).catch((e: Error) => `(logs unavailable: ${e.message})`), secrets) });
      }
    }
    return out;
  }
}

/** `http://host:port/` per published TCP port of a running container, from the config label Berth wrote. */
function publishedUrls(c: ObservedContainer, host: HostSpec): string[] {
  const ports = (c.config?.ports ?? []) as Array<{ published?: string | number; protocol?: string; host_ip?: string; target?: number }>;
  return ports.filter((p) => p.published && (p.protocol ?? 'tcp') === 'tcp')
    .map((p) => `${p.target === 443 ? 'https' : 'http'}://${hostAddress(host, p.host_ip)}:${String(p.published).split('-')[0]}/`);
}
