/**
 * One observation pass over the stacks of a Swarm: the manager is asked once — on the first stack that asks — for
 * every stack's services, tasks, networks, configs and secrets (by the stack label), and each stack's share is cut
 * from that listing, instead of six calls per stack. Image references resolve once per pass. A stack that changed
 * after the listing was read (Berth applied it, an event touched it) is not answered from the round.
 */
import type { SwarmClient } from './client.ts';
import { cutStack, imageIds, listSwarm, ownedStacks, type SwarmListing } from './observe.ts';
import type { SwarmObserved } from './types.ts';

/**
 * How long a listing answers. Swarm sends no event when a task fails or moves (only when a service changes), so a
 * listing must not outlive the pass it was read for: a later reconcile of the same engine lists again.
 */
const MAX_AGE_MS = 60_000;

export class SwarmRound {
  private listing?: Promise<SwarmListing>;
  private listedAt = 0;
  private readonly images = new Map<string, Promise<string | undefined>>();

  constructor(private readonly client: SwarmClient) {}

  /** The stack as the round's listing has it, or undefined when the round cannot speak for it (then read it alone). */
  async share(stack: string, images: readonly string[], changedAt: number): Promise<SwarmObserved | undefined> {
    const listing = await this.list().catch(() => undefined);
    if (!listing || listing.readAt <= changedAt) return undefined;
    const ids = await this.resolve([...new Set(images)]).catch(() => undefined);
    return ids && cutStack(listing, this.client.swarm.name, stack, ids);
  }

  /** The stacks `owner` deployed, from the same listing (looking for removed stacks costs no call of its own). */
  async stacksOf(owner: string): Promise<string[] | undefined> {
    const listing = await this.list().catch(() => undefined);
    return listing && ownedStacks(listing, owner);
  }

  private list(): Promise<SwarmListing> {
    if (!this.listing || Date.now() - this.listedAt > MAX_AGE_MS) {
      this.listedAt = Date.now();
      this.images.clear();
      this.listing = this.client.call((docker) => listSwarm(docker));
      // A failed read is no answer: the next stack asks again (or reads alone, and says the Swarm is unreachable).
      this.listing.catch(() => { this.listing = undefined; });
    }
    return this.listing;
  }

  private async resolve(refs: string[]): Promise<Record<string, string>> {
    const missing = refs.filter((r) => !this.images.has(r));
    if (missing.length) {
      const found = this.client.call((docker) => imageIds(docker, missing));
      for (const r of missing) {
        const one = found.then((ids) => ids[r]);
        this.images.set(r, one);
        one.catch(() => this.images.delete(r));
      }
    }
    const ids = await Promise.all(refs.map((r) => this.images.get(r)!));
    return Object.fromEntries(refs.flatMap((r, i) => (ids[i] ? [[r, ids[i]!]] : [])));
  }
}
