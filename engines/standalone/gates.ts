/**
 * depends_on across hosts: a service starts only when its dependencies have reached their condition on
 * every host that runs them. Each (host, service) pair opens once its containers are started; the stronger
 * conditions (healthy, completed) are checked on demand, once, by asking that host's engine.
 */
import { BerthError } from '../../lib/errors.ts';
import type { ServiceModel } from '../../catalog/model.ts';
import type { Plan } from './types.ts';
import { waitCompleted, waitReady, type WaitDriver } from './wait.ts';

export type Condition = ServiceModel['depends_on'][string]['condition'];

interface Deferred {
  promise: Promise<string[]>;
  resolve(ids: string[]): void;
  reject(e: unknown): void;
  settled: boolean;
}

function deferred(): Deferred {
  let resolve!: (ids: string[]) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<string[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may depend on this service: an unawaited rejection must not crash the process.
  promise.catch(() => {});
  const d: Deferred = {
    promise,
    settled: false,
    resolve: (ids) => {
      d.settled = true;
      resolve(ids);
    },
    reject: (e) => {
      d.settled = true;
      reject(e);
    },
  };
  return d;
}

const SERVICE_KINDS = new Set(['create', 'recreate', 'start', 'keep']);

export class ServiceGates {
  private readonly started = new Map<string, Deferred>();
  private readonly checks = new Map<string, Promise<boolean>>();

  /** Registers every (host, service) of the plan that a reachable host will run. */
  constructor(
    plan: Plan,
    private readonly drivers: Record<string, WaitDriver>,
    private readonly opts: { deadlineMs: number; signal?: AbortSignal },
  ) {
    for (const hp of plan.hosts) {
      if (hp.error || !drivers[hp.host]) continue;
      for (const op of hp.operations) {
        if (SERVICE_KINDS.has(op.kind) && 'service' in op) this.key(hp.host, op.service, true);
      }
    }
  }

  private key(host: string, service: string, create = false): Deferred | undefined {
    const k = `${host}\u0000${service}`;
    if (create && !this.started.has(k)) this.started.set(k, deferred());
    return this.started.get(k);
  }

  private hostsOf(service: string): string[] {
    return [...this.started.keys()].filter((k) => k.endsWith(`\u0000${service}`)).map((k) => k.split('\u0000')[0]);
  }

  /** The service's containers on this host are started (or kept): ids of all of them. */
  open(host: string, service: string, ids: string[]): void {
    this.key(host, service)?.resolve(ids);
  }

  fail(host: string, service: string, e: unknown): void {
    const d = this.key(host, service);
    if (d && !d.settled) d.reject(e);
  }

  /** A host gave up: every service it had not opened yet will never open. */
  failHost(host: string, e: unknown): void {
    for (const [k, d] of this.started) if (k.startsWith(`${host}\u0000`) && !d.settled) d.reject(e);
  }

  /**
   * Resolves when `service` meets `condition` on every host running it; rejects with the first reason it cannot.
   * A host other than the dependent's that is lost meanwhile (unreachable, hung past its timeouts) is left out,
   * as it would have been had it been down when the plan was made: one failing host must not fail the healthy
   * ones. Resolves to the hosts left out, so the caller can say so.
   */
  async wait(service: string, condition: Condition, dependent: { service: string; host: string }): Promise<string[]> {
    const lost = await Promise.all(this.hostsOf(service).map((host) => this.waitOn(host, service, condition, dependent)));
    return this.hostsOf(service).filter((_, i) => lost[i]);
  }

  private waitOn(host: string, service: string, condition: Condition, dependent: { service: string; host: string }): Promise<boolean> {
    const k = [host, service, condition, dependent.service, dependent.host].join('\u0000');
    let p = this.checks.get(k);
    if (!p) {
      p = this.check(host, service, condition, dependent.service).then(
        () => false,
        (e: unknown) => {
          if (host !== dependent.host && isHostLoss(e)) return true;
          throw e;
        },
      );
      p.catch(() => {});
      this.checks.set(k, p);
    }
    return p;
  }

  private async check(host: string, service: string, condition: Condition, dependent: string): Promise<void> {
    let ids: string[];
    try {
      ids = await this.key(host, service)!.promise;
    } catch (e) {
      if (isHostLoss(e)) throw e;
      throw new BerthError('apply.dependency.failed', 'user', `dependency ${service} on ${host} did not start: ${(e as Error).message}`, { cause: e });
    }
    if (condition === 'service_started') return;
    const driver = this.drivers[host];
    const { deadlineMs, signal } = this.opts;
    if (condition === 'service_healthy') await Promise.all(ids.map((id) => requireHealthcheck(driver, id, service, dependent)));
    await Promise.all(
      ids.map((id) =>
        condition === 'service_healthy'
          ? waitReady(driver, id, { healthcheck: true, deadlineMs, signal })
          : waitCompleted(driver, id, { deadlineMs, signal }),
      ),
    );
  }
}

/** The host itself went away (not the service failing on it): its engine stopped answering. */
function isHostLoss(e: unknown): boolean {
  return (e as BerthError | undefined)?.kind === 'unreachable';
}

/**
 * compose refuses to wait for health that can never come: neither the service nor its image defines a check
 * (the engine merges the image's healthcheck into the container's config, so inspect sees both).
 */
async function requireHealthcheck(driver: WaitDriver, id: string, service: string, dependent: string): Promise<void> {
  const test = (await driver.inspect(id)).Config.Healthcheck?.Test ?? [];
  if (test.length && test[0] !== 'NONE') return;
  throw new BerthError('apply.dependency.no-healthcheck', 'user',
    `service "${dependent}" waits for service "${service}" to be healthy (depends_on condition: service_healthy), but "${service}" has no healthcheck (neither in the template nor in its image)`,
    { data: { service, dependent }, hint: `add a healthcheck to "${service}", or use condition: service_started in "${dependent}"` });
}

/** A cycle in depends_on would make services wait for each other forever: name it instead. */
export function dependencyCycle(services: Record<string, ServiceModel>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (state.get(name) === 'done' || !services[name]) return undefined;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    for (const dep of Object.keys(services[name].depends_on)) {
      const cycle = visit(dep, [...path, name]);
      if (cycle) return cycle;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(services)) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}
