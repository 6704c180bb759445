/**
 * bench/scale.ts over the test Swarm (`--swarm`): the same N stacks as Swarm services, one replica each
 * (berth-test/busybox:1 `sleep`), all on one internal attachable overlay /20 network the benchmark makes (Swarm's
 * address pool holds a few hundred /24 networks, not one per stack, and a /24 about 250 tasks; internal, so the
 * tasks do not also join each node's /24 docker_gwbridge), `endpoint_mode: dnsrr` (no IPVS on the test kernel).
 *
 * Drift on a Swarm is not a killed container — Swarm replaces a failed task itself — but a service changed by hand:
 * `--kill` services are scaled to 0 replicas through the API, as `docker service scale` does, and the figure is the
 * time until each runs its task again, put back by Berth on the service's update event.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { busyboxImage } from '../test/harness/images.ts';
import { testSwarm, type TestSwarm } from '../test/harness/swarm.ts';
import { waitFor, type Serve } from './serve-child.ts';

export const NETWORK = 'bscale-net';
/** Outside the test Swarm's pools (10.87–10.89): room for 4,000 tasks. */
const SUBNET = '10.92.0.0/20';
const NAMESPACE = 'com.docker.stack.namespace';

export interface Drift {
  oneS: number;
  backS: number[];
  otherTouched: number;
  runs: string[];
}

export interface ScaleTarget {
  /** "h1, h2, h3 (Docker 20.10.24)" — for the report. */
  describe(): Promise<string>;
  /** Reachable, images in place, leftovers of an earlier run removed (how many). */
  prepare(): Promise<number>;
  berthYml(catalog: string): string;
  stackFile(i: number): string;
  compose: string;
  /** CPU seconds the target's engine processes used so far. */
  daemonCpu(): Promise<number>;
  /** `kill` objects changed by hand at once (after one alone); the seconds until each is back, and what else moved. */
  drift(s: Serve, kill: number, track: () => Promise<void>): Promise<Drift>;
  /** What drift means on this target, for the report's rows. */
  driftWhat: { one: string; many: (n: number) => string };
  cleanup(): Promise<number>;
}

export async function cpuOf(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!text) return NaN;
  const f = text.replace(/^.*\) /s, '').split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

export class SwarmTarget implements ScaleTarget {
  private swarm!: TestSwarm;
  readonly compose = `services:\n  app:\n    image: berth-test/busybox:1\n    command: [sleep, "86400"]\n    stop_grace_period: 1s\n    deploy:\n      endpoint_mode: dnsrr\nnetworks:\n  default:\n    external: true\n    name: ${NETWORK}\n`;
  readonly driftWhat = { one: 'a service scaled to 0 by hand → its task running again', many: (n: number) => `${n} services scaled to 0 at once → all running again` };

  constructor(private readonly prefix: string) {}

  private get manager(): Docker {
    return this.swarm.nodes[0]!.docker;
  }

  async describe(): Promise<string> {
    return `the test Swarm ${this.swarm.nodes.map((n) => n.name).join(', ')} (Docker ${(await this.manager.version()).Version}, nodes in network namespaces)`;
  }

  async prepare(): Promise<number> {
    const found = await testSwarm([busyboxImage()]);
    if (!found.swarm) throw new Error(`the test Swarm is not up (${found.reason}): bash test/harness/swarm.sh start`);
    this.swarm = found.swarm;
    const left = await this.cleanup();
    // A /20: each task takes an address on it, and a /24 from the default pool would stop at about 250 tasks.
    // Internal: a task on a non-internal overlay also joins its node's docker_gwbridge, a /24 here (the test
    // Swarm's address pool), which would stop each node at about 250 tasks. A sleeping task needs no way out.
    await this.manager.createNetwork({ Name: NETWORK, Driver: 'overlay', Attachable: true, Internal: true, Labels: { 'berth-bench': 'scale' }, IPAM: { Driver: 'default', Config: [{ Subnet: SUBNET }] } });
    return left;
  }

  berthYml(catalog: string): string {
    return `catalogs:\n  - name: bench\n    path: ${catalog}\nhosts: []\nswarms:\n  - name: bench\n    managers: [${this.swarm.manager}]\n`;
  }

  stackFile(): string {
    return 'template: sleeper\nversion: 1.0.0\nswarm: bench\nanswers: {}\n';
  }

