/**
 * Where a stack runs: standalone hosts (chosen by the stack's `hosts:` selector, replicas placed by Berth) or one
 * Docker Swarm (one target holding every replica: Swarm places them on its nodes). Pure, so the desired state
 * and a rollback from the ledger place a stack the same way.
 */
import type { StackModel } from '../catalog/model.ts';
import { selectHosts, type Environment } from '../environment/environment.ts';
import type { HostSpec, StackSpec, SwarmSpec } from '../environment/types.ts';
import { placeStack, type StackPlacement } from './standalone/placement.ts';
import type { EngineKind } from './engine.ts';

export function engineKindOf(spec: Pick<StackSpec, 'swarm'>): EngineKind {
  return spec.swarm === undefined ? 'standalone' : 'swarm';
}

/** A Swarm seen as one target: its name, and its first manager as the address people reach it at. */
export function swarmTarget(swarm: SwarmSpec): HostSpec {
  return { name: swarm.name, endpoint: swarm.managers[0], labels: {} };
}

export function swarmOf(env: Environment, spec: Pick<StackSpec, 'swarm' | 'name'>): SwarmSpec | undefined {
  return spec.swarm === undefined ? undefined : env.swarms?.find((s) => s.name === spec.swarm);
}

/** The targets of a stack: its Swarm, or the hosts its selector chooses (in berth.yml order). */
export function stackTargets(env: Environment, spec: StackSpec): HostSpec[] {
  const swarm = swarmOf(env, spec);
  if (spec.swarm !== undefined) return swarm ? [swarmTarget(swarm)] : [];
  return selectHosts(env.hosts, spec.hosts);
}

/** On a Swarm every replica is on the one target, numbered 1..replicas (global: one entry; Swarm runs one per node). */
function placeOnSwarm(model: StackModel, target: HostSpec): StackPlacement {
  const placement = Object.fromEntries(Object.keys(model.services).sort().map((name) => {
    const d = model.services[name].deploy;
    const count = d.mode === 'global' ? 1 : d.replicas;
    return [name, Array.from({ length: count }, (_, i) => ({ host: target.name, number: i + 1 }))];
  }));
  return { placement, errors: [] };
}

export function placeOnTargets(env: Environment, spec: StackSpec, model: StackModel): StackPlacement & { targets: HostSpec[] } {
  const targets = stackTargets(env, spec);
  if (spec.swarm !== undefined) {
    if (!targets.length) return { targets, placement: {}, errors: [`swarm "${spec.swarm}" is not declared in berth.yml`] };
    return { targets, ...placeOnSwarm(model, targets[0]) };
  }
  return { targets, ...placeStack(model, targets) };
}
