/**
 * A Rancher docker-compose file (as a skeleton: see skeleton.ts) made into Berth's compose: v1 files wrapped
 * under `services:`, old keys translated, Rancher's labels and rancher-compose.yml settings turned into compose
 * keys, Rancher-only services reported, load balancers converted (lb.ts).
 */
import { type Document, type Node } from 'yaml';
import { UNSUPPORTED_KEYS } from '../../catalog/normalize-unsupported.ts';
import { SERVICE_KEYS } from '../../catalog/normalize-service.ts';
import { catalogYamlDocument, ImportError, type Findings } from './report-types.ts';
import type { Marker } from './skeleton.ts';
import { blocksAt } from './snippet.ts';
import { emptyEffects, readLabel, type LabelEffects } from './labels.ts';
import { readRancherService, type RancherServiceKeys, type Value } from './rancher-compose.ts';
import { emit, map, num, scalar, seq, str, wrapBetween, type Wrap, type Y } from './snippet.ts';
import { filterItems, findPair, isMap, isScalar, isSeq, keyOf, labelEntries, prependPairs, removePair, scalarText, snippetPairs, stringItems, YAMLMap, type Pair } from './yaml-edit.ts';
import { convertLoadBalancer, isLoadBalancerImage } from './lb.ts';

export interface ComposeInput {
  /** The skeleton's text. */
  skeleton: string;
  nonce: string;
  markers: Marker[];
  /** A rancher-compose value as a YAML scalar: answers become tokens (Handlebars) or stay `${X}` (interpolation). */
  value: Value;
  /** A rancher-compose value as text inside a longer string (answers as tokens or `${X}`). */
  text(raw: unknown): string;
  /** A token standing for Handlebars text; absent for plain compose files. */
  token?(hbs: string): string;
  /** Whether a piece of skeleton text holds an answer. */
  hasToken(s: string): boolean;
  /** The Handlebars variable a value is exactly, when it is one answer. */
  variableOf(s: string): string | undefined;
  /** A token that prints one expression, as a Handlebars parameter (`X`, `(default X "d")`); absent for plain files. */
  exprOf?(token: string): string | undefined;
  rancher: Record<string, unknown>;
  findings: Findings;
  file: string;
}

/** Compose keys that hold a map: an answer standing as their whole value was YAML text Rancher spliced in. */
const MAP_KEYS = new Set(['driver_opts', 'labels', 'environment', 'options', 'sysctls', 'ulimits', 'extra_hosts', 'annotations', 'deploy', 'logging', 'healthcheck', 'resources', 'limits', 'reservations', 'placement', 'update_config']);

/** Service keys Berth refuses, with the reason; the importer drops them and says so. */
const UNSUPPORTED_SERVICE_KEYS = new Map(UNSUPPORTED_KEYS.filter((k) => /^services\.\*\.[a-z_]+$/.test(k.key)).map((k) => [k.key.split('.')[2], k.reason]));
/** Every service key compose (and so Berth) knows, read or refused. */
const COMPOSE_SERVICE_KEYS = new Set<string>([...SERVICE_KEYS, ...UNSUPPORTED_SERVICE_KEYS.keys(), 'links', 'volumes_from']);
/** rancher-compose.yml's service keys, which Rancher also read from docker-compose.yml. */
const RANCHER_SERVICE_KEYS = ['health_check', 'upgrade_strategy', 'lb_config', 'metadata', 'retain_ip', 'start_on_create', 'drain_timeout_ms'];
/** Rancher API objects with no container of their own. */
const RANCHER_ONLY: Record<string, string> = {
  'rancher/dns-service': 'a DNS alias of other services; point clients at the service itself, or add a network alias',
  'rancher/external-service': 'an external service (IPs or a host name outside the stack); give clients that address directly',
  'rancher/load-balancer-service': 'a Rancher 1.x load balancer of the old kind; convert it to lb-service-haproxy port rules or write the proxy by hand',
};

export function convertCompose(input: ComposeInput): string {
  const doc = catalogYamlDocument(input.skeleton, input.file, 'the compose file is not usable YAML (once its template actions are set aside): ');
  const root = doc.contents;
  if (!isMap(root)) throw new ImportError('the compose file is not a map of services', input.file);
  const services = servicesMap(doc, root, input);
  const c = new Converter(doc, services, input);
  c.run();
  return doc.toString({ lineWidth: 0 });
}