  async daemonCpu(): Promise<number> {
    const pids = await Promise.all(this.swarm.nodes.map(async (n) => Number((await readFile(path.join('/run/berth-swarm', `${n.name}.pid`), 'utf8').catch(() => '')).trim()) || undefined));
    return (await Promise.all(pids.map(cpuOf))).reduce((a, b) => a + b, 0);
  }

  private async services(): Promise<Docker.Service[]> {
    return (await this.manager.listServices({ filters: JSON.stringify({ label: [NAMESPACE] }) }))
      .filter((s) => (s.Spec?.Labels?.[NAMESPACE] ?? '').startsWith(this.prefix));
  }

  /** Stacks whose service runs its one task. */
  private async running(): Promise<Set<string>> {
    const tasks = await this.manager.listTasks({ filters: JSON.stringify({ 'desired-state': ['running'] }) }) as Array<{ ServiceID: string; Status?: { State?: string } }>;
    const byId = new Map((await this.services()).map((s) => [s.ID, s.Spec!.Labels![NAMESPACE]!]));
    return new Set(tasks.filter((t) => t.Status?.State === 'running' && byId.has(t.ServiceID)).map((t) => byId.get(t.ServiceID)!));
  }

  /** Scales the stacks' services to 0 as by hand; the seconds until each runs its task again. */
  private async scaleDownAndWait(victims: string[]): Promise<number[]> {
    const services = (await this.services()).filter((s) => victims.includes(s.Spec!.Labels![NAMESPACE]!));
    const t0 = Date.now();
    await Promise.all(services.map(async (s) => {
      const spec = s.Spec!;
      await this.manager.getService(s.ID).update({ version: s.Version!.Index, ...spec, Mode: { Replicated: { Replicas: 0 } } } as never);
    }));
    const down = new Set<string>();
    await waitFor(`the ${victims.length} services scaled down`, 60_000, 100, async () => {
      const up = await this.running();
      for (const v of victims) if (!up.has(v)) down.add(v);
      return down.size === victims.length;
    }).catch(() => undefined);
    const back = new Map<string, number>();
    await waitFor(`the ${victims.length} services running again`, 300_000, 250, async () => {
      const up = await this.running();
      for (const v of victims) if (up.has(v) && !back.has(v)) back.set(v, (Date.now() - t0) / 1000);
      return back.size === victims.length;
    });
    return victims.map((v) => back.get(v)!);
  }

  async drift(s: Serve, kill: number, track: () => Promise<void>): Promise<Drift> {
    const before = new Map((await this.services()).map((x) => [x.Spec!.Labels![NAMESPACE]!, x.Version!.Index!]));
    const names = [...before.keys()].sort();
    const many = Array.from({ length: kill }, (_, k) => names[Math.floor((k * names.length) / kill)]!);
    const one = names.find((n) => !many.includes(n)) ?? names[0]!;
    const logFrom = s.logs.length;
    const [oneS] = await this.scaleDownAndWait([one]);
    await sleep(5_000);
    const backS = await this.scaleDownAndWait(many);
    await sleep(5_000);
    await track();
    const victims = [one, ...many];
    let otherTouched = 0;
    for (const x of await this.services()) {
      const st = x.Spec!.Labels![NAMESPACE]!;
      if (!victims.includes(st) && before.get(st) !== x.Version!.Index) otherTouched++;
    }
    const runs = s.logs.slice(logFrom).filter((l) => l.outcome === 'converged').map((l) => String(l.stack));
    otherTouched += runs.filter((r) => !victims.includes(r)).length;
    return { oneS: oneS!, backS, otherTouched, runs };
  }

  async cleanup(): Promise<number> {
    if (!this.swarm) return 0;
    const gone = (e: { statusCode?: number }) => (e.statusCode === 404 ? undefined : Promise.reject(e));
    const services = await this.services();
    for (let i = 0; i < services.length; i += 20) await Promise.all(services.slice(i, i + 20).map((x) => this.manager.getService(x.ID).remove().catch(gone)));
    // The network goes once every node's task containers of the removed services have.
    for (let i = 0; i < 240; i++) {
      const left = await Promise.all(this.swarm.nodes.map((n) => n.docker.listContainers({ all: true, filters: JSON.stringify({ label: [NAMESPACE] }) })
        .then((l) => l.filter((c) => (c.Labels[NAMESPACE] ?? '').startsWith(this.prefix)).length, () => 0)));
      if (left.every((x) => x === 0)) break;
      await sleep(500);
    }
    await this.manager.getNetwork(NETWORK).remove().catch(gone);
    return services.length;
  }
}
