/**
 * An environment folder: `berth.yml` (catalogs, hosts, registries) and `stacks/<name>.yml`. Loading checks
 * everything and reports every problem at once, each at its file and line, because an environment is edited
 * by hand and reviewed in merge requests where one round trip per typo is expensive.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { UnreachableError, UserError, ValidationError, type Problem } from '../lib/errors.ts';
import { ConfineError, readConfined } from '../lib/confine.ts';
import { builtinCatalogRoot } from '../lib/version.ts';
import { closest } from '../catalog/resolve.ts';
import { MapReader, isPlainMap, kindOf, parseYamlFile, type YamlFile } from '../catalog/yaml-file.ts';
import { satisfies } from '../engines/standalone/placement.ts';
import { parseForgeConfig, type ForgeConfig } from '../upgrades/config.ts';
import { parseForceChange } from '../upgrades/immutable.ts';
import type { HostSpec, StackSpec, SwarmSpec } from './types.ts';
import { parseSwarms } from './swarms.ts';

export interface Environment {
  /** Absolute path of the environment folder. */
  root: string;
  /** The first is the default for stacks that name none. */
  catalogs: CatalogRef[];
  hosts: HostSpec[];
  /** Docker Swarms stacks can target (`swarm: NAME` in a stack file). */
  swarms?: SwarmSpec[];
  registries: { server: string; username: string; passwordEnv: string }[];
  stacks: StackSpec[];
  /** Process variables stacks may read (`secrets.*.environment`, bare env-file keys); never BERTH_*. */
  allowEnv?: string[];
  /** Where upgrade merge requests are opened (berth.yml `forge:`); absent: Berth proposes none. */
  forge?: ForgeConfig;
  /** berth.yml `name:`: the identity its deploys are labelled with (environment/identity.ts); absent: derived. */
  name?: string;
  /** berth.yml `snapshots:`: how many data snapshots of each volume a host keeps, and the helper image that makes them. */
  snapshots?: { keep?: number; helperImage?: string };
}

/**
 * A declared catalog: its folder, or — for a url: catalog never synced (its server unreachable, the repository
 * refused) — why it has none. Such a catalog fails only the stacks that use it (stackCatalog), when they deploy.
 */
export type CatalogRef = { name: string; root: string; unavailable?: undefined } | { name: string; root?: undefined; unavailable: Error };

/** The folder of a declared catalog; throws when the catalog could not be synced (`stack`: who needed it). */
export function catalogRoot(ref: CatalogRef, stack?: string): string {
  if (ref.unavailable === undefined) return ref.root;
  throw new UnreachableError('CATALOG_UNAVAILABLE', `${stack ? `stack ${stack} uses catalog` : 'catalog'} ${ref.name}, which cannot be synced: ${ref.unavailable.message}`, {
    data: { catalog: ref.name }, hint: 'Berth keeps trying and deploys once the catalog syncs; stacks on other catalogs are not held up.',
  });
}

/** The catalog a stack uses (its `catalog:`, else the first declared), undefined when undeclared; see catalogRoot. */
export function stackCatalog(env: Pick<Environment, 'catalogs'>, spec: Pick<StackSpec, 'name' | 'catalog'>): { name: string; root: string } | undefined {
  const ref = env.catalogs.find((c) => c.name === (spec.catalog ?? env.catalogs[0]?.name));
  return ref && { name: ref.name, root: catalogRoot(ref, spec.name) };
}

const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const CATALOG_NAME = HOST_NAME;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An environment's name travels in a Docker label and in logs: printable, short, no spaces. */
const OWNER_NAME = /^[A-Za-z0-9][A-Za-z0-9.:/_@-]{0,199}$/;
const EXAMPLE = 'catalogs:\n  - name: main\n    path: ../catalog\nhosts:\n  - name: local\n    endpoint: unix:///var/run/docker.sock\n    labels: { role: web }';
const START_HINT = `Create berth.yml in the environment folder, e.g.\n${EXAMPLE}\nthen one stacks/<name>.yml per stack (template, version, answers); see docs/environment.md.`;

