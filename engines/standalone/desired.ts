/**
 * What an environment asks for, host by host: render each stack's template with its answers, place the replicas,
 * read the files its services mount, and hash each service's config. All reading happens here so the plan that
 * follows is a pure function.
 */
import path from 'node:path';
import { BerthError, UserError, ValidationError, type Problem } from '../../lib/errors.ts';
import { ConfineError, confinedPath, readConfined } from '../../lib/confine.ts';
import { decryptAnswers, loadIdentities } from '../../lib/secrets.ts';
import type { FileObjectModel, ServiceModel, StackModel } from '../../catalog/model.ts';
import type { Catalog } from '../../catalog/types.ts';
import { assertTemplateLoads, loadCatalogForStacks } from '../../catalog/load.ts';
import { secretVariables } from '../../catalog/answers.ts';
import { renderStack } from '../../catalog/stack.ts';
import { activateProfiles } from '../../catalog/profiles.ts';
import { withHostInputs } from './host-inputs.ts';
import { immutableAnswers } from '../../upgrades/immutable.ts';
import { assertUsable, stackCatalog, type Environment } from '../../environment/environment.ts';
import { serviceConfig, type HashAs } from './hash.ts';
import type { PlacedReplica } from './placement.ts';
import { placeOnTargets } from '../targets.ts';
import { refuseSwarmOnlyKeys } from './swarm-only.ts';
import type { DesiredHost, DesiredService, DesiredStack } from './types.ts';
import type { HostSpec, StackSpec } from '../../environment/types.ts';

export interface DesiredOptions {
  /** Loaded catalogs by root folder; shared between stacks so each catalog loads once. */
  catalogs?: Map<string, Catalog>;
  readFile?: (path: string) => Promise<string>;
  processEnv?: Record<string, string | undefined>;
  /** age identities for encrypted answers; default: BERTH_AGE_KEY / BERTH_AGE_KEY_FILE, read only when an answer is encrypted. */
  identities?: string[];
  /** Told of every file of the environment the stack reads (undefined: it could not be read), so a caller can tell when they change. */
  onRead?: (rel: string, text: string | undefined) => void;
}

const AGE_ARMOR = 'BEGIN AGE ENCRYPTED FILE';

export type DesiredResult = { stack: string; desired: DesiredStack; error?: undefined } | { stack: string; error: unknown; desired?: undefined };

