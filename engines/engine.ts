/**
 * The stack-level engine seam. A stack runs on one kind of target — standalone Docker hosts, where Berth places
 * and rolls out containers itself, or a Docker Swarm, which places, rolls out and reschedules on its own — and
 * the loop, the queue, the ledger, the CLI and the HTTP API reach it only through this interface:
 * observe (reads only) → plan (pure, every operation with its cause) → apply (writes only, no decisions),
 * status for people, and what runs for the ledger. Docker's own types stay behind each engine.
 */
import type { EventSink } from './events.ts';
import type { DriftSink } from './drift.ts';
import type { RegistryCredential } from './docker/pull.ts';
import type { ApplyResult, Plan } from './plan-types.ts';
import type { DesiredStack, ObservedStack } from './standalone/types.ts';
import type { SwarmObserved } from './swarm/types.ts';

export type EngineKind = 'standalone' | 'swarm';

/** What an engine read of a stack; only the engine that read it looks inside. */
export type ObservedState = ObservedStack | SwarmObserved;

export interface ApplyOptions {
  events: EventSink;
  signal?: AbortSignal;
  registries?: readonly RegistryCredential[];
}

/** One service as the ledger records it: the reference rendered, what it is pinned to, where its replicas are. */
export interface RunningService {
  /** The reference as rendered (never pinned), e.g. `nginx:1.27-alpine`. */
  image: string;
  /** The repo digest the pinned compose names, when the image has one. */
  digest?: string;
  /** The image ID the service runs. */
  image_id?: string;
  /** Replica numbers placed on the target (a Swarm: 1..replicas). */
  replicas: number[];
  /** The reference that names exactly the running image: `repo:tag@digest`, else the image ID. */
  pinned: string;
}

/** Per service: desired and running replicas, and what a person needs to see on the target. */
export interface ServiceStatus {
  service: string;
  desired: number;
  running: number;
  /** Running replicas whose config is the desired one. */
  upToDate: number;
  unhealthy: number;
  /** Swarm: each task with its node, state and error. */
  tasks?: { node: string; slot?: number; state: string; desiredState: string; error?: string }[];
  /** Swarm: the state of the last service update (`updating`, `completed`, `rollback_completed`, …) and its message. */
  update?: { state: string; message?: string };
}

export interface TargetStatus {
  /** A host's name, or a Swarm's. */
  host: string;
  reachable: boolean;
  error?: string;
  services: ServiceStatus[];
  /** Swarm: its nodes, so a node that is down or drained is seen beside the tasks it held. */
  nodes?: { name: string; role: string; state: string; availability: string }[];
}

export interface StackStatus {
  stack: string;
  source: string;
  engine: EngineKind;
  converged: boolean;
  hosts: TargetStatus[];
  /** Where a person can reach the stack: one URL per published TCP port. */
  endpoints: { service: string; host: string; url: string }[];
}

export interface ObserveOptions {
  /**
   * May answer from the engine's current observation round (newRound): its targets listed once for every stack
   * of a pass. The engine still reads the stack alone when it changed after the round read it.
   */
  shared?: boolean;
  /**
   * Per target, the networks the desired state uses there. Any other network of the stack is one apply would
   * remove: the engine reads what else is attached to it, so the plan says when it will be kept instead.
   */
  networks?: Record<string, string[]>;
}

export interface StackEngine {
  readonly kind: EngineKind;
  /** Reads only. `images` are the desired references, resolved too: plans compare image IDs, not texts. */
  observe(stack: string, images?: string[], opts?: ObserveOptions): Promise<ObservedState>;
  /**
   * Starts an observation round for a pass over many stacks: the next shared observe lists each target once (by
   * Berth's labels) and later ones are answered from that list. Engines without it read each stack alone.
   */
  newRound?(): void;
  /** The stack's objects changed (an event said so): what a round read before now no longer speaks for it. */
  invalidate?(stack: string): void;
  /**
   * Follows the targets' event streams until `signal` aborts, reconnecting on its own: what touched a stack's
   * objects (marked when Berth's own apply explains it), and each stream going down and coming back.
   */
  watch?(sink: DriftSink, signal: AbortSignal): void;
  /** Pure: the same desired and observed state always give the same plan. */
  plan(desired: DesiredStack, observed: ObservedState): Plan;
  /** Carries out exactly the plan; one target failing fails only its part. */
  apply(plan: Plan, desired: DesiredStack, opts: ApplyOptions): Promise<ApplyResult>;
  status(desired: DesiredStack, observed: ObservedState): StackStatus;
  /**
   * What each service runs on `target` now, read back after an apply for the ledger. `seen`: the state just
   * observed, when nothing has changed since (spares the engine a second look).
   */
  running(desired: DesiredStack, target: string, seen?: ObservedState): Promise<Record<string, RunningService>>;
  /**
   * Every stack found on the engine's targets (for status and orphan stacks); with `owner`, the stacks that
   * environment deployed containers or services of (what pruning a removed stack file may touch).
   */
  listStacks(owner?: string): Promise<string[]>;
}

/** Nothing to do: every operation keeps what runs. Errors and unreachable targets are reported apart. */
export function isNoop(plan: Plan): boolean {
  return plan.hosts.every((h) => h.operations.every((op) => op.kind === 'keep' || op.kind === 'keep-service'));
}
