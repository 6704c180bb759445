/** What the `berth bundle` commands do; cli/bundle.ts declares them and loads this only when one runs. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { catalogContents, environmentContents } from '../bundle/contents.ts';
import { createBundle } from '../bundle/create.ts';
import { loadBundle, type LoadResult } from '../bundle/load.ts';
import type { BundleManifest } from '../bundle/manifest.ts';
import { formatBytes, type ProgressSink } from '../bundle/progress.ts';
import { openBundle, verifyBundle } from '../bundle/reader.ts';
import { keygen, readPrivateKey, readPublicKey } from '../bundle/sign.ts';
import { connectHost } from '../engines/docker/connect.ts';
import { loadEnvironment } from '../environment/environment.ts';
import { UserError } from '../lib/errors.ts';
import { createLogger } from '../lib/log.ts';
import { builtinCatalogRoot } from '../lib/version.ts';
import { table } from './table.ts';

export interface CreateOpts {
  output: string; env?: string; stacks?: string; catalog?: string[]; allVersions?: boolean; includeEnv?: boolean;
  sign?: string; dockerHost?: string; from?: string; gzipLevel: string; json?: boolean;
}
export interface InspectOpts { json?: boolean }
export interface VerifyOpts { key?: string; json?: boolean }
export interface LoadOpts { env: string; hosts?: string; swarm?: string; key?: string; json?: boolean }

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function sink(json?: boolean): ProgressSink | undefined {
  if (json) return undefined;
  return process.stderr.isTTY ? { tty: process.stderr } : { log: createLogger() };
}

function gzipLevel(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new UserError('BUNDLE_GZIP_LEVEL', `--gzip-level ${text} is not a level from 1 to 9`, { hint: '1 is fastest (the default), 9 smallest.' });
  return n;
}

/** The host the images are exported from: --docker-host, --from (a host of --env), $DOCKER_HOST, the local socket. */
function sourceHost(opts: CreateOpts, env: Awaited<ReturnType<typeof loadEnvironment>> | undefined) {
  if (opts.dockerHost) return { name: opts.dockerHost, endpoint: opts.dockerHost, labels: {} };
  if (opts.from) {
    const h = env?.hosts.find((x) => x.name === opts.from);
    if (!h) throw new UserError('BUNDLE_HOST_UNKNOWN', `--from ${opts.from}: ${env ? 'berth.yml has no such host' : 'needs --env'}`, { hint: env ? `hosts: ${env.hosts.map((x) => x.name).join(', ')}` : 'Give --env DIR, or --docker-host ENDPOINT.' });
    return h;
  }
  const endpoint = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  return { name: endpoint, endpoint, labels: {} };
}

/** `--catalog NAME=DIR` or `--catalog DIR` (named after its folder): the name the site's berth.yml uses for it. */
function catalogArg(arg: string): { name: string; root: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)=(.+)$/.exec(arg);
  const root = path.resolve(m ? m[2] : arg);
  return { name: m ? m[1] : path.basename(root), root };
}

export async function createAction(opts: CreateOpts): Promise<void> {
  const log = createLogger();
  const level = gzipLevel(opts.gzipLevel);
  const env = opts.env ? await loadEnvironment(opts.env) : undefined;
  if (!env && !opts.catalog?.length) throw new UserError('BUNDLE_NOTHING', 'a bundle needs --env DIR (its stacks) or --catalog DIR (whole catalogs)', { hint: 'berth bundle create -o release.berth --env ./env' });
  if (!env && (opts.stacks || opts.includeEnv)) throw new UserError('BUNDLE_NEEDS_ENV', '--stacks and --include-env need --env DIR');
  const contents = env
    ? await environmentContents(env, { stacks: opts.stacks?.split(',').map((s) => s.trim()).filter(Boolean), catalogs: opts.catalog, allVersions: opts.allVersions, builtinRoot: builtinCatalogRoot() })
    : await catalogContents(opts.catalog!.map(catalogArg), { allVersions: opts.allVersions });
  const host = sourceHost(opts, env);
  const manifest = await createBundle({
    output: path.resolve(opts.output),
    contents,
    docker: connectHost(host, { timeoutMs: 30 * 60_000 }),
    dockerWhere: `host ${host.name}`,
    ...(opts.includeEnv && env ? { environment: { name: path.basename(env.root), root: env.root } } : {}),
    ...(opts.sign ? { key: await readPrivateKey(opts.sign) } : {}),
    gzipLevel: level,
    progress: sink(opts.json),
    log,
  });
  if (opts.json) return print(JSON.stringify(manifest, null, 2));
  const { size } = await stat(opts.output);
  print(`wrote ${opts.output}: ${formatBytes(size)}, ${manifest.images.length} images, ${manifest.layers.length} layers, ${manifest.catalogs.length} catalogs${manifest.environment ? ', the environment' : ''}${opts.sign ? ', signed' : ''}`);
}

function summary(m: BundleManifest, file: string, size: number, signature?: string): string[] {
  const shared = m.layers.filter((l) => m.images.filter((i) => i.layers.includes(l.digest)).length > 1).length;
  return [
    `bundle ${file} (${formatBytes(size)}), ${m.format}, made ${m.createdAt} by Berth ${m.berth.version}`,
    signature ? `signed by key ${signature}` : 'not signed',
    `${m.images.length} images, ${m.layers.length} layers stored once each (${shared} shared by several images), ${m.parts.length} parts`,
  ];
}

