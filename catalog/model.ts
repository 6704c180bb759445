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
  /** The document's top-level `name:` as written: compose's project name. Berth deploys under `name` (the stack's). */
  compose_name?: string;
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
  // Single-host keys below are optional and absent unless written, so a stack that does not use them hashes as
  // before. Each maps to one field of Docker's container create (see container-spec.ts); an engine that cannot
  // honour one (Swarm) refuses it by name.
  /** Keys written without a value (`- KEY`, `KEY:`): filled from the environment folder's `.env` at apply time. */
  environment_from_dotenv?: string[];
  /** Files of `LABEL=value` lines, relative to the environment root; read at apply time like env_file. */
  label_file?: string[];
  /** Only one replica on one host may carry a fixed name (the plan refuses more). */
  container_name?: string;
  /** `service[:alias]` of this stack, as `{ service, alias }`. */
  links?: { service: string; alias: string }[];
  /** `container[:alias]` of containers outside the stack. */
  external_links?: { container: string; alias: string }[];
  /** `service:NAME[:ro|rw]` or `container:NAME[:ro|rw]`; a bare name is a service. */
  volumes_from?: { kind: 'service' | 'container'; name: string; read_only: boolean }[];
  /** The service runs only when one of these profiles is active (the stack's `profiles:`). */
  profiles?: string[];
  dns?: string[];
  dns_search?: string[];
  dns_opt?: string[];
  domainname?: string;
  security_opt?: string[];
  read_only?: boolean;
  shm_size_bytes?: number;
  pids_limit?: number;
  /** `host`, `service:NAME` or `container:NAME` (pid and ipc); ipc also `shareable`, `private`, `none`. */
  pid?: string;
  ipc?: string;
  uts?: string;
  /** From mem_reservation or deploy.resources.reservations.memory, bytes (a soft limit on one host). */
  mem_reservation_bytes?: number;
  mem_swappiness?: number;
  /** deploy.resources.reservations.cpus: a scheduling hint; a standalone engine has no CPU reservation (compose ignores it too). */
  cpus_reservation?: number;
  group_add?: string[];
  cgroup_parent?: string;
  device_cgroup_rules?: string[];
  storage_opt?: Record<string, string>;
  mac_address?: string;
  /** `os/arch[/variant]`: the image pulled and the container created for this platform. */
  platform?: string;
  /** deploy.restart_policy.delay and window: Docker's own restart policy has neither; kept as written for Swarm. */
  restart_delay_ms?: number;
  restart_window_ms?: number;
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
  | { type: 'bind'; source: string; target: string; read_only: boolean; create_host_path: boolean; /** Relabel for SELinux: shared (z) or private (Z). */ selinux?: 'z' | 'Z' }
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
  placement: {
    constraints: PlacementConstraint[];
    /**
     * Swarm's soft spread over node label values (`node.labels.zone`), in order. Absent unless written, like
     * max_replicas_per_node: a stack that does not use them plans and hashes as before.
     */
    preferences?: { spread: string }[];
    /** At most this many replicas on one node or host; 0 in compose (no limit) is left out. */
    max_replicas_per_node?: number;
  };
  update_config: {
    parallelism: number;
    delay_ms: number;
    order: 'stop-first' | 'start-first';
    failure_action: 'rollback' | 'pause' | 'continue';
    /** How long a new container has to become healthy (or stay running) before the update fails. */
    monitor_ms: number;
  };
  labels: Record<string, string>;
  /** Swarm only: `vip` (Swarm's default) or `dnsrr`. */
  endpoint_mode?: 'vip' | 'dnsrr';
  /**
   * `deploy.restart_policy.condition` as written. Swarm reads only this (`docker stack deploy` ignores `restart:`)
   * and defaults to `any`; `restart` above, which folds both keys, is what a single host's engine is given.
   */
  restart_condition?: 'none' | 'on-failure' | 'any';
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