/** v2 files keep their `services:`; v1 files (services at the top level) are wrapped. */
function servicesMap(doc: Document, root: YAMLMap, input: ComposeInput): YAMLMap {
  const pair = findPair(root, 'services');
  if (pair) {
    if (!isMap(pair.value)) throw new ImportError('services is not a map', input.file);
    return pair.value;
  }
  const wrapped = new YAMLMap();
  wrapped.items = root.items;
  wrapped.commentBefore = root.commentBefore;
  wrapped.comment = root.comment;
  const top = new YAMLMap();
  top.items = [doc.createPair('services', wrapped) as Pair];
  doc.contents = top;
  input.findings.add('approximated', 'compose v1', 'the services at the top level (compose file format 1) were put under "services:"');
  return wrapped;
}

class Converter {
  private readonly effects = new Map<string, { fx: LabelEffects; wraps: Map<string, Wrap | null>; keyOffset: number }>();
  private readonly dropped = new Set<string>();
  private readonly namedVolumes = new Map<string, string | undefined>();
  private readonly rancherKeys = new Map<string, RancherServiceKeys>();
  private readonly lbs = new Set<string>();
  /**
   * Mount sources named by answers (`{{X}}`, `{{PFX}}-db`), by their text: `guard` is the condition under which
   * the source is a host path, not a volume; `wraps` are the template blocks around each mount of it.
   */
  private readonly answerVolumes = new Map<string, { source: string; guard?: string; driver?: string; wraps: (Wrap | null | undefined)[] }>();

  constructor(private readonly doc: Document, private readonly services: YAMLMap, private readonly input: ComposeInput) {}

  run(): void {
    this.lastKeyWins(this.doc.contents, []);
    this.splicedYaml(this.doc.contents, []);
    const entries = this.services.items.filter((p) => isMap(p.value)) as (Pair & { value: YAMLMap })[];
    for (const pair of entries) this.rancherKeysInCompose(keyOf(pair) ?? '?', pair.value);
    for (const pair of entries) this.translateKeys(keyOf(pair) ?? '?', pair.value);
    for (const pair of entries) this.readLabels(pair);
    for (const pair of [...entries]) this.rancherOnly(pair);
    for (const pair of entries) {
      const name = keyOf(pair)!;
      const lb = isLoadBalancerImage((scalarText(findPair(pair.value, 'image')?.value) ?? '').replace(/[:@].*$/, '')) || this.lbs.has(name);
      if (!this.dropped.has(name)) this.rancherKeys.set(name, readRancherService(this.input.rancher[name], this.input.value, (raw) => this.input.text(raw), this.findings, name, lb));
    }
    for (const pair of entries) if (!this.dropped.has(keyOf(pair)!)) this.addKeys(keyOf(pair)!, pair.value);
    for (const pair of entries) this.forgetDropped(pair.value);
    this.declareVolumes();
  }

  /**
   * A key written twice in one map: Rancher's YAML reader (and docker-compose's) kept the last. Only keys in the
   * same template branch are duplicates; keys in different branches never meet in one rendered file.
   */
  private lastKeyWins(node: unknown, at: string[]): void {
    if (isSeq(node)) {
      node.items.forEach((item, i) => this.lastKeyWins(item, [...at, String(i)]));
      return;
    }
    if (!isMap(node)) return;
    const branch = (p: Pair): string => JSON.stringify(blocksAt(this.input.skeleton, (p.key as Node | null)?.range?.[0] ?? 0, this.input.nonce, this.input.markers));
    const last = new Map<string, Pair>();
    for (const p of [...node.items].reverse()) {
      const key = keyOf(p);
      if (key === undefined || this.input.hasToken(key)) continue;
      const id = `${branch(p)}\u0000${key}`;
      if (!last.has(id)) {
        last.set(id, p);
        continue;
      }
      removePair(node, p);
      this.findings.add('approximated', 'duplicate key', `${[...at, key].join('.')} is written twice; the last one was kept, as Rancher's YAML reader did`);
    }
    for (const p of node.items) this.lastKeyWins(p.value, [...at, keyOf(p) ?? '?']);
  }