function tables(m: BundleManifest): string[] {
  const out: string[] = [];
  if (m.catalogs.length || m.environment) {
    const t = table(['REPOSITORY', 'BRANCH', 'COMMIT', 'REFS', 'TEMPLATES']);
    for (const c of m.catalogs) t.push([`catalog ${c.name}`, c.head, c.refs[`refs/heads/${c.head}`].slice(0, 12), String(Object.keys(c.refs).length), c.templates.map((x) => `${x.name} ${x.versions.join(', ')}`).join('\n')]);
    if (m.environment) t.push(['environment', m.environment.head, m.environment.refs[`refs/heads/${m.environment.head}`].slice(0, 12), String(Object.keys(m.environment.refs).length), '']);
    out.push(t.toString());
  }
  if (m.stacks.length) {
    const t = table(['STACK', 'TEMPLATE', 'CATALOG', 'VERSIONS']);
    for (const s of m.stacks) t.push([s.name, s.template, s.catalog, s.versions.join(', ')]);
    out.push(t.toString());
  }
  const t = table(['IMAGE', 'ID', 'SIZE', 'LAYERS', 'REPO DIGEST']);
  for (const i of m.images) t.push([i.tags.join('\n') || '<untagged>', i.id.slice(7, 19), formatBytes(i.size), String(i.layers.length), i.repoDigests[0] ?? '']);
  out.push(t.toString());
  return out;
}

export async function inspectAction(file: string, opts: InspectOpts): Promise<void> {
  const b = await openBundle(file);
  try {
    if (opts.json) return print(JSON.stringify(b.manifest, null, 2));
    const signature = b.signature ? (JSON.parse(b.signature.toString('utf8')) as { keyId?: string }).keyId : undefined;
    const { size } = await b.fd.stat();
    print([...summary(b.manifest, file, size, signature ? `${signature} (not checked: berth bundle verify --key PUB)` : undefined), '', ...tables(b.manifest)].join('\n'));
  } finally {
    await b.close();
  }
}

export async function verifyAction(file: string, opts: VerifyOpts): Promise<void> {
  const key = opts.key ? await readPublicKey(opts.key) : undefined;
  const b = await openBundle(file);
  try {
    const r = await verifyBundle(b, { ...(key ? { key } : {}), progress: sink(opts.json) });
    if (opts.json) return print(JSON.stringify({ ok: true, ...r, parts: b.manifest.parts.length }));
    print(`${file}: every part (${b.manifest.parts.length}, ${formatBytes(r.bytes)}) matches the manifest`);
    print(r.signedBy ? `signature: good, by key ${r.signedBy}` : r.signed ? 'signature: present, not checked (give --key PUB to check it)' : 'signature: none');
  } finally {
    await b.close();
  }
}

function parseSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError('BUNDLE_HOSTS_SELECTOR', `--hosts ${text}: "${pair}" is not LABEL=VALUE`, { hint: 'e.g. --hosts role=web,zone=a (hostname=NAME picks one host)' });
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function describeLoad(r: LoadResult): string[] {
  const lines = [r.verified.signedBy ? `verified, signed by key ${r.verified.signedBy}` : `verified${r.verified.signed ? ' (signature not checked: no --key)' : ''}`];
  for (const h of r.hosts) {
    const what = h.loaded.length ? `loaded ${h.loaded.join(', ')} (${formatBytes(h.bytes)})` : 'has every image';
    lines.push(`${r.swarm ? `swarm ${r.swarm} node` : 'host'} ${h.host}: ${what}${h.tagged.length ? `; tagged ${h.tagged.join(', ')}` : ''}`);
  }
  for (const repo of r.repos) {
    const moved = repo.refs.filter((c) => c.action !== 'unchanged');
    const what = repo.installed ? 'installed' : moved.length ? moved.map((c) => `${c.ref.replace(/^refs\/(heads|tags)\//, '')} ${c.action}`).join(', ') : 'unchanged';
    lines.push(`${repo.name} (${repo.dir}): ${what}`);
  }
  return [...lines, ...r.notes.map((n) => `note: ${n}`)];
}

export async function loadAction(file: string, opts: LoadOpts): Promise<void> {
  const key = opts.key ? await readPublicKey(opts.key) : undefined;
  const log = createLogger();
  if (opts.hosts && opts.swarm) throw new UserError('BUNDLE_TARGETS', '--hosts and --swarm cannot be combined', { hint: 'Load a Swarm and standalone hosts with one command each.' });
  const result = await loadBundle({
    file, env: opts.env, ...(opts.hosts ? { hosts: parseSelector(opts.hosts) } : {}), ...(opts.swarm ? { swarm: opts.swarm } : {}), ...(key ? { key } : {}), progress: sink(opts.json), log,
  });
  if (opts.json) return print(JSON.stringify(result, null, 2));
  print(describeLoad(result).join('\n'));
}

export async function keygenAction(opts: { out: string }): Promise<void> {
  const k = await keygen(opts.out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') throw new UserError('BUNDLE_KEY_EXISTS', `${e.path ?? opts.out} exists; Berth never overwrites a key`, { hint: 'Choose another --out, or move the old key away.' });
    throw e;
  });
  print(`private key: ${k.private} (keep it secret; berth bundle create --sign ${k.private})\npublic key:  ${k.public} (give it to operators; berth bundle verify --key ${k.public})\nkey id: ${k.keyId}`);
}

