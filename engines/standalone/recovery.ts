/**
 * Finishing or undoing a rolling update a crash interrupted, decided by the pure plan from what the labels and
 * names say. An update moves a replica through: (stop old) → rename old to `<name>-old-<id>` → create new (its
 * `berth.rollout` label names the old one) → start → healthy → (stop old) → remove old. Killed anywhere in
 * there, a host holds the replica's old container under its aside name, perhaps a new one under the real name:
 *
 * - the new one runs (healthy, or still starting): the update is finished — wait for it, remove the old one;
 * - it is missing, never started, exited or unhealthy: the update is undone — the new one goes, the old one
 *   gets its name back and runs again, and the replica's own operation (usually the recreate again) follows.
 *
 * So the old container is removed only once its replacement proved itself, and a replica is never left without
 * a container nor with two.
 */
import { containerName, isAsideName } from '../docker/labels.ts';
import type { DesiredService, ObservedContainer, Operation } from './types.ts';

export interface Recovery {
  /** Operations that settle the interrupted update: before the replica's own operation. */
  ops: Operation[];
  /** Older old containers of the replica: removed after it, once the host converged. */
  leftovers: Operation[];
  /** The replica's containers once those ran: what the replica's own operation is planned against. */
  rest: ObservedContainer[];
}

const newest = (a: ObservedContainer, b: ObservedContainer) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || a.id.localeCompare(b.id);

/** A service that runs to completion is not restarted just because its old container was put back. */
function runsContinuously(svc: DesiredService | undefined): boolean {
  const restart = svc?.model.restart ?? 'always';
  return restart !== 'no' && !restart.startsWith('on-failure');
}

function whyRestore(c: ObservedContainer | undefined): string {
  if (!c) return 'replacement never created';
  if (c.state === 'created') return 'replacement never started';
  if (c.state === 'exited') return c.exitCode === undefined ? 'replacement exited' : `replacement exited with code ${c.exitCode}`;
  if (c.state === 'running' && c.health === 'unhealthy') return 'replacement unhealthy';
  return `replacement ${c.state}`;
}

function isUp(c: ObservedContainer): boolean {
  return c.state === 'running' && c.health !== 'unhealthy';
}

/** The replica's containers as observed (`found`, all with its service and number labels) → recovery, if one is needed. */
export function recoverReplica(stack: string, host: string, service: string, number: number, found: ObservedContainer[], svc: DesiredService | undefined): Recovery {
  const asides = found.filter((c) => isAsideName(c.name, stack, service, number));
  if (asides.length === 0) return { ops: [], leftovers: [], rest: found };
  const current = found.filter((c) => !asides.includes(c));
  const pairedTo = (a: ObservedContainer) => current.find((c) => c.rollout && a.id.startsWith(c.rollout.replaces.slice(0, 12)));
  const [aside, ...leftovers] = [...asides].sort((a, b) => Number(!pairedTo(a)) - Number(!pairedTo(b)) || newest(a, b));
  const replacement = pairedTo(aside) ?? [...current].sort(newest)[0];
  const ids = { host, service, number };
  const label = `${service}#${number}`;
  const ops: Operation[] = [];
  let rest: ObservedContainer[];
  if (replacement && isUp(replacement)) {
    const state = replacement.health === 'healthy' ? 'healthy' : replacement.health === 'starting' ? 'starting' : 'running';
    ops.push({ kind: 'finish', ...ids, containerId: replacement.id, asideId: aside.id, asideName: aside.name, cause: `finish interrupted update of ${label}: new container ${state}, remove ${aside.name}` });
    rest = current;
  } else {
    const start = aside.state !== 'running' && (replacement?.rollout?.wasRunning ?? runsContinuously(svc));
    const name = svc?.model.container_name ?? containerName(stack, service, number);
    ops.push({ kind: 'restore', ...ids, asideId: aside.id, asideName: aside.name, name, removeIds: current.map((c) => c.id), start, cause: `restore ${label} from ${aside.name}: ${whyRestore(replacement)}` });
    rest = [{ ...aside, name, state: start ? 'running' : aside.state, ...(start ? { health: undefined, exitCode: undefined } : {}) }];
  }
  const removals = leftovers.map((c): Operation => ({ kind: 'remove', ...ids, containerId: c.id, cause: `left over from an interrupted update (${c.name})` }));
  return { ops, leftovers: removals, rest };
}