  /**
   * `driver_opts: {{.Values.X}}`: Rancher pasted the answer into the file and read it as YAML. Berth never reads
   * an answer as YAML, so the key exists only when X is answered, and a person writes the map in the template.
   */
  private splicedYaml(node: unknown, at: string[]): void {
    if (isSeq(node)) node.items.forEach((item, i) => this.splicedYaml(item, [...at, String(i)]));
    if (!isMap(node)) return;
    for (const p of [...node.items]) {
      const key = keyOf(p) ?? '?';
      const text = isScalar(p.value) && p.value.type === 'PLAIN' ? scalarText(p.value) : undefined;
      const variable = text !== undefined ? this.input.variableOf(text) : undefined;
      if (!variable || !MAP_KEYS.has(key)) {
        this.splicedYaml(p.value, [...at, key]);
        continue;
      }
      const open = this.marker(`{{#if ${variable}}}`, 'open');
      const close = this.marker('{{/if}}', 'close');
      const snippet = snippetPairs(emit({ kind: 'map', entries: [{ key, value: scalar(text!), wrap: { open: [open], close: [close] } }] }, this.input.nonce));
      const i = node.items.indexOf(p);
      const before = isScalar(p.key) ? p.key.commentBefore : undefined;
      const first = snippet.pairs[0].key;
      if (before && isScalar(first)) first.commentBefore = [before, first.commentBefore].filter(Boolean).join('\n');
      node.items.splice(i, 1, ...snippet.pairs);
      const next = node.items[i + snippet.pairs.length];
      if (next && isScalar(next.key)) next.key.commentBefore = [snippet.trailing, next.key.commentBefore].filter(Boolean).join('\n');
      else node.comment = [snippet.trailing, node.comment].filter(Boolean).join('\n');
      this.findings.add('decision', key, `${[...at, key].join('.')} was the answer ${variable} pasted in as YAML; Berth never reads an answer as YAML: the key is left out while ${variable} is empty, and its entries must be written into the template to use it`);
    }
  }

  /** Rancher merged a service's rancher-compose.yml entry over its docker-compose.yml one: its keys may be in either. */
  private rancherKeysInCompose(name: string, svc: YAMLMap): void {
    for (const key of RANCHER_SERVICE_KEYS) {
      const pair = findPair(svc, key);
      if (!pair) continue;
      const own = (this.input.rancher[name] ?? {}) as Record<string, unknown>;
      const value = (pair.value as Node | null)?.toJSON?.() ?? pair.value;
      this.input.rancher = { ...this.input.rancher, [name]: { [key]: value, ...own } };
      removePair(svc, pair);
    }
  }

  private get findings(): Findings {
    return this.input.findings;
  }

  /** Keys compose no longer has, or Berth cannot honour. */
  private translateKeys(name: string, svc: YAMLMap): void {
    const where = { service: name };
    const volumeDriver = scalarText(findPair(svc, 'volume_driver')?.value);
    for (const pair of [...svc.items]) {
      const key = keyOf(pair);
      if (key === 'net') {
        (pair.key as { value: unknown }).value = 'network_mode';
      } else if (key === 'log_driver' || key === 'log_opt') {
        this.logging(svc, pair, key);
      } else if (key === 'volume_driver') {
        const driver = volumeDriver;
        for (const v of stringItems(findPair(svc, 'volumes')?.value)) this.noteVolume(v, driver);
        removePair(svc, pair);
        this.findings.add('approximated', 'volume_driver', `became the driver of each named volume the service mounts (${driver})`, where);
      } else if (key === 'external_links') {
        removePair(svc, pair);
        this.findings.add('decision', 'external_links', 'links to services of other stacks were dropped; attach the service to that stack\'s network, or publish a port', where);
      } else if (key === 'expose' && isSeq(pair.value)) {
        for (const item of pair.value.items) if (isScalar(item) && typeof item.value === 'string' && item.value.includes(':')) item.value = item.value.split(':').pop()!.replace(/\/.*$/, '');
      } else if (key === 'dockerfile' || key === 'build') {
        removePair(svc, pair);
        this.findings.add('decision', key, 'Berth deploys images and never builds them; the build settings were dropped', where);
      } else if (key !== undefined && UNSUPPORTED_SERVICE_KEYS.has(key)) {
        removePair(svc, pair);
        this.findings.add('approximated', key, `dropped: Berth cannot honour it (${UNSUPPORTED_SERVICE_KEYS.get(key)})`, where);
      } else if (key !== undefined && !COMPOSE_SERVICE_KEYS.has(key) && !this.input.hasToken(key)) {
        removePair(svc, pair);
        this.findings.add('decision', key, `"${key}" is not a compose key (Rancher read it for itself); it was dropped`, where);
      }
    }
    for (const v of stringItems(findPair(svc, 'volumes')?.value)) this.noteVolume(v, undefined);
    const mounts = findPair(svc, 'volumes')?.value;
    if (isSeq(mounts)) for (const item of mounts.items) if (isScalar(item) && typeof item.value === 'string') this.noteAnswerVolume(item.value, item.range?.[0] ?? 0, volumeDriver);
    this.mountOptions(name, findPair(svc, 'volumes')?.value);
    // Rancher's YAML reader made every argument a string; an answer that is a number stays one word of text.
    for (const key of ['command', 'entrypoint']) {
      const args = findPair(svc, key)?.value;
      if (isSeq(args)) for (const item of args.items) if (isScalar(item) && item.type === 'PLAIN' && typeof item.value === 'string' && this.input.hasToken(item.value)) item.type = 'QUOTE_DOUBLE';
    }
  }