export function present(r: MapReader, key: string): boolean {
  return r.obj[key] !== undefined && r.obj[key] !== null;
}

/** Labels and selectors are strings to Docker, but `gpu: true` or `rack: 3` is what people write. */
function scalarMap(r: MapReader, key: string): Record<string, string> | undefined {
  const v = r.obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isPlainMap(v)) return void r.problem(key, `must be a map of names to values, got ${kindOf(v)}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    // `rack: 1.10` must stay "1.10", not become "1.1".
    if (typeof x === 'number') out[k] = r.yaml.source([...r.path, key, k]) ?? String(x);
    else if (typeof x === 'string' || typeof x === 'boolean') out[k] = String(x);
    else new MapReader(r.yaml, [...r.path, key], r.field(key), v, r.problems).problem(k, `must be text, a number or true/false, got ${kindOf(x)}`);
  }
  return out;
}

/** Readers for the maps of a list field; `undefined` when the field is absent. */
export function mapList(r: MapReader, key: string): MapReader[] | undefined {
  const v = r.obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    r.problem(key, `must be a list (lines starting with "- "), got ${kindOf(v)}`);
    return [];
  }
  return v.flatMap((item, i) => {
    const sub = new MapReader(r.yaml, [...r.path, key, i], `${r.field(key)}[${i}]`, isPlainMap(item) ? item : {}, r.problems);
    if (isPlainMap(item)) return [sub];
    sub.problem(undefined, `must be a map of keys and values, got ${kindOf(item)}`);
    return [];
  });
}

export function duplicates(readers: MapReader[], key: string, what: string): void {
  const seen = new Set<unknown>();
  for (const r of readers) {
    const name = r.obj[key];
    if (typeof name === 'string' && seen.has(name)) r.problem(key, `${what} "${name}" is declared twice; each must be distinct`);
    seen.add(name);
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Maps a `url:` catalog to the folder holding its synced work tree. `berth serve` keeps one RepoWatcher per
 * catalog URL and passes this; one-shot commands don't, and a git catalog is then an error.
 */
export type CatalogResolver = (catalog: { name: string; url: string; branch?: string }) => Promise<string>;

async function parseCatalogs(r: MapReader, root: string, resolve?: CatalogResolver, missingOk = false): Promise<Environment['catalogs']> {
  const readers = mapList(r, 'catalogs');
  if (!readers) return [{ name: 'builtin', root: builtinCatalogRoot() }];
  if (readers.length === 0 && Array.isArray(r.obj.catalogs)) r.problem('catalogs', 'lists no catalogs; add one or remove "catalogs:" to use the built-in catalog');
  const out: Environment['catalogs'] = [];
  for (const c of readers) {
    c.unknownKeys(['name', 'path', 'url', 'branch', 'builtin']);
    const name = c.string('name', true);
    // A catalog's name goes into every ledger commit's trailers (Berth-Catalog-Commit: NAME=sha).
    if (name !== undefined && !CATALOG_NAME.test(name)) c.problem('name', `${JSON.stringify(name.slice(0, 80))} is not a usable catalog name; use letters, digits, ".", "_" and "-"`);
    const [dir, url, builtin] = [c.string('path'), c.string('url'), c.boolean('builtin') === true];
    const branch = c.string('branch');
    const given = [dir, url, builtin || undefined].filter((x) => x !== undefined).length;
    if (given !== 1) c.problem(undefined, given ? 'give only one of path, url and builtin' : 'needs one of path: (a folder), url: (a git repository) or builtin: true');
    else if (url !== undefined && !resolve) c.problem('url', 'git catalogs are not supported yet in this Berth; clone the repository and give its folder with path:');
    if (present(c, 'branch') && url === undefined) c.problem('branch', 'only applies to a url: catalog');
    const abs = dir === undefined ? undefined : path.resolve(root, dir);
    if (abs !== undefined && given === 1 && !missingOk && !(await isDir(abs))) c.problem('path', `no folder at ${abs}`);
    if (name !== undefined && given === 1 && url === undefined) out.push({ name, root: abs ?? builtinCatalogRoot() });
    if (name !== undefined && given === 1 && url !== undefined && resolve) {
      // Not a problem of berth.yml: the stacks using this catalog fail when they deploy, the others go on.
      out.push(await resolve({ name, url, branch }).then((synced) => ({ name, root: synced }), (e: unknown) => ({ name, unavailable: e instanceof Error ? e : new Error(String(e)) })));
    }
  }
  duplicates(readers, 'name', 'catalog');
  return out;
}

/** Why an endpoint can't be used, or undefined. `new URL` treats unix:, tcp: and ssh: as opaque-host schemes. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `"${endpoint}" is not an address; write unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST`;
  }
  if (url.protocol === 'unix:') return url.host === '' && url.pathname.length > 1 ? undefined : 'unix:// needs an absolute socket path after three slashes, e.g. unix:///var/run/docker.sock';
  if (url.protocol === 'tcp:') return url.hostname && url.port ? undefined : 'tcp:// needs a host and a port, e.g. tcp://10.0.0.12:2376';
  if (url.protocol === 'ssh:') return url.hostname ? undefined : 'ssh:// needs a host, e.g. ssh://deploy@10.0.0.13';
  return `scheme "${url.protocol.slice(0, -1)}" is not supported; use unix://, tcp:// or ssh://`;
}

