/** Desired against running, per host and service: what `berth status` and `/api/stacks` show. */
import type { TargetStatus as HostStatus, StackStatus } from '../engine.ts';
import type { DesiredStack, ObservedStack } from './types.ts';
import type { HostSpec } from '../../environment/types.ts';

export type { ServiceStatus, StackStatus, TargetStatus as HostStatus } from '../engine.ts';

export function stackStatus(desired: DesiredStack, observed: ObservedStack): StackStatus {
  const hosts: HostStatus[] = [];
  const names = new Set([...Object.keys(desired.hosts), ...Object.keys(observed.hosts).filter((h) => observed.hosts[h].containers.length > 0)]);
  for (const name of names) {
    const want = desired.hosts[name];
    const seen = observed.hosts[name];
    const services = new Set([...(want ? want.replicas.map((r) => r.service) : []), ...(seen?.containers.map((c) => c.service) ?? [])]);
    hosts.push({
      host: name,
      reachable: seen?.reachable ?? false,
      error: seen?.error,
      services: [...services].sort().map((service) => {
        const containers = (seen?.containers ?? []).filter((c) => c.service === service && c.state === 'running');
        const hash = want?.services[service]?.hash;
        return {
          service,
          desired: want ? want.replicas.filter((r) => r.service === service).length : 0,
          running: containers.length,
          upToDate: containers.filter((c) => c.hash !== undefined && c.hash === hash).length,
          unhealthy: containers.filter((c) => c.health === 'unhealthy').length,
        };
      }),
    });
  }
  const converged = hosts.every((h) => h.reachable && h.services.every((s) => s.desired === s.running && s.upToDate === s.desired && s.unhealthy === 0));
  return { stack: desired.name, source: desired.source, engine: 'standalone', converged, hosts, endpoints: endpoints(desired) };
}

function endpoints(desired: DesiredStack): StackStatus['endpoints'] {
  const out: StackStatus['endpoints'] = [];
  for (const dh of Object.values(desired.hosts)) {
    const placed = new Set(dh.replicas.map((r) => r.service));
    for (const service of [...placed].sort()) {
      for (const p of desired.model.services[service].ports) {
        if (p.protocol !== 'tcp' || !p.published) continue;
        const port = p.published.split('-')[0];
        const scheme = p.target === 443 ? 'https' : 'http';
        out.push({ service, host: dh.host.name, url: `${scheme}://${hostAddress(dh.host, p.host_ip)}:${port}/` });
      }
    }
  }
  return out;
}

/** The address a person types: the host of a tcp:// or ssh:// endpoint, localhost for a local socket. */
export function hostAddress(host: HostSpec, hostIp?: string): string {
  if (hostIp && hostIp !== '0.0.0.0' && hostIp !== '::') return hostIp;
  const m = /^(?:tcp|ssh):\/\/(?:[^@/]+@)?([^:/]+)/.exec(host.endpoint);
  return m ? m[1] : 'localhost';
}
