/**
 * What the Swarm engine reads of a stack: its services (spec, version index, update state), tasks, networks,
 * configs and secrets — plain data, no dockerode types — so the plan is a pure function of it.
 */
import type { SwarmSpecJson } from '../plan-types.ts';

export interface ObservedSwarmService {
  id: string;
  /** `<stack>_<service>`, as `docker stack deploy` names it. */
  name: string;
  /** The compose service name. */
  service: string;
  /** The version index an update must name (optimistic concurrency). */
  version: number;
  /** Berth's spec-hash label; undefined for a service Berth did not make (e.g. `docker stack deploy`). */
  hash?: string;
  /** The environment that deployed it (`berth.owner`); undefined for one Berth did not make. */
  owner?: string;
  spec: SwarmSpecJson;
  /** `updating`, `paused`, `completed`, `rollback_started`, `rollback_paused`, `rollback_completed`. */
  updateState?: string;
  updateMessage?: string;
  /** Replicated: the count asked for; global: undefined. */
  replicas?: number;
}

export interface ObservedTask {
  id: string;
  service: string;
  serviceId: string;
  slot?: number;
  nodeId: string;
  node: string;
  state: string;
  desiredState: string;
  error?: string;
  message?: string;
  containerId?: string;
  /** The spec version the task was made from. */
  version?: number;
  timestamp: string;
}

export interface ObservedObject {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface ObservedNode {
  id: string;
  hostname: string;
  role: string;
  state: string;
  availability: string;
  addr: string;
  labels: Record<string, string>;
}

export interface SwarmObserved {
  engine: 'swarm';
  stack: string;
  swarm: string;
  reachable: boolean;
  error?: string;
  services: ObservedSwarmService[];
  tasks: ObservedTask[];
  networks: ObservedObject[];
  configs: ObservedObject[];
  secrets: ObservedObject[];
  nodes: ObservedNode[];
  /** Desired image reference → image ID on the manager, when it has the image. */
  images: Record<string, string>;
}
