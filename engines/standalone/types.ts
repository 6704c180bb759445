/**
 * The standalone engine's contracts: what a stack asks of each host (desired), what a host has (observed), and
 * the plan between them. observe.ts only reads hosts, plan.ts is a pure function of desired and observed, and
 * execute.ts only writes what the plan says — so a plan printed is exactly the work that will be done.
 */
import type { NetworkModel, ServiceModel, StackModel, VolumeModel } from '../../catalog/model.ts';
import type { HostSpec } from '../../environment/types.ts';

// ---------- desired ----------

/** One replica Berth wants on a host. */
export interface DesiredReplica {
  service: string;
  /** 1-based, unique per service across all hosts of the stack. */
  number: number;
}

export interface DesiredService {
  model: ServiceModel;
  /**
   * Hash of everything that should recreate a container when it changes: the service's config (minus
   * scale), the content of its configs/secrets/env files, and the definitions of the networks and volumes
   * it uses. Secret values are in the hash but never in `config`.
   */
  hash: string;
  /** The hashed config as JSON-able data with secret values replaced by `sha256:<hex>`: stored on the container so a later plan can say which fields changed. */
  config: Record<string, unknown>;
  /** Contents of the service's configs, secrets and env files, keyed by their source name (secret values in clear: memory only). */
  files: Record<string, string>;
}

export interface DesiredHost {
  host: HostSpec;
  services: Record<string, DesiredService>;
  /** Replicas placed on this host, in service then number order. */
  replicas: DesiredReplica[];
  /** Networks and volumes used by the services placed on this host. */
  networks: NetworkModel[];
  volumes: VolumeModel[];
}

export interface DesiredStack {
  name: string;
  model: StackModel;
  /** `template@version`, for messages and ledger records. */
  source: string;
  /** Every host of the stack's selector, including hosts where no replica landed (so orphans there are removed). */
  hosts: Record<string, DesiredHost>;
  /** Secret values to mask wherever text leaves Berth. */
  secrets: string[];
  /** The model before env files were merged into `environment` (what the ledger records); default `model`. */
  rendered?: StackModel;
  /** Secret answers by variable (memory only): the ledger writes `${BERTH_SECRET_<variable>}` in their place. */
  secretAnswers?: Record<string, string>;
  /** compose's project labels: the environment root (where `./` resolves) and the stack's file. */
  project?: { working_dir: string; config_files: string };
  /** The deploying environment's identity (environment/identity.ts): labelled on every container made. */
  owner?: string;
  /** Answers to `immutable` questions as the ledger records them (upgrades/immutable.ts). */
  immutable?: Record<string, string | number | boolean>;
  /**
   * Set when the stack is being pruned (its file left the environment): the cause every removal names. Only what
   * `owner` deployed is removed; a target holding anything else of the stack is not touched (controller/prune.ts).
   */
  removed?: string;
  /**
   * Services no target can take (a constraint no host satisfies, more replicas than max_replicas_per_node lets
   * fit): the plan carries them as its errors, so `berth plan` shows them with everything else it decided.
   */
  placementErrors?: string[];
}

// ---------- observed ----------

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ObservedContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  /** Berth's config-hash label; undefined for a container Berth did not make. */
  hash?: string;
  /** Parsed `berth.config` label (see DesiredService.config). */
  config?: Record<string, unknown>;
  image: string;
  imageId: string;
  state: ContainerState;
  health?: 'starting' | 'healthy' | 'unhealthy';
  startedAt?: string;
  /** Exit code when exited. */
  exitCode?: number;
  /** Set on a container made by a rolling update: the container it replaces (see LABEL.rollout). */
  rollout?: { replaces: string; wasRunning: boolean };
  /** The environment that deployed it (`berth.owner`); undefined for one made before owners were labelled. */
  owner?: string;
}

export interface ObservedHost {
  host: string;
  /** False when the host could not be reached; then `error` says why and the lists are empty. */
  reachable: boolean;
  error?: string;
  containers: ObservedContainer[];
  /**
   * Networks and volumes labelled with the stack. `users`: for a network the desired state no longer uses on the
   * host, the containers outside the stack attached to it (read only then), which keep it from being removed.
   */
  networks: { name: string; id: string; users?: string[] }[];
  volumes: { name: string }[];
  /**
   * What each image reference the stack's containers were made from, and each desired one, resolves to on the
   * host now (image ID); absent when the image is gone. A tag moved to another image means the container runs
   * stale code.
   */
  images?: Record<string, string>;
}

/** Every stack on one host, read at once (`readAt`, ms) for a pass over many stacks; images resolve on demand. */
export interface HostInventory {
  host: string;
  reachable: boolean;
  error?: string;
  readAt: number;
  /** By stack (compose project), each list as observe() would return it. */
  containers: Map<string, ObservedContainer[]>;
  networks: Map<string, ObservedHost['networks']>;
  volumes: Map<string, ObservedHost['volumes']>;
}

export interface ObservedStack {
  name: string;
  hosts: Record<string, ObservedHost>;
}

// ---------- plan ----------

// The plan's vocabulary is shared by every engine (engines/plan-types.ts); re-exported for the standalone modules.
export type { FieldChange, HostPlan, Operation, Plan } from '../plan-types.ts';

// ---------- host driver ----------

/** One Docker host. Standalone engines now; a Swarm driver implements the same verbs later. */
export interface HostDriver {
  readonly host: HostSpec;
  ping(signal?: AbortSignal): Promise<void>;
  /** Reads only: containers, networks and volumes labelled with the stack; `images` are references to resolve too (the desired ones). */
  observe(stack: string, opts?: { images?: string[] }): Promise<ObservedHost>;
  /** Every stack name found on the host (for status and orphan stacks); with `owner`, those it deployed containers of. */
  listStacks(owner?: string): Promise<string[]>;
}
