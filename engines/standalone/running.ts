/** What the standalone engine tells the ledger each service runs on a host, read back after an apply. */
import type { RunningService } from '../engine.ts';
import { pinnedRef } from '../docker/pinned.ts';
import type { EngineDriver } from './driver.ts';
import { unpinnedRef } from './hash.ts';
import type { DesiredHost, ObservedHost } from './types.ts';

/**
 * What each service placed on the host runs now, read back after the apply: its image ID (the running
 * containers' — the one the desired reference resolves to when replicas disagree mid-rollout) and repo digests.
 */
/** `seen`: the host as just observed, when nothing has changed on it since (spares the engine a second look). */
export async function runningImages(driver: EngineDriver, stack: string, d: DesiredHost, seen?: ObservedHost): Promise<Record<string, RunningService>> {
  const refs = Object.values(d.services).map((s) => s.model.image);
  const observed = seen?.reachable && refs.every((r) => seen.images?.[r] !== undefined) ? seen : await driver.observe(stack, { images: refs });
  const chosen: Record<string, string | undefined> = {};
  for (const [name, svc] of Object.entries(d.services)) {
    const ids = [...new Set(observed.containers.filter((c) => c.service === name && c.state === 'running').map((c) => c.imageId))];
    const wanted = observed.images?.[svc.model.image];
    chosen[name] = ids.includes(wanted ?? '') ? wanted : (ids[0] ?? wanted);
  }
  const ids = Object.values(chosen).filter((x): x is string => !!x);
  const identities = driver.imageDigests ? await driver.imageDigests(ids) : Object.fromEntries(ids.map((id) => [id, { id, repoDigests: [] }]));
  const out: Record<string, RunningService> = {};
  for (const [name, svc] of Object.entries(d.services)) {
    const image = chosen[name] ? identities[chosen[name]!] ?? { id: chosen[name]!, repoDigests: [] } : undefined;
    const original = typeof svc.config.image === 'string' ? svc.config.image : unpinnedRef(svc.model.image);
    const pin = pinnedRef(original, image);
    const replicas = d.replicas.filter((r) => r.service === name).map((r) => r.number);
    out[name] = { image: original, ...(pin.digest ? { digest: pin.digest } : {}), ...(image ? { image_id: image.id } : {}), replicas, pinned: pin.ref };
  }
  return out;
}

