/**
 * Compose keys the model keeps for Docker Swarm that mean nothing on standalone hosts: a stack on hosts that
 * sets one is refused, naming the key, rather than deployed with the setting silently dropped.
 * (max_replicas_per_node is honoured on hosts: see placement.ts.)
 */
import { ValidationError, type Problem } from '../../lib/errors.ts';
import type { StackModel } from '../../catalog/model.ts';
import type { StackSpec } from '../../environment/types.ts';

export function refuseSwarmOnlyKeys(model: StackModel, spec: StackSpec): void {
  const problems: Problem[] = [];
  for (const [name, svc] of Object.entries(model.services)) {
    if (svc.deploy.endpoint_mode !== undefined) {
      problems.push({ file: spec.file, field: `services.${name}.deploy.endpoint_mode`, message: 'is Swarm load balancing; on standalone hosts Docker\'s DNS answers with every replica. Remove it, or deploy the stack to a Swarm (swarm:)' });
    }
    if (svc.deploy.placement.preferences) {
      problems.push({ file: spec.file, field: `services.${name}.deploy.placement.preferences`, message: 'spreads tasks over node label values, which only a Swarm does; on standalone hosts Berth places replicas round-robin over the matching hosts in berth.yml order. Remove it, or deploy the stack to a Swarm (swarm:)' });
    }
  }
  if (problems.length) throw new ValidationError('COMPOSE_UNSUPPORTED', `Stack ${spec.name} uses keys standalone hosts cannot honour:`, problems);
}
