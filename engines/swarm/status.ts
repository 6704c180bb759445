/** Per service on a Swarm: replicas running/desired, each task with its node, state and error, the update state. */
import type { ServiceStatus, StackStatus } from '../engine.ts';
import type { DesiredStack } from '../standalone/types.ts';
import { serviceSpec, SPEC_HASH_LABEL } from './spec.ts';
import type { SwarmObserved } from './types.ts';

function serviceStatus(desired: DesiredStack, o: SwarmObserved, name: string): ServiceStatus {
  const d = desired.hosts[o.swarm]?.services[name];
  const have = o.services.find((s) => s.service === name);
  const live = o.tasks.filter((t) => t.service === name && t.desiredState === 'running');
  const running = live.filter((t) => t.state === 'running');
  const global = d ? d.model.deploy.mode === 'global' : have?.replicas === undefined;
  const hash = d ? (serviceSpec(d.model, desired.model, desired.name, d.files, desired.owner).Labels as Record<string, string>)[SPEC_HASH_LABEL] : undefined;
  // The newest tasks that ended badly say why a service is short of replicas.
  const recent = o.tasks.filter((t) => t.service === name && (t.desiredState === 'running' || t.error)).slice(0, Math.max(6, live.length));
  return {
    service: name,
    desired: !d ? 0 : global ? live.length || 1 : d.model.deploy.replicas,
    running: running.length,
    upToDate: have && have.hash === hash ? running.length : 0,
    unhealthy: live.filter((t) => t.state === 'starting').length,
    tasks: recent.map((t) => ({ node: t.node, ...(t.slot ? { slot: t.slot } : {}), state: t.state, desiredState: t.desiredState, ...(t.error ? { error: t.error } : {}) })),
    ...(have?.updateState ? { update: { state: have.updateState, ...(have.updateMessage ? { message: have.updateMessage } : {}) } } : {}),
  };
}

export function swarmStatus(desired: DesiredStack, o: SwarmObserved): StackStatus {
  const names = [...new Set([...Object.keys(desired.hosts[o.swarm]?.services ?? {}), ...o.services.map((s) => s.service)])].sort();
  const services = o.reachable ? names.map((n) => serviceStatus(desired, o, n)) : [];
  const failedUpdate = services.some((s) => s.update && s.update.state !== 'completed' && !s.update.state.startsWith('updating'));
  const converged = o.reachable && !failedUpdate && services.every((s) => s.desired === s.running && s.upToDate === s.desired && s.unhealthy === 0);
  const endpoints = names.flatMap((service) => (desired.model.services[service]?.ports ?? []).filter((p) => p.protocol === 'tcp' && p.published).flatMap((p) => {
    const port = p.published!.split('-')[0];
    // The routing mesh answers on every node; a port published in host mode only on the nodes running a task.
    const addrs = p.mode === 'host' ? taskAddresses(o, service) : [managerAddress(o)];
    return addrs.map((addr) => ({ service, host: o.swarm, url: `http://${addr}:${port}/` }));
  }));
  return {
    stack: desired.name, source: desired.source, engine: 'swarm', converged,
    hosts: [{
      host: o.swarm, reachable: o.reachable, ...(o.error ? { error: o.error } : {}), services,
      nodes: o.nodes.map((n) => ({ name: n.hostname, role: n.role, state: n.state, availability: n.availability })),
    }],
    endpoints,
  };
}

function taskAddresses(o: SwarmObserved, service: string): string[] {
  const nodes = new Set(o.tasks.filter((t) => t.service === service && t.state === 'running').map((t) => t.nodeId));
  return o.nodes.filter((n) => nodes.has(n.id) && n.addr).map((n) => n.addr).sort();
}

function managerAddress(o: SwarmObserved): string {
  return o.nodes.find((n) => n.role === 'manager')?.addr || 'localhost';
}