function parseHost(h: MapReader, root: string): HostSpec | undefined {
  h.unknownKeys(['name', 'endpoint', 'tls', 'ssh', 'labels']);
  const name = h.string('name', true);
  if (name !== undefined && !HOST_NAME.test(name)) h.problem('name', `"${name}" is not a usable host name; use letters, digits, ".", "_" and "-"`);
  const endpoint = h.string('endpoint', true);
  const bad = endpoint === undefined ? undefined : endpointProblem(endpoint);
  if (bad) h.problem('endpoint', bad);
  const scheme = endpoint?.split(':')[0];
  const host: HostSpec = { name: name ?? '', endpoint: endpoint ?? '', labels: scalarMap(h, 'labels') ?? {} };
  const sub = (key: string, allowed: string[], forScheme: string) => {
    if (!present(h, key)) return undefined;
    if (!isPlainMap(h.obj[key])) return void h.problem(key, `must be a map, got ${kindOf(h.obj[key])}`);
    if (scheme !== forScheme) h.problem(key, `only applies to ${forScheme}:// endpoints; this host's endpoint is ${endpoint}`);
    const r = new MapReader(h.yaml, [...h.path, key], h.field(key), h.obj[key] as Record<string, unknown>, h.problems);
    r.unknownKeys(allowed);
    return r;
  };
  const tls = sub('tls', ['ca', 'cert', 'key'], 'tcp');
  if (tls) {
    const [ca, cert, key] = ['ca', 'cert', 'key'].map((k) => tls.string(k, true));
    if (ca && cert && key) host.tls = { ca: path.resolve(root, ca), cert: path.resolve(root, cert), key: path.resolve(root, key) };
  }
  const ssh = sub('ssh', ['key'], 'ssh');
  const keyFile = ssh?.string('key');
  if (ssh) host.ssh = keyFile === undefined ? {} : { privateKeyFile: path.resolve(root, keyFile) };
  return name !== undefined && endpoint !== undefined && !bad ? host : undefined;
}

/** Without `hosts:`, the Docker the shell would use: $DOCKER_HOST (with $DOCKER_CERT_PATH for TLS), else the local socket. */
function defaultHost(env: Record<string, string | undefined>): HostSpec {
  const endpoint = env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  const certs = env.DOCKER_CERT_PATH;
  const tls = endpoint.startsWith('tcp:') && certs ? { tls: { ca: path.join(certs, 'ca.pem'), cert: path.join(certs, 'cert.pem'), key: path.join(certs, 'key.pem') } } : {};
  return { name: 'local', endpoint, ...tls, labels: {} };
}

