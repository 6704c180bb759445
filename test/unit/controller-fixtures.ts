// Small builders of normalized models and controller states for the controller's unit tests.
import type { NetworkModel, PlacementConstraint, ServiceModel, StackModel, VolumeModel } from '../../catalog/model.ts';
import { serviceConfig } from '../../engines/standalone/hash.ts';
import { placeStack } from '../../engines/standalone/placement.ts';
import type { DesiredStack, ObservedContainer, ObservedHost, ObservedStack } from '../../engines/standalone/types.ts';
import type { HostSpec } from '../../environment/types.ts';

type ServiceInput = Partial<Omit<ServiceModel, 'deploy'>> & { deploy?: Partial<ServiceModel['deploy']> };

export function service(name: string, over: ServiceInput = {}): ServiceModel {
  const { deploy, ...rest } = over;
  return {
    name, image: 'nginx:1.27-alpine', environment: {}, env_file: [], labels: {}, ports: [], expose: [], volumes: [],
    networks: { default: { aliases: [] } }, depends_on: {}, restart: 'unless-stopped', extra_hosts: [], cap_add: [], cap_drop: [],
    privileged: false, devices: [], tty: false, stdin_open: false, ulimits: {}, sysctls: {}, init: false, pull_policy: 'missing',
    secrets: [], configs: [],
    ...rest,
    deploy: {
      mode: 'replicated', replicas: 1, placement: { constraints: [] }, labels: {},
      update_config: { parallelism: 1, delay_ms: 0, order: 'stop-first', failure_action: 'pause', monitor_ms: 0 },
      ...deploy,
    },
  };
}

export function network(stack: string, key: string, over: Partial<NetworkModel> = {}): NetworkModel {
  return { name: `${stack}_${key}`, external: false, driver: 'bridge', driver_opts: {}, internal: false, attachable: false, labels: {}, ...over };
}

export function volume(stack: string, key: string, over: Partial<VolumeModel> = {}): VolumeModel {
  return { name: `${stack}_${key}`, external: false, driver: 'local', driver_opts: {}, labels: {}, ...over };
}

export function stackModel(name: string, services: ServiceModel[], extra: Partial<StackModel> = {}): StackModel {
  return {
    name, services: Object.fromEntries(services.map((s) => [s.name, s])),
    networks: { default: network(name, 'default') }, volumes: {}, secrets: {}, configs: {}, ...extra,
  };
}

/** `node.labels.role == db` style constraint. */
export function constraint(label: string, op: '==' | '!=', value: string): PlacementConstraint {
  const text = label === 'hostname' ? `node.hostname ${op} ${value}` : `node.labels.${label} ${op} ${value}`;
  return { label, op, value, text };
}

export function host(name: string, labels: Record<string, string> = {}): HostSpec {
  return { name, endpoint: `unix:///run/berth-test/${name}.sock`, labels };
}

/** The desired state desired.ts would build, without a catalog or files. */
export function desired(model: StackModel, hosts: HostSpec[], source = 'demo@1.0.0'): DesiredStack {
  const { placement, errors } = placeStack(model, hosts);
  if (errors.length) throw new Error(errors.join('\n'));
  const services = Object.fromEntries(Object.values(model.services).map((s) => [s.name, { model: s, files: {}, ...serviceConfig(s, model, {}, []) }]));
  const out: DesiredStack = { name: model.name, model, source, hosts: {}, secrets: [] };
  for (const h of hosts) {
    const replicas = Object.keys(placement).sort().flatMap((s) => placement[s].filter((p) => p.host === h.name).map((p) => ({ service: s, number: p.number })));
    const names = [...new Set(replicas.map((r) => r.service))];
    const nets = [...new Set(names.flatMap((s) => Object.keys(model.services[s].networks)))].sort().map((k) => model.networks[k]);
    const vols = [...new Set(names.flatMap((s) => model.services[s].volumes.flatMap((m) => (m.type === 'volume' && m.source ? [m.source] : []))))].sort().map((k) => model.volumes[k]);
    out.hosts[h.name] = { host: h, replicas, services: Object.fromEntries(names.map((s) => [s, services[s]])), networks: nets, volumes: vols };
  }
  return out;
}

/** A running container of the desired config (or of `from`, a model the container was made with). */
export function container(stack: string, svc: ServiceModel, number: number, over: Partial<ObservedContainer> & { from?: StackModel } = {}): ObservedContainer {
  const { from, ...rest } = over;
  const model = from ?? stackModel(stack, [svc]);
  const { hash, config } = serviceConfig(model.services[svc.name] ?? svc, model, {}, []);
  return {
    id: `${svc.name}${number}${rest.state ?? ''}`.padEnd(12, '0'), name: `${stack}-${svc.name}-${number}`, service: svc.name, number,
    hash, config, image: svc.image, imageId: 'sha256:img', state: 'running', startedAt: '2024-05-01T00:00:00Z', ...rest,
  };
}

export function observedHost(name: string, containers: ObservedContainer[], networks: string[] = [], volumes: string[] = []): ObservedHost {
  return { host: name, reachable: true, containers, networks: networks.map((n) => ({ name: n, id: `id-${n}` })), volumes: volumes.map((v) => ({ name: v })) };
}

export function observed(name: string, hosts: ObservedHost[]): ObservedStack {
  return { name, hosts: Object.fromEntries(hosts.map((h) => [h.host, h])) };
}
