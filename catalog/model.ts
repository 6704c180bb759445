/**
 * One typed model of a rendered stack: the compose document after validation and normalization (short forms
 * made long, defaults explicit). Every later stage — plan, apply, ledger, upgrades — reads only this.
 * Durations are milliseconds, sizes are bytes, so nothing downstream parses strings again.
 */

export interface StackModel {
  name: string;
  services: Record<string, ServiceModel>;
  networks: Record<string, NetworkModel>;
  volumes: Record<string, VolumeModel>;
  secrets: Record<string, FileObjectModel>;
  configs: Record<string, FileObjectModel>;
}

export interface ServiceModel {
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  environment: Record<string, string>;
  /** Paths of env files relative to the environment root; their content is read at apply time. */
  env_file: string[];
  labels: Record<string, string>;
  ports: PortModel[];
  expose: string[];
  volumes: MountModel[];
  /** Networks this service joins; `default` when the document names none and network_mode is unset. */
  networks: Record<string, { aliases: string[]; ipv4_address?: string; ipv6_address?: string }>;
  network_mode?: string;
  depends_on: Record<string, { condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'; required: boolean; restart: boolean }>;
  healthcheck?: HealthcheckModel;
  restart: 'no' | 'always' | 'on-failure' | 'unless-stopped' | `on-failure:${number}`;
  user?: string;
  working_dir?: string;
  hostname?: string;
  extra_hosts: string[];
  cap_add: string[];
  cap_drop: string[];
  privileged: boolean;
  devices: { source: string; target: string; permissions: string }[];
  tty: boolean;
  stdin_open: boolean;
  logging?: { driver?: string; options: Record<string, string> };
  stop_signal?: string;
  stop_grace_period_ms?: number;
  ulimits: Record<string, { soft: number; hard: number }>;
  sysctls: Record<string, string>;
  init: boolean;
  /** From mem_limit or deploy.resources.limits.memory, bytes. */
  mem_limit_bytes?: number;
  /** From cpus or deploy.resources.limits.cpus. */
  cpus?: number;
  pull_policy: 'always' | 'never' | 'missing' | 'if_not_present' | 'build';
  secrets: FileMountModel[];
  configs: FileMountModel[];
  deploy: DeployModel;
}

export interface PortModel {
  target: number;
  /** Host port or range (`8080`, `8080-8081`); undefined lets Docker choose. */
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode: 'ingress' | 'host';
}

export type MountModel =
  | { type: 'volume'; source?: string; target: string; read_only: boolean; nocopy: boolean }
  | { type: 'bind'; source: string; target: string; read_only: boolean; create_host_path: boolean }
  | { type: 'tmpfs'; target: string; size_bytes?: number; mode?: number };

export interface HealthcheckModel {
  /** `['NONE']` disables the image's healthcheck; otherwise `['CMD', …]` or `['CMD-SHELL', cmd]`. */
  test: string[];
  interval_ms?: number;
  timeout_ms?: number;
  retries?: number;
  start_period_ms?: number;
  start_interval_ms?: number;
}

export interface DeployModel {
  mode: 'replicated' | 'global';
  /** Total replicas across all matching hosts (replicated mode). */
  replicas: number;
  placement: { constraints: PlacementConstraint[] };
  update_config: {
    parallelism: number;
    delay_ms: number;
    order: 'stop-first' | 'start-first';
    failure_action: 'rollback' | 'pause' | 'continue';
    /** How long a new container has to become healthy (or stay running) before the update fails. */
    monitor_ms: number;
  };
  labels: Record<string, string>;
}

/** `node.labels.role == web` → { label: 'role', op: '==', value: 'web' }. `node.hostname` is label `hostname`. */
export interface PlacementConstraint {
  label: string;
  op: '==' | '!=';
  value: string;
  /** As written, for messages. */
  text: string;
}

export interface NetworkModel {
  /** Name on the host: `<stack>_<key>` unless `name` or `external` says otherwise. */
  name: string;
  external: boolean;
  driver: string;
  driver_opts: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  ipam?: { driver?: string; config: { subnet?: string; gateway?: string; ip_range?: string }[] };
}

export interface VolumeModel {
  name: string;
  external: boolean;
  driver: string;
  driver_opts: Record<string, string>;
  labels: Record<string, string>;
}

/** A top-level secret or config: its content comes from a file (relative to the environment root) or inline. */
export interface FileObjectModel {
  name: string;
  file?: string;
  content?: string;
  environment?: string;
  external: boolean;
}

export interface FileMountModel {
  source: string;
  target: string;
  uid?: string;
  gid?: string;
  mode?: number;
}