function parseHosts(r: MapReader, root: string, env: Record<string, string | undefined>): HostSpec[] {
  const readers = mapList(r, 'hosts');
  if (!readers) return [defaultHost(env)];
  // An environment of Swarms alone may say `hosts: []`.
  const swarms = Array.isArray(r.obj.swarms) && r.obj.swarms.length > 0;
  if (readers.length === 0 && Array.isArray(r.obj.hosts) && !swarms) r.problem('hosts', 'lists no hosts; add one or remove "hosts:" to use the local Docker');
  duplicates(readers, 'name', 'host');
  return readers.map((h) => parseHost(h, root)).filter((h): h is HostSpec => h !== undefined);
}

function parseRegistries(r: MapReader): Environment['registries'] {
  const readers = mapList(r, 'registries') ?? [];
  duplicates(readers, 'server', 'registry');
  return readers.flatMap((g) => {
    g.unknownKeys(['server', 'username', 'password_env', 'password']);
    if (present(g, 'password')) g.problem('password', 'passwords never go in berth.yml; put it in an environment variable and name that variable with password_env:', 'key');
    const [server, username, passwordEnv] = [g.string('server', true), g.string('username', true), g.string('password_env', true)];
    if (passwordEnv !== undefined && !ENV_NAME.test(passwordEnv)) g.problem('password_env', `"${passwordEnv}" is not an environment variable name`);
    return server && username && passwordEnv ? [{ server, username, passwordEnv }] : [];
  });
}

/** Throws why a stack's file cannot be used; every path that renders or deploys a stack calls it first. */
export function assertUsable(spec: StackSpec): void {
  if (spec.invalid) throw spec.invalid;
}

/** `snapshots: { keep: N, helper_image: IMAGE }` (ledger/snapshots.ts). */
function parseSnapshots(top: MapReader): Environment['snapshots'] {
  const raw = top.obj.snapshots;
  if (raw === undefined || raw === null) return undefined;
  if (!isPlainMap(raw)) return void top.problem('snapshots', `must be a map with keep: and helper_image:, got ${kindOf(raw)}`);
  const r = new MapReader(top.yaml, [...top.path, 'snapshots'], top.field('snapshots'), raw, top.problems);
  r.unknownKeys(['keep', 'helper_image']);
  const keep = r.number('keep', { integer: true, nonNegative: true });
  if (keep === 0) r.problem('keep', 'must be at least 1: the snapshot an upgrade takes is the one its rollback restores');
  const helperImage = r.string('helper_image');
  if (helperImage !== undefined && !/^[a-z0-9][\w./:@-]{0,254}$/i.test(helperImage)) r.problem('helper_image', `"${helperImage.slice(0, 80)}" is not an image reference`);
  return { ...(keep ? { keep } : {}), ...(helperImage ? { helperImage } : {}) };
}

/** `allow_env:`: the process variables the operator lets stacks read; Berth's own are refused here already. */
function parseAllowEnv(r: MapReader): string[] {
  const v = r.obj.allow_env;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.problem('allow_env', `must be a list of environment variable names, got ${kindOf(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((name, i) => {
    const at = new MapReader(r.yaml, ['allow_env'], 'allow_env', {}, r.problems);
    if (typeof name !== 'string' || !ENV_NAME.test(name)) at.problem(String(i), `${kindOf(name)} is not an environment variable name`);
    else if (name.startsWith('BERTH_')) at.problem(String(i), `${name} is Berth's own variable and is never handed to a stack; remove it`);
    else out.push(name);
  });
  return out;
}

/** Hosts whose labels match every pair of the selector (`hostname` also matches a host's name). */
export function selectHosts(hosts: HostSpec[], selector: Record<string, string>): HostSpec[] {
  return hosts.filter((h) => Object.entries(selector).every(([label, value]) => satisfies(h, { label, op: '==', value, text: '' })));
}