  /**
   * A mount whose source holds an answer names a volume unless it renders to a path: declared under that name,
   * inside the template blocks that hold the mount, and unless the answer it starts with is a path.
   */
  private noteAnswerVolume(spec: string, offset: number, driver: string | undefined): void {
    if (!this.input.token || !spec.includes(':')) return;
    const source = spec.split(':')[0];
    if (!this.input.hasToken(source)) return;
    const literal = source.replace(new RegExp(`${this.input.nonce}t\\d+x`, 'g'), '');
    if (literal.includes('/') || /^[.~]/.test(source) || !/^[A-Za-z0-9_.-]*$/.test(literal)) return;
    const lead = new RegExp(`^${this.input.nonce}t\\d+x`).exec(source)?.[0];
    let guard: string | undefined;
    if (lead) {
      const expr = this.input.exprOf?.(lead);
      if (expr === undefined) return;
      guard = Converter.notVolume(expr);
    }
    const wrap = wrapBetween(this.input.skeleton, 0, offset, this.input.nonce, this.input.markers);
    const name = this.canonical(source);
    const seen = this.answerVolumes.get(name);
    if (seen) {
      seen.wraps.push(wrap);
      seen.driver ??= driver;
    } else this.answerVolumes.set(name, { source, guard, driver, wraps: [wrap] });
  }

  /** Docker relabels named volumes itself (`:z` is for host paths); mount propagation is not Berth's to set. */
  private mountOptions(name: string, volumes: unknown): void {
    if (!isSeq(volumes)) return;
    for (const item of volumes.items) {
      if (!isScalar(item) || typeof item.value !== 'string') continue;
      const parts = item.value.split(':');
      if (parts.length < 3) continue;
      const named = !/^[./~$]/.test(parts[0]) && !this.input.hasToken(parts[0]);
      const drop = (o: string): boolean => (named && (o === 'z' || o === 'Z')) || ['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'].includes(o);
      const options = parts[parts.length - 1].split(',');
      const kept = options.filter((o) => !drop(o));
      if (kept.length === options.length) continue;
      this.findings.add('approximated', 'volume options', `${item.value}: ${options.filter(drop).join(', ')} dropped (${named ? 'Docker labels named volumes itself; ' : ''}Berth does not set mount propagation)`, { service: name });
      item.value = [...parts.slice(0, -1), ...(kept.length ? [kept.join(',')] : [])].join(':');
    }
  }

  private logging(svc: YAMLMap, pair: Pair, key: string): void {
    let logging = findPair(svc, 'logging');
    if (!logging) {
      logging = this.doc.createPair('logging', {}) as Pair;
      svc.items.splice(svc.items.indexOf(pair), 0, logging);
    }
    const target = logging.value as YAMLMap;
    target.items.push(this.doc.createPair(key === 'log_driver' ? 'driver' : 'options', pair.value) as Pair);
    removePair(svc, pair);
  }