/** compose's env file syntax: KEY=VALUE, `#` comments, optional `export `, quotes; a bare KEY takes the caller's environment. */
export function parseEnvFile(text: string, processEnv: Record<string, string | undefined> = {}, problems?: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    // Stored under that name the value would vanish (it sets the object's prototype).
    if (key === '__proto__') {
      problems?.push(`line ${n + 1}: "__proto__" cannot be a name (JavaScript reads it as an object's prototype); rename it`);
      continue;
    }
    if (eq < 0) {
      // Own variables only: `constructor` or `toString` must not read what every object inherits.
      if (Object.hasOwn(processEnv, key) && processEnv[key] !== undefined) vars[key] = processEnv[key]!;
      continue;
    }
    const value = line.slice(eq + 1).trim();
    const quoted = /^(["'])(.*)\1$/s.exec(value);
    if (quoted) vars[key] = quoted[1] === '"' ? quoted[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : quoted[2];
    else vars[key] = value.replace(/\s+#.*$/, '');
  }
  return vars;
}

async function catalogFor(env: Environment, spec: StackSpec, cache: Map<string, Catalog>): Promise<Catalog> {
  const ref = stackCatalog(env, spec);
  if (!ref) throw new ValidationError('ENVIRONMENT_INVALID', `stack ${spec.name} names no usable catalog:`, [{ file: spec.file, field: 'catalog', message: `catalog "${spec.catalog ?? ''}" is not declared in berth.yml` }]);
  let catalog = cache.get(ref.root);
  if (!catalog) cache.set(ref.root, (catalog = await loadCatalogForStacks(ref.root)));
  assertTemplateLoads(catalog, spec.template);
  return catalog;
}

export interface Reader {
  env: Environment;
  spec: StackSpec;
  /** A reader other than the file system (a rollback reads the environment as of a commit). */
  read?: (path: string) => Promise<string>;
  /** Only the variables berth.yml allows (`allow_env:`), never Berth's own. */
  processEnv: Record<string, string | undefined>;
  problems: Problem[];
  /** The environment root's `.env`, read once per stack when a value-less key needs it (host-inputs.ts). */
  dotenv?: Promise<Record<string, string> | undefined>;
  onRead?: DesiredOptions['onRead'];
}

/** The process variables a stack may read: those berth.yml lists under allow_env:, minus BERTH_* (docs/security.md). */
export function allowedEnv(env: Pick<Environment, 'allowEnv'>, processEnv: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries((env.allowEnv ?? []).filter((k) => !k.startsWith('BERTH_') && Object.hasOwn(processEnv, k)).map((k) => [k, processEnv[k]]));
}

/** The text of a file of the environment, or undefined; the confinement rule unless the reader is a commit's. */
export async function readText(r: Reader, rel: string): Promise<string | undefined> {
  try {
    await confinedPath(r.env.root, rel, { rootName: 'environment' });
    const text = await (r.read ? r.read(path.resolve(r.env.root, rel)) : readConfined(r.env.root, rel, { rootName: 'environment' }));
    r.onRead?.(rel, text);
    return text;
  } catch (e) {
    r.onRead?.(rel, undefined);
    throw e;
  }
}

/** A file the stack names, through the confinement rule: inside the environment folder, bounded in size. */
export async function readPath(r: Reader, rel: string, what: string): Promise<string | undefined> {
  const abs = path.resolve(r.env.root, rel);
  try {
    const text = await readText(r, rel);
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    return text;
  } catch (e) {
    if (e instanceof ConfineError) return void r.problems.push({ file: r.spec.file, message: `${what}: ${e.message}` });
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
    r.problems.push({ file: r.spec.file, message: `${what} reads ${rel} (${abs}), which ${why}; add the file to the environment` });
    return undefined;
  }
}

async function objectContent(r: Reader, obj: FileObjectModel | undefined, what: string): Promise<string | undefined> {
  if (!obj) return void r.problems.push({ file: r.spec.file, message: `${what} is not declared at the top level of the stack` });
  if (obj.content !== undefined) return obj.content;
  if (obj.file !== undefined) return readPath(r, obj.file, what);
  if (obj.environment !== undefined) {
    const name = obj.environment;
    if (name.startsWith('BERTH_')) return void r.problems.push({ file: r.spec.file, message: `${what} asks for ${name}; Berth's own variables are never handed to a stack` });
    if (!(r.env.allowEnv ?? []).includes(name)) {
      return void r.problems.push({ file: r.spec.file, message: `${what} comes from the environment variable ${name}, which berth.yml does not allow; add it under allow_env: in berth.yml if the stack may read it` });
    }
    const value = Object.hasOwn(r.processEnv, name) ? r.processEnv[name] : undefined;
    if (value === undefined) r.problems.push({ file: r.spec.file, message: `${what} comes from the environment variable ${name}, which is not set where Berth runs` });
    return value;
  }
  r.problems.push({ file: r.spec.file, message: `${what} is external, which needs Docker Swarm; give it file:, content: or environment:` });
  return undefined;
}

/** An env file (or label file) of a service, its problems on the stack's. */
export function envFile(r: Reader, text: string, what: string, processEnv?: Record<string, string | undefined>): Record<string, string> {
  const problems: string[] = [];
  const vars = parseEnvFile(text, processEnv, problems);
  for (const message of problems) r.problems.push({ file: r.spec.file, message: `${what}: ${message}` });
  return vars;
}

/** The service with its env files merged under `environment`, and the contents of the configs and secrets it mounts. */
async function serviceInputs(r: Reader, model: StackModel, svc: ServiceModel) {
  const files: Record<string, string> = {};
  for (const [kind, mounts, defs] of [['config', svc.configs, model.configs], ['secret', svc.secrets, model.secrets]] as const) {
    for (const m of mounts) {
      const text = await objectContent(r, defs[m.source], `service "${svc.name}" ${kind} "${m.source}"`);
      if (text !== undefined) files[m.source] = text;
    }
  }
  const fromFiles: Record<string, string> = {};
  for (const f of svc.env_file) Object.assign(fromFiles, envFile(r, (await readPath(r, f, `service "${svc.name}" env_file`)) ?? '', `service "${svc.name}" env_file ${f}`, r.processEnv));
  const merged: ServiceModel = { ...svc, environment: { ...fromFiles, ...svc.environment }, env_file: [] };
  const service = await withHostInputs(r, merged, fromFiles);
  const secretEnv = Object.keys(service.environment).filter((k) => !Object.hasOwn(svc.environment, k));
  return { service, files, secretEnv };
}

function buildHost(host: HostSpec, model: StackModel, placement: Record<string, PlacedReplica[]>, services: Record<string, DesiredService>): DesiredHost {
  const replicas = Object.keys(placement).sort().flatMap((s) => placement[s].filter((p) => p.host === host.name).map((p) => ({ service: s, number: p.number })));
  const here = [...new Set(replicas.map((r) => r.service))];
  const networkKeys = new Set(here.flatMap((s) => Object.keys(model.services[s].networks)));
  const volumeKeys = new Set(here.flatMap((s) => model.services[s].volumes.flatMap((m) => (m.type === 'volume' && m.source ? [m.source] : []))));
  return {
    host,
    services: Object.fromEntries(here.map((s) => [s, services[s]])),
    replicas,
    networks: [...networkKeys].sort().filter((k) => model.networks[k]).map((k) => model.networks[k]),
    volumes: [...volumeKeys].sort().filter((k) => model.volumes[k]).map((k) => model.volumes[k]),
  };
}

/** Decrypts age-encrypted answers; the key is looked up only when some answer is encrypted. */
export async function plainAnswers(spec: StackSpec, opts: DesiredOptions): Promise<{ answers: Record<string, unknown>; encrypted: string[] }> {
  const encrypted = Object.keys(spec.answers).filter((k) => JSON.stringify(spec.answers[k] ?? null).includes(AGE_ARMOR));
  if (encrypted.length === 0) return { answers: spec.answers, encrypted };
  const identities = opts.identities ?? (await loadIdentities({ env: opts.processEnv ?? process.env }));
  try {
    return { answers: (await decryptAnswers(spec.answers, identities)).values, encrypted };
  } catch (e) {
    if (!(e instanceof BerthError)) throw e;
    const hint = identities.length === 0 ? `${spec.file} holds encrypted answers: set BERTH_AGE_KEY (an AGE-SECRET-KEY-1… identity) or BERTH_AGE_KEY_FILE (a file holding one) where Berth runs.` : e.hint;
    throw new UserError(e.code, `stack ${spec.name}: ${e.message}`, { data: { ...e.data, stack: spec.name }, hint });
  }
}

/**
 * An error about the stack's template, version or answers points at the line of the stack file that chose it:
 * that file, not the catalog, is what the operator edits.
 */
function atStackFile<T>(spec: StackSpec, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof BerthError)) throw e;
    const where = (line?: number) => (line ? `${spec.file}:${line}` : spec.file);
    if (e instanceof ValidationError && e.code === 'ANSWERS_INVALID') {
      const problems = e.problems.map((p): Problem => (p.field && !p.file ? { ...p, file: spec.file, line: spec.lines?.answers?.[p.field] || undefined } : p));
      throw new ValidationError(e.code, e.message.split('\n')[0], problems, e.hint);
    }
    const line = e.code === 'TEMPLATE_NOT_FOUND' ? spec.lines?.template : /^VERSION_/.test(e.code) ? spec.lines?.version : undefined;
    if (line === undefined) throw e;
    throw new UserError(e.code, `${where(line)}: ${e.message}`, { data: e.data, hint: e.hint, cause: e });
  }
}

