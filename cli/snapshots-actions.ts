/** `berth snapshots STACK`: the data snapshots a stack's volumes have on each standalone host of the environment. */
import { loadEnvironment } from '../environment/environment.ts';
import { connectHost } from '../engines/docker/connect.ts';
import { listSnapshots, type Snapshot } from '../engines/docker/snapshot.ts';
import { table } from './table.ts';

export type HostSnapshot = Snapshot & { host: string };

const size = (n?: number) => (n === undefined ? '' : n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(1)} GiB`);

export async function snapshotsAction(stack: string, opts: { env: string; json?: boolean }): Promise<void> {
  const env = await loadEnvironment(opts.env);
  const rows: HostSnapshot[] = [];
  // Snapshots stay where the volume is: every host is asked, since a stack's placement may have changed since.
  for (const host of env.hosts) {
    try {
      for (const s of await listSnapshots(connectHost(host), stack, { sizes: true })) rows.push({ host: host.name, ...s });
    } catch (e) {
      process.stderr.write(`warning: ${host.name}: cannot list snapshots (${(e as Error).message})\n`);
      process.exitCode = 1;
    }
  }
  if (opts.json) return print(JSON.stringify(rows, null, 2));
  if (!rows.length) return print(`no data snapshots of stack ${stack} on ${env.hosts.map((h) => h.name).join(', ') || 'any host'}`);
  const t = table(['HOST', 'VOLUME', 'VERSION', 'TIME', 'SIZE', 'SNAPSHOT']);
  for (const r of rows) t.push([r.host, r.volume, r.version, r.time.replace('T', ' ').slice(0, 19), size(r.size), r.id]);
  print(t.toString());
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