function parseStack(yaml: YamlFile, name: string, env: Omit<Environment, 'stacks'>, problems: Problem[]): StackSpec | undefined {
  if (!isPlainMap(yaml.data)) return void problems.push({ file: yaml.file, line: 1, message: `must be a map with template:, version: and answers:, got ${kindOf(yaml.data)}` });
  const r = new MapReader(yaml, [], '', yaml.data, problems);
  r.unknownKeys(['template', 'version', 'catalog', 'answers', 'hosts', 'profiles', 'swarm', 'force_change']);
  const template = r.string('template', true);
  const v = r.obj.version;
  const version = Number.isInteger(v) && !r.numberLosesText(['version'], v) ? String(v) : r.string('version', true);
  const catalog = r.string('catalog');
  if (catalog !== undefined && !env.catalogs.some((c) => c.name === catalog)) {
    const near = closest(catalog, env.catalogs.map((c) => c.name));
    r.problem('catalog', `names catalog "${catalog}", which berth.yml does not declare; ${near ? `did you mean "${near}"?` : `catalogs are ${env.catalogs.map((c) => c.name).join(', ')}`}`);
  }
  if (present(r, 'answers') && !isPlainMap(r.obj.answers)) r.problem('answers', `must be a map of variable: value, got ${kindOf(r.obj.answers)}`);
  const hosts = scalarMap(r, 'hosts') ?? {};
  const swarm = r.string('swarm');
  const swarms = env.swarms ?? [];
  if (swarm !== undefined && present(r, 'hosts')) r.problem('hosts', 'a stack runs on a Swarm (swarm:) or on hosts (hosts:), not both; remove one');
  if (swarm !== undefined && !swarms.some((s) => s.name === swarm)) {
    const near = closest(swarm, swarms.map((s) => s.name));
    r.problem('swarm', `names swarm "${swarm}", which berth.yml does not declare under swarms:${near ? `; did you mean "${near}"?` : ''}`);
  }
  if (swarm === undefined && env.hosts.length && selectHosts(env.hosts, hosts).length === 0) {
    r.problem('hosts', `selects no host; hosts are ${env.hosts.map((h) => `${h.name} {${Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(', ')}}`).join(', ')}`);
  }
  const profiles = stackProfiles(r);
  const forceChange = parseForceChange(r);
  if (template === undefined || version === undefined) return undefined;
  const answers = isPlainMap(r.obj.answers) ? r.obj.answers : {};
  const lines = {
    template: yaml.line(['template'], 'key'),
    version: yaml.line(['version'], 'key'),
    answers: Object.fromEntries(Object.keys(answers).map((k) => [k, yaml.line(['answers', k], 'key') ?? 0])),
  };
  return { name, file: yaml.file, template, version, answers, hosts, lines, ...(catalog !== undefined ? { catalog } : {}), ...(profiles ? { profiles } : {}), ...(swarm !== undefined ? { swarm } : {}), ...(forceChange ? { force_change: forceChange } : {}) };
}

/** `profiles: [debug, tools]`: compose's --profile, the services with one of these profiles run too. */
function stackProfiles(r: MapReader): string[] | undefined {
  const v = r.obj.profiles;
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((p) => typeof p === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(p))) {
    r.problem('profiles', `must be a list of profile names ([a-zA-Z0-9][a-zA-Z0-9_.-]*), got ${JSON.stringify(v)}`);
    return undefined;
  }
  return list as string[];
}

const STACK_HINT = 'Fix the file and line listed; docs/environment.md describes stacks/<name>.yml. The other stacks are not affected.';

