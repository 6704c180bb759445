/**
 * What an environment declares: its hosts and its stacks, as berth.yml and stacks/<name>.yml say them once
 * loaded and checked. Engines take these; nothing here knows how a stack is deployed.
 */

export interface HostSpec {
  name: string;
  /** `unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host[:port]`. */
  endpoint: string;
  /** For tcp:// endpoints: absolute paths of PEM files. */
  tls?: { ca: string; cert: string; key: string };
  /** For ssh:// endpoints: absolute path of a private key (else the agent / default keys). */
  ssh?: { privateKeyFile?: string };
  labels: Record<string, string>;
}

/** A Docker Swarm (berth.yml `swarms:`): its managers are tried in order, so one manager down is no outage. */
export interface SwarmSpec {
  name: string;
  /** Endpoints as for hosts: `unix://…`, `tcp://…` (with `tls`), `ssh://…` (with `ssh`). */
  managers: string[];
  /**
   * Every node's own engine (managers' included or not), for what only a node's engine can do: load images
   * where there is no registry (`berth bundle load --swarm`). Deploys never need it.
   */
  nodes?: string[];
  tls?: HostSpec['tls'];
  ssh?: HostSpec['ssh'];
}

export interface StackSpec {
  name: string;
  /** Path relative to the environment root, e.g. `stacks/shop.yml`. */
  file: string;
  /** Name of a catalog declared in berth.yml; default: the first one. */
  catalog?: string;
  template: string;
  version: string;
  answers: Record<string, unknown>;
  /** Label selector over hosts (all must match); empty: every host. Unused when `swarm` is set. */
  hosts: Record<string, string>;
  /** Active compose profiles: services with `profiles:` run only when one of theirs is listed (`*` = all). */
  profiles?: string[];
  /** Immutable answers allowed to change in the next deploy (upgrades/immutable.ts). */
  force_change?: string[];
  /**
   * Why this stack's file cannot be used (YAML, unknown key, selector, …), with the file and line. Such a stack
   * stays listed — it fails alone, the others converge — and nothing renders or deploys it (docs/security.md).
   */
  invalid?: Error;
  /** The Swarm (berth.yml `swarms:`) the stack runs on, instead of standalone hosts. */
  swarm?: string;
  /** Where `template:`, `version:` and each answer are written in `file` (1-based), for errors about them. */
  lines?: { template?: number; version?: number; answers?: Record<string, number> };
}
