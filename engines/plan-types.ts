/**
 * What every engine's plan is made of: per target (a standalone host, or a Swarm), operations each with the cause
 * a person reads. The loop, the ledger and the CLI read plans only through these types, whichever engine made them.
 */
import type { NetworkModel, VolumeModel } from '../catalog/model.ts';

export interface FieldChange {
  /** Dotted path in the service config, e.g. `environment.MSG` or `image`. */
  field: string;
  from: string;
  to: string;
}

interface OpBase {
  host: string;
  /** Why this operation is planned, in words a person reads: "not found", "config changed: image", "scale 3 → 2", "orphan: service removed from the stack". */
  cause: string;
}

export type Operation =
  | (OpBase & { kind: 'create-network'; network: NetworkModel })
  | (OpBase & { kind: 'create-volume'; volume: VolumeModel })
  | (OpBase & { kind: 'create'; service: string; number: number })
  | (OpBase & { kind: 'recreate'; service: string; number: number; containerId: string; changes: FieldChange[] })
  | (OpBase & { kind: 'start'; service: string; number: number; containerId: string })
  | (OpBase & { kind: 'remove'; service: string; number: number; containerId: string })
  | (OpBase & { kind: 'remove-network'; network: string })
  | (OpBase & { kind: 'keep'; service: string; number: number; containerId: string })
  /** An update a crash interrupted, whose replacement runs: wait until it is ready, then remove the old container. */
  | (OpBase & { kind: 'finish'; service: string; number: number; containerId: string; asideId: string; asideName: string })
  /**
   * An update a crash interrupted, whose replacement never came up: remove it (`removeIds`), give the old
   * container its name back (`asideId` → `name`) and start it when `start`. The replica's own operation follows.
   */
  | (OpBase & { kind: 'restore'; service: string; number: number; asideId: string; asideName: string; name: string; removeIds: string[]; start: boolean })
  // A Swarm places, rolls out and reschedules tasks itself: its plan is per service, and per config and secret.
  | (OpBase & { kind: 'create-service'; service: string; spec: SwarmSpecJson })
  | (OpBase & { kind: 'update-service'; service: string; id: string; version: number; spec: SwarmSpecJson; changes: FieldChange[] })
  | (OpBase & { kind: 'remove-service'; service: string; id: string })
  | (OpBase & { kind: 'keep-service'; service: string; id: string })
  | (OpBase & { kind: 'create-object'; object: 'config' | 'secret'; name: string; source: string })
  | (OpBase & { kind: 'remove-object'; object: 'config' | 'secret'; name: string; id: string });

/** A Swarm service spec as the Engine API takes it (JSON): the plan carries it so apply decides nothing. */
export type SwarmSpecJson = Record<string, unknown>;

export interface HostPlan {
  host: string;
  /** Unreachable target, or one whose copy of the stack another environment owns: no operations, this error. */
  error?: string;
  /** The other environment that owns the stack on this target (then `error` says so and nothing is touched). */
  ownedBy?: string;
  operations: Operation[];
  /** Decisions apply makes beyond the operations: image pulls, start-first falling back to stop-first. */
  notes?: string[];
}

export interface Plan {
  stack: string;
  source: string;
  hosts: HostPlan[];
  /** Problems that stop the whole stack (e.g. a constraint no host satisfies). */
  errors: string[];
}


// ---------- apply ----------

export interface HostResult {
  outcome: 'converged' | 'failed' | 'unreachable' | 'unchanged';
  error?: string;
  /** Operations carried out (keeps are not operations). */
  operations: number;
}

export interface ApplyResult {
  stack: string;
  hosts: Record<string, HostResult>;
}