export async function desiredStack(env: Environment, spec: StackSpec, opts: DesiredOptions = {}): Promise<DesiredStack> {
  assertUsable(spec);
  const catalog = await catalogFor(env, spec, opts.catalogs ?? new Map());
  const { answers, encrypted } = await plainAnswers(spec, opts);
  const rendered = atStackFile(spec, () => renderStack(catalog, { ref: `${spec.template}@${spec.version}`, answers, stack: spec.name }));
  // An encrypted answer is secret whatever its question's type.
  const variables = [...new Set([...secretVariables(rendered.version.questions), ...encrypted])].sort();
  const secretAnswers = Object.fromEntries(variables.flatMap((v) => {
    const value = rendered.values[v] ?? answers[v];
    return value === null || value === undefined || value === '' || typeof value === 'object' ? [] : [[v, String(value)]];
  }));
  refuseSecretKeys(spec, rendered.model, secretAnswers);
  const model = activateProfiles(rendered.model, spec.profiles ?? [], spec.file);
  if (spec.swarm === undefined) refuseSwarmOnlyKeys(model, spec);
  const { targets: hosts, placement, errors } = placeOnTargets(env, spec, model);
  const source = `${rendered.template.name}@${rendered.version.version}`;
  const immutable = immutableAnswers(spec.name, rendered.version.questions, rendered.values);
  const desired = await assembleDesired(env, spec, { model, source, secretAnswers, hosts, placement }, opts);
  return { ...desired, ...(immutable ? { immutable } : {}), ...(errors.length ? { placementErrors: errors } : {}) };
}

