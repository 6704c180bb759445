/**
 * One observation pass over the stacks of the standalone hosts: each host is listed once — on the first stack that
 * asks — and every stack's share is cut from that list, instead of a ping and three lists per stack and host. Image
 * references resolve once per host for the whole pass. A stack that changed after a host was listed (Berth applied
 * it, an event touched it) is not answered from the round: the engine reads it alone.
 */
import type { EngineDriver } from './driver.ts';
import { stackOnHost, unreachableHost } from './driver.ts';
import type { HostInventory, ObservedHost } from './types.ts';

export class ObservationRound {
  private readonly hosts = new Map<string, Promise<HostInventory>>();
  /** `host\0reference` → the image ID it names there (undefined: no such image). */
  private readonly images = new Map<string, Promise<string | undefined>>();

  /** The stack's share of the host, or undefined when the round cannot speak for it (then read the stack alone). */
  async share(driver: EngineDriver, stack: string, images: readonly string[], changedAt: number): Promise<ObservedHost | undefined> {
    if (!driver.inventory || !driver.imageDigests) return undefined;
    const inventory = await this.inventory(driver).catch(() => undefined);
    if (!inventory || inventory.readAt <= changedAt) return undefined;
    if (!inventory.reachable) return unreachableHost(driver.host.name, new Error(inventory.error ?? 'unreachable'));
    const containers = [...(inventory.containers.get(stack) ?? [])];
    const ids = await this.resolve(driver, [...new Set([...containers.map((c) => c.image), ...images])]).catch(() => undefined);
    if (!ids) return undefined;
    return stackOnHost(driver.host.name, { containers, images: ids, networks: [...(inventory.networks.get(stack) ?? [])], volumes: [...(inventory.volumes.get(stack) ?? [])] });
  }

  /**
   * The stacks on the host with a container `owner` deployed, from the round's list (the same list every stack of
   * the pass is cut from, so looking for removed stacks costs no call of its own); undefined when the round cannot say.
   */
  async stacksOf(driver: EngineDriver, owner: string): Promise<string[] | undefined> {
    if (!driver.inventory) return undefined;
    const inventory = await this.inventory(driver).catch(() => undefined);
    if (!inventory?.reachable) return undefined;
    return [...inventory.containers].filter(([, list]) => list.some((c) => c.owner === owner)).map(([stack]) => stack);
  }

  private inventory(driver: EngineDriver): Promise<HostInventory> {
    const name = driver.host.name;
    let found = this.hosts.get(name);
    if (!found) {
      found = driver.inventory!();
      this.hosts.set(name, found);
      // A failed read is no answer: the next stack asks again (or reads alone).
      found.catch(() => this.hosts.delete(name));
    }
    return found;
  }

  private async resolve(driver: EngineDriver, refs: string[]): Promise<Record<string, string>> {
    const ids = await Promise.all(refs.map((ref) => {
      const key = `${driver.host.name}\0${ref}`;
      let found = this.images.get(key);
      if (!found) {
        found = driver.imageDigests!([ref]).then((d) => d[ref]?.id);
        this.images.set(key, found);
        found.catch(() => this.images.delete(key));
      }
      return found;
    }));
    return Object.fromEntries(refs.flatMap((ref, i) => (ids[i] ? [[ref, ids[i]]] : [])));
  }
}
