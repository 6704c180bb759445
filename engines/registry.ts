/**
 * Picks each stack's engine from its target: `swarm: NAME` → that Swarm's engine, else the standalone engine over
 * the environment's hosts. Engines (and their Docker clients) are made once per environment and shared by
 * every stack, whoever asks — serve's loop, `berth apply|plan|status`, the demo.
 */
import { UserError } from '../lib/errors.ts';
import type { Environment } from '../environment/environment.ts';
import type { HostSpec, SwarmSpec } from '../environment/types.ts';
import type { EngineKind, StackEngine } from './engine.ts';
import { DockerHostDriver, type EngineDriver } from './standalone/driver.ts';
import { StandaloneEngine } from './standalone/engine.ts';
import { SwarmEngine } from './swarm/engine.ts';

/** One driver per host of the environment, made once and shared by every stack. */
export function driversFor(hosts: HostSpec[]): Record<string, EngineDriver> {
  return Object.fromEntries(hosts.map((h) => [h.name, new DockerHostDriver(h)]));
}

export interface EnginesOptions {
  /** Drivers for the standalone hosts (tests inject their own); default: one DockerHostDriver per host. */
  drivers?: Record<string, EngineDriver>;
}

export class Engines {
  private standaloneEngine?: StandaloneEngine;
  private readonly swarmEngines = new Map<string, SwarmEngine>();

  constructor(private readonly env: Pick<Environment, 'hosts' | 'swarms'>, private readonly opts: EnginesOptions = {}) {}

  /** Same hosts and swarms: the engines made for one environment serve the next one too. */
  static key(env: Pick<Environment, 'hosts' | 'swarms'>): string {
    return JSON.stringify([env.hosts, env.swarms ?? []]);
  }

  get standalone(): StandaloneEngine {
    return (this.standaloneEngine ??= new StandaloneEngine(this.opts.drivers ?? driversFor(this.env.hosts)));
  }

  swarm(name: string): SwarmEngine {
    let engine = this.swarmEngines.get(name);
    if (!engine) {
      const spec = this.env.swarms?.find((s) => s.name === name);
      if (!spec) throw new UserError('SWARM_NOT_DECLARED', `swarm "${name}" is not declared in berth.yml`, { hint: 'Add it under swarms: with its managers, or change swarm: in the stack file.' });
      this.swarmEngines.set(name, (engine = new SwarmEngine(spec)));
    }
    return engine;
  }

  /** The engine that runs a stack. */
  for(spec: { swarm?: string }): StackEngine {
    const pick: Record<EngineKind, () => StackEngine> = {
      standalone: () => this.standalone,
      swarm: () => this.swarm(spec.swarm!),
    };
    return pick[spec.swarm === undefined ? 'standalone' : 'swarm']();
  }

  /** Every engine of the environment: the standalone one and one per Swarm. */
  all(): StackEngine[] {
    return [this.standalone, ...(this.env.swarms ?? []).map((s: SwarmSpec) => this.swarm(s.name))];
  }
}