/** One stack file, checked on its own: its problems fail only this stack. */
async function loadStack(env: Omit<Environment, 'stacks'>, f: string, seen: Map<string, string>): Promise<StackSpec> {
  const name = f.replace(/\.ya?ml$/, '');
  const file = `stacks/${f}`;
  const problems: Problem[] = [];
  if (!STACK_NAME.test(name)) problems.push({ file, message: `"${name}" is not a valid stack name; rename the file using lowercase letters, digits, "_" and "-"` });
  if (seen.has(name)) problems.push({ file, message: `stack "${name}" is also defined by ${seen.get(name)}; keep one file per stack` });
  seen.set(name, file);
  let spec: StackSpec | undefined;
  try {
    const parsed = parseYamlFile((await readConfined(env.root, file, { rootName: 'environment' })) ?? '', file);
    problems.push(...parsed.problems);
    spec = parsed.yaml && parseStack(parsed.yaml, name, env, problems);
  } catch (e) {
    if (!(e instanceof ConfineError)) throw e;
    problems.push({ file, message: e.reason });
  }
  if (spec && problems.length === 0) return spec;
  const invalid = new ValidationError('STACK_INVALID', `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`, problems, STACK_HINT);
  return { template: '', version: '', answers: {}, hosts: {}, ...spec, name, file, invalid };
}

async function loadStacks(env: Omit<Environment, 'stacks'>): Promise<StackSpec[]> {
  const dir = path.join(env.root, 'stacks');
  if (!(await isDir(dir))) return [];
  // Symlinked stack files are read too (the confinement rule refuses one that leaves the environment).
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && /\.ya?ml$/.test(e.name)).map((e) => e.name).sort();
  const seen = new Map<string, string>();
  const stacks: StackSpec[] = [];
  for (const f of files) stacks.push(await loadStack(env, f, seen));
  return stacks;
}

async function readBerthYml(root: string): Promise<string> {
  if (!(await isDir(root))) throw new UserError('ENVIRONMENT_NOT_FOUND', `no environment folder at ${root}`, { data: { root }, hint: START_HINT });
  const text = await readConfined(root, 'berth.yml', { rootName: 'environment' });
  if (text === undefined) throw new UserError('ENVIRONMENT_NOT_FOUND', `${root} is not a Berth environment: it has no berth.yml`, { data: { root }, hint: START_HINT });
  return text;
}

/** `catalogsMayBeMissing`: a `path:` catalog folder need not exist yet (`berth bundle load` is about to install it). */
export async function loadEnvironment(root: string, opts: { processEnv?: Record<string, string | undefined>; resolveCatalog?: CatalogResolver; catalogsMayBeMissing?: boolean } = {}): Promise<Environment> {
  const abs = path.resolve(root);
  const parsed = parseYamlFile(await readBerthYml(abs), 'berth.yml');
  const problems = [...parsed.problems];
  const data = parsed.yaml?.data ?? {};
  if (parsed.yaml && !isPlainMap(data)) problems.push({ file: 'berth.yml', line: 1, message: `must be a map with catalogs:, hosts: and registries:, got ${kindOf(data)}` });
  if (parsed.yaml && isPlainMap(data)) {
    const r = new MapReader(parsed.yaml, [], '', data, problems);
    r.unknownKeys(['name', 'catalogs', 'hosts', 'swarms', 'registries', 'forge', 'allow_env', 'snapshots']);
    const forge = parseForgeConfig(r);
    const allowEnv = parseAllowEnv(r);
    const snapshots = parseSnapshots(r);
    const name = r.string('name', false);
    if (name !== undefined && !OWNER_NAME.test(name)) r.problem('name', `"${name.slice(0, 80)}" is not a usable environment name; use up to 200 letters, digits and ".:/_@-"`);
    const base = {
      root: abs, catalogs: await parseCatalogs(r, abs, opts.resolveCatalog, opts.catalogsMayBeMissing), hosts: parseHosts(r, abs, opts.processEnv ?? process.env),
      swarms: parseSwarms(r, abs), registries: parseRegistries(r), allowEnv, ...(forge ? { forge } : {}), ...(name !== undefined ? { name } : {}),
      ...(snapshots ? { snapshots } : {}),
    };
    // Stack files fail one by one (StackSpec.invalid); only berth.yml itself fails the whole environment.
    if (problems.length === 0) return { ...base, stacks: await loadStacks(base) };
  }
  throw new ValidationError('ENVIRONMENT_INVALID', `The environment at ${abs} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:`, problems,
    'Fix each file and line listed; docs/environment.md describes berth.yml and stacks/<name>.yml.');
}