/** The error a stack whose services cannot all be placed stops with (the plan lists the same problems). */
export function placementError(desired: DesiredStack, spec: StackSpec): ValidationError | undefined {
  if (!desired.placementErrors?.length) return undefined;
  return new ValidationError('PLACEMENT_FAILED', `Stack ${spec.name} cannot be placed on its hosts:`, desired.placementErrors.map((message) => ({ file: spec.file, message })),
    'Change the constraints (answers), the hosts: selector of the stack, or the host labels in berth.yml so every service has a host.');
}

/**
 * A secret used as a mapping key (`{{password}}: x`) could not be written to the ledger as a placeholder nor
 * masked in the config label, so the template is refused instead (docs/security.md#secrets).
 */
function refuseSecretKeys(spec: StackSpec, model: StackModel, secretAnswers: Record<string, string>): void {
  const secrets = Object.entries(secretAnswers).filter(([, v]) => v !== '');
  const problems: Problem[] = [];
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`));
    if (v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      const used = secrets.find(([, s]) => k.includes(s));
      if (used) problems.push({ file: spec.file, field: at, message: `a key holds the secret answer ${used[0]}; secrets may only be values` });
      walk(x, at ? `${at}.${k.length > 40 || used ? '…' : k}` : k);
    }
  };
  walk(model, '');
  if (problems.length) throw new ValidationError('SECRET_IN_KEY', `Stack ${spec.name} uses a secret where Berth cannot mask it:`, problems, 'Use secret answers only as values in the template.');
}

/** A model and where its replicas go: what the rendering half (or the ledger, for a rollback) hands the assembling half. */
export interface DesiredInput {
  /** As rendered: env files not merged yet. */
  model: StackModel;
  source: string;
  /** Secret values by variable; every one is masked, and written as a placeholder by the ledger. */
  secretAnswers: Record<string, string>;
  hosts: HostSpec[];
  placement: Record<string, PlacedReplica[]>;
  /** Per service: the image and pull policy to hash instead of the model's (services the ledger pinned). */
  hashAs?: Record<string, HashAs>;
}

/** Reads the files the placed services use, hashes each service and builds every host's share. */
export async function assembleDesired(env: Environment, spec: StackSpec, input: DesiredInput, opts: DesiredOptions = {}): Promise<DesiredStack> {
  const { model: rendered, placement } = input;
  const secrets = Object.values(input.secretAnswers).filter((v) => v !== '');
  const r: Reader = { env, spec, ...(opts.readFile ? { read: opts.readFile } : {}), processEnv: allowedEnv(env, opts.processEnv ?? process.env), problems: [], onRead: opts.onRead };
  const model: StackModel = { ...rendered, services: { ...rendered.services } };
  const services: Record<string, DesiredService> = {};
  for (const name of Object.keys(placement).filter((s) => placement[s].length > 0)) {
    const { service, files, secretEnv } = await serviceInputs(r, rendered, rendered.services[name]);
    model.services[name] = service;
    services[name] = { model: service, files, ...serviceConfig(service, model, files, secrets, { secretEnv, hashAs: input.hashAs?.[name] }) };
  }
  if (r.problems.length) {
    throw new ValidationError('STACK_FILES_MISSING', `Stack ${spec.name} needs files Berth cannot read:`, r.problems,
      'Paths are relative to the environment folder; add the files or change the answers that name them.');
  }
  return {
    name: spec.name,
    model,
    source: input.source,
    hosts: Object.fromEntries(input.hosts.map((h) => [h.name, buildHost(h, model, placement, services)])),
    secrets,
    rendered,
    secretAnswers: input.secretAnswers,
    project: { working_dir: env.root, config_files: path.join(env.root, spec.file) },
  };
}

/** Every stack of the environment; one that fails (bad answers, missing file) does not hide the others. */
export async function desiredEnvironment(env: Environment, opts: DesiredOptions = {}): Promise<DesiredResult[]> {
  const shared = { ...opts, catalogs: opts.catalogs ?? new Map<string, Catalog>() };
  const results: DesiredResult[] = [];
  for (const spec of env.stacks) {
    try {
      const desired = await desiredStack(env, spec, shared);
      const unplaced = placementError(desired, spec);
      results.push(unplaced ? { stack: spec.name, error: unplaced } : { stack: spec.name, desired });
    } catch (error) {
      results.push({ stack: spec.name, error });
    }
  }
  return results;
}