  /** A named volume (not a path, not an answer) must be declared at the top level in the current format. */
  private noteVolume(spec: string, driver: string | undefined): void {
    const source = spec.split(':')[0];
    if (!spec.includes(':') || /^[./~]/.test(source) || this.input.hasToken(source) || source.includes('$')) return;
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) return;
    if (driver !== undefined || !this.namedVolumes.has(source)) this.namedVolumes.set(source, driver ?? this.namedVolumes.get(source));
  }

  private declareVolumes(): void {
    const root = this.doc.contents as YAMLMap;
    let volumes = findPair(root, 'volumes');
    if (volumes && isMap(volumes.value)) this.rancherVolumeKeys(volumes.value);
    if (this.namedVolumes.size === 0 && this.answerVolumes.size === 0) return;
    if (!volumes || !isMap(volumes.value)) {
      if (volumes) removePair(root, volumes);
      volumes = this.doc.createPair('volumes', {}) as Pair;
      prependPairs(root, { pairs: [volumes] });
    }
    const declared = volumes.value as YAMLMap;
    for (const [name, driver] of this.namedVolumes) {
      const existing = findPair(declared, name);
      if (existing && (existing.value === null || (isScalar(existing.value) && existing.value.value === null))) existing.value = this.doc.createNode({});
      if (existing) continue;
      prependPairs(declared, { pairs: [this.doc.createPair(name, driver && driver !== 'local' ? { driver: this.driverText(driver) } : {}) as Pair] });
    }
    // A mount's blocks are repeated around its declaration only when something else keeps the map from being empty.
    const fixed = declared.items.length > 0 || [...this.answerVolumes.values()].some((v) => !v.guard && this.oneWrap(v.wraps) === null);
    const guarded: string[] = [];
    // The template may declare the volume itself (under its own conditions): then it is not declared again.
    const written = new Set(declared.items.map((p) => this.canonical(keyOf(p) ?? '')));
    for (const v of [...this.answerVolumes.values()].reverse()) {
      if (written.has(this.canonical(v.source))) continue;
      const wrap = fixed ? this.oneWrap(v.wraps) : null;
      this.declareAnswerVolume(declared, v.source, v.guard, wrap, v.driver);
      if (v.guard) guarded.push(v.guard);
    }
    if (!fixed && guarded.length > 0 && guarded.length === this.answerVolumes.size) this.guardVolumes(root, volumes, guarded);
  }

  /** Text with each token as the expression it prints: each `${X}` is its own token, the same name written twice is one. */
  private canonical(text: string): string {
    return text.replace(new RegExp(`${this.input.nonce}t\\d+x`, 'g'), (t) => `{{${this.input.exprOf?.(t) ?? t}}}`);
  }

  /** The blocks around every mount of a source, when they are the same blocks; else none (declared always). */
  private oneWrap(wraps: (Wrap | null | undefined)[]): Wrap | null {
    const blocks = (w: Wrap): string => w.open.map((i) => this.input.markers[i].hbs).join('\n');
    const first = wraps[0];
    if (!first) return null;
    return wraps.every((w) => w && blocks(w) === blocks(first)) ? first : null;
  }

  /** The condition under which a mount source starting with `expr` is a host path (or nothing), not a volume. */
  private static notVolume(expr: string): string {
    return `(or (not ${expr}) (hasPrefix ${expr} "/") (hasPrefix ${expr} ".") (hasPrefix ${expr} "~"))`;
  }

  /** `volume_driver: ${X}` as a volume's driver: Docker's default when X is left unanswered. */
  private driverText(driver: string): string {
    const variable = this.input.variableOf(driver);
    if (variable && this.input.token) return this.input.token(`{{default ${variable} "local"}}`);
    return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(driver) ? `${driver.slice(0, -1)}:-local}` : driver;
  }

  /** A volume named by an answer is declared under that name unless the answer is a host path. */
  private declareAnswerVolume(declared: YAMLMap, source: string, guard: string | undefined, wrap: Wrap | null, driver: string | undefined): void {
    const open = [...(wrap?.open ?? []), ...(guard ? [this.marker(`{{#unless ${guard}}}`, 'open')] : [])];
    const close = [...(guard ? [this.marker('{{/unless}}', 'close')] : []), ...(wrap?.close ?? [])];
    const value = driver && driver !== 'local' ? map({ driver: scalar(this.driverText(driver)) }) : map({});
    prependPairs(declared, snippetPairs(emit({ kind: 'map', entries: [{ key: source, value, ...(open.length ? { wrap: { open, close } } : {}) }] }, this.input.nonce)));
    this.findings.add('approximated', 'volumes', guard
      ? 'a mount source named by an answer is declared as a volume unless the answer is a host path'
      : 'a volume named from an answer is declared under that name');
  }

  /** A top-level volumes map holding only answer-named volumes exists only when one of them is a volume. */
  private guardVolumes(root: YAMLMap, volumes: Pair, conditions: string[]): void {
    const all = conditions.length === 1 ? conditions[0] : `(and ${conditions.join(' ')})`;
    const open = this.marker(`{{#unless ${all}}}`, 'open');
    const close = this.marker('{{/unless}}', 'close');
    // The pair moves whole (its value keeps its own markers); only what stood before its key stays behind.
    const index = root.items.indexOf(volumes);
    root.items.splice(index, 1);
    const before = isScalar(volumes.key) ? volumes.key.commentBefore : undefined;
    const next = root.items[index];
    if (before && next && isScalar(next.key)) next.key.commentBefore = [before, next.key.commentBefore].filter(Boolean).join('\n');
    else if (before) root.comment = [root.comment, before].filter(Boolean).join('\n');
    const snippet = snippetPairs(emit({ kind: 'map', entries: [{ key: 'volumes', value: map({ placeholder: map({}) }), wrap: { open: [open], close: [close] } }] }, this.input.nonce));
    snippet.pairs[0].value = volumes.value;
    prependPairs(root, snippet);
  }

  /** Rancher's `per_container` has no compose equivalent; a driver left unanswered means Docker's default. */
  private rancherVolumeKeys(declared: YAMLMap): void {
    for (const v of declared.items) {
      if (!isMap(v.value)) continue;
      const per = findPair(v.value, 'per_container');
      if (per) {
        removePair(v.value, per);
        this.findings.add('approximated', 'per_container', `volume ${keyOf(v)}: Rancher made one volume per container; Berth makes one per host`);
      }
      const driver = findPair(v.value, 'driver');
      const text = scalarText(driver?.value);
      if (driver && text !== undefined && isScalar(driver.value)) {
        const variable = this.input.variableOf(text);
        if (variable && this.input.token) driver.value.value = this.input.token(`{{default ${variable} "local"}}`);
        else if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text)) driver.value.value = `${text.slice(0, -1)}:-local}`;
      } else if (driver && text === undefined) removePair(v.value, driver);
    }
  }

  private readLabels(pair: Pair & { value: YAMLMap }): void {
    const name = keyOf(pair)!;
    const fx = emptyEffects();
    const wraps = new Map<string, Wrap | null>();
    const keyOffset = (pair.key as Node).range?.[0] ?? 0;
    for (const label of labelEntries(findPair(pair.value, 'labels')?.value)) {
      const before = { constraints: fx.constraints.length, sidekicks: fx.sidekicks.length };
      const hostToken = /^io\.rancher\.scheduler\.affinity:host_label(_ne)?$/.test(label.key) ? this.input.variableOf(label.value.trim()) : undefined;
      if (hostToken) {
        fx.constraints.push({ key: '', op: label.key.endsWith('_ne') ? '!=' : '==', value: hostToken });
      } else if (readLabel(label.key, label.value, fx, this.findings, name, (s) => this.input.hasToken(s)) === 'none') continue;
      const wrap = wrapBetween(this.input.skeleton, keyOffset, label.node.range?.[0] ?? keyOffset, this.input.nonce, this.input.markers);
      if (wrap === undefined) {
        this.findings.add('decision', label.key, 'the label sits inside a range or with block; its effect was not converted', { service: name });
        fx.constraints.length = before.constraints;
        continue;
      }
      wraps.set(label.key, wrap);
      if (wrap && label.key === 'io.rancher.sidekicks') this.findings.add('approximated', label.key, 'the sidekicks are declared under a condition; they share the primary\'s network whatever the answer', { service: name });
    }
    this.effects.set(name, { fx, wraps, keyOffset });
  }

  private rancherOnly(pair: Pair & { value: YAMLMap }): void {
    const name = keyOf(pair)!;
    const image = scalarText(findPair(pair.value, 'image')?.value) ?? '';
    const repo = image.replace(/[:@].*$/, '');
    const rancher = (this.input.rancher[name] ?? {}) as Record<string, unknown>;
    if (isLoadBalancerImage(repo)) {
      this.lbs.add(name);
      convertLoadBalancer({ doc: this.doc, name, svc: pair.value, lbConfig: rancher.lb_config, text: (raw) => this.input.text(raw), findings: this.findings, nonce: this.input.nonce });
      return;
    }
    const why = RANCHER_ONLY[repo];
    if (why) {
      removePair(this.services, pair);
      this.dropped.add(name);
      this.findings.add('decision', repo, `service ${name} was removed: it is ${why}`, { service: name });
    } else if (repo.startsWith('rancher/')) {
      this.findings.add('decision', repo, `Rancher infrastructure image ${image}: it expects Rancher's agent, metadata or network around it; check that it has a purpose outside Rancher`, { service: name });
    }
  }

  private forgetDropped(svc: YAMLMap): void {
    for (const key of ['links', 'depends_on', 'volumes_from']) {
      const pair = findPair(svc, key);
      if (!pair || !isSeq(pair.value)) continue;
      filterItems(pair.value, (item) => !this.dropped.has((scalarText(item) ?? '').split(':')[0]));
      if (pair.value.items.length === 0) removePair(svc, pair);
    }
  }

  private primaryOf(name: string): string | undefined {
    for (const [primary, e] of this.effects) if (e.fx.sidekicks.includes(name)) return primary;
    return undefined;
  }

  private addKeys(name: string, svc: YAMLMap): void {
    const e = this.effects.get(name)!;
    const rancher = this.rancherKeys.get(name) ?? {};
    const primary = this.primaryOf(name);
    const additions: { key: string; value: Y; wrap?: Wrap }[] = [];
    const deploy = this.deploy(name, e, primary ? this.rancherKeys.get(primary) ?? {} : rancher, primary);
    if (deploy) additions.push({ key: 'deploy', ...deploy });
    if (rancher.healthcheck && !findPair(svc, 'healthcheck')) additions.push({ key: 'healthcheck', value: rancher.healthcheck });
    if (e.fx.pullAlways) additions.push({ key: 'pull_policy', value: str('always'), wrap: e.wraps.get('io.rancher.container.pull_image') ?? undefined });
    if (e.fx.startOnce) this.startOnce(name, svc, additions, e.wraps.get('io.rancher.container.start_once') ?? undefined);
    if (primary) this.sidekick(name, primary, svc, additions);
    if (additions.length === 0) return;
    prependPairs(svc, snippetPairs(emit({ kind: 'map', entries: additions }, this.input.nonce)));
  }

  private deploy(name: string, e: { fx: LabelEffects; wraps: Map<string, Wrap | null> }, rancher: RancherServiceKeys, primary: string | undefined): { value: Y; wrap?: Wrap } | undefined {
    const entries: { key: string; value: Y; wrap?: Wrap }[] = [];
    const fx = primary ? this.effects.get(primary)!.fx : e.fx;
    const wraps = primary ? this.effects.get(primary)!.wraps : e.wraps;
    if (fx.global) entries.push({ key: 'mode', value: str('global'), wrap: wraps.get('io.rancher.scheduler.global') ?? undefined });
    else if (rancher.replicas) entries.push({ key: 'replicas', value: rancher.replicas });
    const placement = this.placement(fx, wraps);
    if (placement) entries.push({ key: 'placement', ...placement });
    if (rancher.update && !primary) entries.push({ key: 'update_config', value: rancher.update });
    if (primary && (fx.global || rancher.replicas || placement)) this.findings.add('approximated', 'io.rancher.sidekicks', `placed and scaled like its primary ${primary}`, { service: name });
    if (entries.length === 0) return undefined;
    // A deploy block that holds only a conditional entry exists only under that condition, never empty.
    if (entries.length === 1 && entries[0].wrap) return { value: { kind: 'map', entries: [{ key: entries[0].key, value: entries[0].value }] }, wrap: entries[0].wrap };
    return { value: { kind: 'map', entries } };
  }

  /**
   * Host-label constraints. A label inside an `{{if}}` makes placement exist under that condition; a label whose
   * value is an answer (KEY=VALUE[,…]) gives one constraint per term at render time, and none when unanswered.
   */
  private placement(fx: LabelEffects, wraps: Map<string, Wrap | null>): { value: Y; wrap?: Wrap } | undefined {
    if (fx.constraints.length === 0) return undefined;
    const wrap = (wraps.get('io.rancher.scheduler.affinity:host_label') ?? wraps.get('io.rancher.scheduler.affinity:host_label_ne')) ?? undefined;
    const answered = fx.constraints.filter((c) => c.key === '' && this.input.token);
    const items: { value: Y; wrap?: Wrap }[] = fx.constraints.filter((c) => !answered.includes(c)).map((c) => ({ value: str(`node.labels.${c.key} ${c.op} ${c.value}`) }));
    const open = [...(wrap?.open ?? [])];
    const close = [...(wrap?.close ?? [])];
    for (const c of answered) {
      const each = this.marker(`{{#each (split ${c.value} ",")}}`, 'open');
      const term = this.input.token!(`{{replace (trim this) "=" " ${c.op} "}}`);
      items.push({ value: scalar(`node.labels.${term}`), wrap: { open: [each], close: [this.marker('{{/each}}', 'close')] } });
    }
    if (answered.length && items.length === answered.length) {
      open.push(this.marker(`{{#if ${answered.map((c) => c.value).join(' ')}}}`.replace(/^\{\{#if (\S+) (.+)\}\}$/, '{{#if (or $1 $2)}}'), 'open'));
      close.unshift(this.marker('{{/if}}', 'close'));
    }
    return { value: map({ constraints: { kind: 'seq', items } }), ...(open.length ? { wrap: { open, close } } : {}) };
  }

  private marker(hbs: string, kind: 'open' | 'close'): number {
    return this.input.markers.push({ hbs, kind, line: 0 }) - 1;
  }

  private startOnce(name: string, svc: YAMLMap, additions: { key: string; value: Y; wrap?: Wrap }[], wrap: Wrap | undefined): void {
    const restart = findPair(svc, 'restart');
    if (restart) removePair(svc, restart);
    additions.push({ key: 'restart', value: str('no'), wrap });
    this.findings.add('approximated', 'io.rancher.container.start_once', 'runs once per deploy (restart: "no"); Berth starts it again when its configuration changes', { service: name });
  }

  /** A sidekick shares its primary's network namespace (so it is placed with it); its ports move to the primary. */
  private sidekick(name: string, primary: string, svc: YAMLMap, additions: { key: string; value: Y; wrap?: Wrap }[]): void {
    const where = { service: name };
    const primaryMap = this.services.items.find((p) => keyOf(p) === primary)?.value as YAMLMap | undefined;
    const mounter = this.services.items.find((p) => isMap(p.value) && stringItems(findPair(p.value, 'volumes_from')?.value).some((v) => v.split(':')[0] === name));
    if (mounter) {
      this.findings.add('approximated', 'io.rancher.sidekicks', `data sidekick of ${primary}: ${keyOf(mounter)} mounts its volumes (volumes_from), which places them on the same host; it keeps its own network`, where);
      return;
    }
    const cycle = this.pathBetween(primary, name);
    if (cycle) {
      this.findings.add('approximated', 'io.rancher.sidekicks', `sidekick of ${primary} keeps its own network: sharing ${primary}'s would make them wait on each other (${[...cycle, primary].join(' → ')}); it is not placed with ${primary} by Berth`, where);
      return;
    }
    const mode = findPair(svc, 'network_mode');
    if (mode) {
      this.findings.add('approximated', 'io.rancher.sidekicks', `sidekick of ${primary} keeps its own network_mode ${scalarText(mode.value) ?? ''}; it is not placed with ${primary} by Berth`, where);
      return;
    }
    additions.push({ key: 'network_mode', value: str(`service:${primary}`) });
    if (primaryMap) this.unlink(primaryMap, name, primary);
    for (const key of ['hostname', 'networks', 'dns', 'dns_search', 'mac_address', 'extra_hosts', 'links', 'expose']) {
      const p = findPair(svc, key);
      if (p) {
        removePair(svc, p);
        this.findings.add('approximated', 'io.rancher.sidekicks', `${key} of a sidekick was dropped: it shares ${primary}'s network namespace`, where);
      }
    }
    const ports = findPair(svc, 'ports');
    if (ports) {
      removePair(svc, ports);
      const target = this.services.items.find((p) => keyOf(p) === primary)?.value as YAMLMap | undefined;
      if (target) this.movePorts(target, ports, primary, name);
    }
    this.findings.add('approximated', 'io.rancher.sidekicks', `sidekick of ${primary}: shares its network namespace (network_mode: service:${primary}), so it runs on the same host`, where);
  }

  /** Services a service starts after: links, depends_on, volumes_from and a shared network namespace. */
  private dependencies(name: string): string[] {
    const svc = this.services.items.find((p) => keyOf(p) === name)?.value;
    if (!isMap(svc)) return [];
    const dependsOn = findPair(svc, 'depends_on')?.value;
    const out = [
      ...stringItems(findPair(svc, 'links')?.value).map((v) => v.split(':')[0]),
      ...(isMap(dependsOn) ? dependsOn.items.map((p) => keyOf(p) ?? '') : stringItems(dependsOn)),
      ...stringItems(findPair(svc, 'volumes_from')?.value).map((v) => v.replace(/^service:/, '').split(':')[0]),
      /^service:(.+)$/.exec(scalarText(findPair(svc, 'network_mode')?.value) ?? '')?.[1] ?? '',
    ];
    return out.filter((d) => d !== '' && d !== name);
  }

  /**
   * A chain of dependencies from `from` to `to` (from, …, to), leaving out `from`'s own link to `to` (a primary's
   * link to its sidekick is removed when they share a namespace); undefined when there is none.
   */
  private pathBetween(from: string, to: string): string[] | undefined {
    const seen = new Set<string>([from]);
    const walk = (at: string, trail: string[]): string[] | undefined => {
      for (const next of this.dependencies(at)) {
        if (at === from && next === to) continue;
        if (next === to) return [...trail, to];
        if (seen.has(next)) continue;
        seen.add(next);
        const found = walk(next, [...trail, next]);
        if (found) return found;
      }
      return undefined;
    };
    return walk(from, [from]);
  }

  /** The primary reaches a sidekick in its own network namespace at localhost, not through a link. */
  private unlink(primaryMap: YAMLMap, name: string, primary: string): void {
    for (const key of ['links', 'depends_on']) {
      const pair = findPair(primaryMap, key);
      if (!pair || !isSeq(pair.value)) continue;
      const before = pair.value.items.length;
      filterItems(pair.value, (item) => (scalarText(item) ?? '').split(':')[0] !== name);
      if (pair.value.items.length === before) continue;
      if (pair.value.items.length === 0) removePair(primaryMap, pair);
      this.findings.add('approximated', 'io.rancher.sidekicks', `${primary}'s ${key} entry for its sidekick ${name} was removed: they share a network namespace, so ${name} answers on localhost`, { service: primary });
    }
  }

  private movePorts(target: YAMLMap, ports: Pair, primary: string, name: string): void {
    const existing = findPair(target, 'ports');
    if (existing && isSeq(existing.value) && isSeq(ports.value)) existing.value.items.unshift(...ports.value.items);
    else if (!existing) target.items.push(this.doc.createPair('ports', ports.value) as Pair);
    this.findings.add('approximated', 'io.rancher.sidekicks', `its ports are published by ${primary}, whose network it shares`, { service: name });
  }
}

export { num, seq };
