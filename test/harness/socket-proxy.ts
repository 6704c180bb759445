// A unix-socket proxy in front of a Docker engine's socket: it counts the API requests passing through (the request
// line of each) and can cut every connection at once and refuse new ones, as a daemon restart or a network fault
// would. Tests point a host's endpoint at `path` instead of the daemon's own socket.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SocketProxy {
  /** The socket to give as `unix://<path>`. */
  readonly path: string;
  /** `GET /v1.45/containers/json?…` — every request seen, oldest first. */
  readonly requests: string[];
  /** Requests whose path (version prefix dropped) starts with `prefix`, e.g. `/containers/json`. */
  count(prefix: string, method?: string): number;
  /** Ends every open connection (the engine's side too), as a daemon restart would. */
  cut(): void;
  /** While true, new connections are closed at once. */
  refuse(on: boolean): void;
  /**
   * While set, a connection is cut as soon as it makes a request whose path matches (those open now included):
   * e.g. `/\/events/` loses the event stream while every other call still gets through.
   */
  block(path: RegExp | undefined): void;
  /**
   * While set, the engine hangs from the first request whose path matches: that request and every later one
   * are swallowed, never forwarded nor answered, as a daemon that stopped responding (clients see only their
   * own timeouts). Unset, the swallowed connections are cut and new requests pass again.
   */
  hangFrom(path: RegExp | undefined): void;
  /** True once a request matched `hangFrom`'s pattern. */
  readonly hung: boolean;
  close(): Promise<void>;
}

// Not anchored to a line start: a request may follow a body that ends without CRLF (JSON), in the same chunk or the next.
const REQUEST_LINE = /(GET|POST|PUT|DELETE|HEAD) (\/\S*) HTTP\/1\.[01]\r\n/g;

export async function proxySocket(target: string): Promise<SocketProxy> {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-sockproxy-'));
  const file = path.join(dir, 'docker.sock');
  const requests: string[] = [];
  const live = new Set<net.Socket>();
  /** Per client connection: the paths it requested, and how to end it. */
  const conns = new Map<net.Socket, { paths: string[]; end: () => void }>();
  let refusing = false;
  let blocked: RegExp | undefined;
  let hangPattern: RegExp | undefined;
  let hung = false;
  const swallowed = new Set<() => void>();
  const server = net.createServer((client) => {
    if (refusing) return void client.destroy();
    const engine = net.connect(target);
    live.add(client).add(engine);
    let tail = '';
    const paths: string[] = [];
    client.on('data', (chunk: Buffer) => {
      // Request lines may straddle chunks: keep the unmatched end of the last one.
      const text = tail + chunk.toString('latin1');
      let last = 0;
      const fresh: string[] = [];
      for (const m of text.matchAll(REQUEST_LINE)) {
        requests.push(`${m[1]} ${m[2]}`);
        paths.push(m[2]);
        fresh.push(m[2]);
        last = m.index! + m[0].length;
      }
      tail = text.slice(Math.max(last, text.length - 4096));
      if (blocked && paths.some((p) => blocked!.test(p))) return end();
      if (hangPattern && fresh.some((p) => hangPattern!.test(p))) hung = true;
      if (hung && hangPattern) return void swallowed.add(end);
      engine.write(chunk);
    });
    client.on('end', () => engine.end());
    engine.pipe(client);
    const end = () => {
      client.destroy();
      engine.destroy();
      live.delete(client);
      live.delete(engine);
      conns.delete(client);
    };
    conns.set(client, { paths, end });
    client.on('error', end).on('close', end);
    engine.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(file, resolve));
  const strip = (p: string) => p.replace(/^\/v\d+\.\d+/, '');
  return {
    path: file,
    requests,
    count: (prefix, method) => requests.filter((r) => {
      const [m, p] = r.split(' ');
      return strip(p).startsWith(prefix) && (!method || m === method);
    }).length,
    cut: () => {
      for (const s of live) s.destroy();
      live.clear();
    },
    refuse: (on) => void (refusing = on),
    get hung() {
      return hung;
    },
    hangFrom: (p) => {
      hangPattern = p;
      if (p) return;
      hung = false;
      for (const end of swallowed) end();
      swallowed.clear();
    },
    block: (p) => {
      blocked = p;
      if (p) for (const c of [...conns.values()]) if (c.paths.some((x) => p.test(x))) c.end();
    },
    close: async () => {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
