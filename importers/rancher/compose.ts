/**
 * A Rancher docker-compose file (as a skeleton: see skeleton.ts) made into Berth's compose: v1 files wrapped
 * under `services:`, old keys translated, Rancher's labels and rancher-compose.yml settings turned into compose
 * keys, Rancher-only services reported, load balancers converted (lb.ts).
 */
import { type Document, type Node } from 'yaml';
import { UNSUPPORTED_KEYS } from '../../catalog/normalize-unsupported.ts';
import { catalogYamlDocument, ImportError, type Findings } from './report-types.ts';
import type { Marker } from './skeleton.ts';
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
  rancher: Record<string, unknown>;
  findings: Findings;
  file: string;
}

/** Service keys Berth refuses, with the reason; the importer drops them and says so. */
const UNSUPPORTED_SERVICE_KEYS = new Map(UNSUPPORTED_KEYS.filter((k) => /^services\.\*\.[a-z_]+$/.test(k.key)).map((k) => [k.key.split('.')[2], k.reason]));
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
  /** Answers that name a mount's source: a volume when the answer is not a path. */
  private readonly answerVolumes = new Set<string>();

  constructor(private readonly doc: Document, private readonly services: YAMLMap, private readonly input: ComposeInput) {}

  run(): void {
    const entries = this.services.items.filter((p) => isMap(p.value)) as (Pair & { value: YAMLMap })[];
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

  private get findings(): Findings {
    return this.input.findings;
  }

  /** Keys compose no longer has, or Berth cannot honour. */
  private translateKeys(name: string, svc: YAMLMap): void {
    const where = { service: name };
    for (const pair of [...svc.items]) {
      const key = keyOf(pair);
      if (key === 'net') {
        (pair.key as { value: unknown }).value = 'network_mode';
      } else if (key === 'log_driver' || key === 'log_opt') {
        this.logging(svc, pair, key);
      } else if (key === 'volume_driver') {
        const driver = scalarText(pair.value);
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
      }
    }
    for (const v of stringItems(findPair(svc, 'volumes')?.value)) this.noteVolume(v, undefined);
    this.mountOptions(name, findPair(svc, 'volumes')?.value);
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
    const variable = this.input.variableOf(source);
    if (variable && this.input.token && spec.includes(':')) this.answerVolumes.add(variable);
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
      prependPairs(declared, { pairs: [this.doc.createPair(name, driver && driver !== 'local' ? { driver } : {}) as Pair] });
    }
    for (const variable of this.answerVolumes) this.declareAnswerVolume(declared, variable);
    if (declared.items.length === this.answerVolumes.size && this.answerVolumes.size > 0) this.guardVolumes(root, volumes);
  }

  /** The condition under which an answer names a volume, not a host path. */
  private static notVolume(variable: string): string {
    return `(or (not ${variable}) (hasPrefix ${variable} "/") (hasPrefix ${variable} ".") (hasPrefix ${variable} "~"))`;
  }

  /** A volume named by an answer is declared under that name unless the answer is a host path. */
  private declareAnswerVolume(declared: YAMLMap, variable: string): void {
    const open = this.marker(`{{#unless ${Converter.notVolume(variable)}}}`, 'open');
    const close = this.marker('{{/unless}}', 'close');
    const key = this.input.token!(`{{${variable}}}`);
    prependPairs(declared, snippetPairs(emit({ kind: 'map', entries: [{ key, value: map({}), wrap: { open: [open], close: [close] } }] }, this.input.nonce)));
    this.findings.add('approximated', 'volumes', `the answer ${variable} names a volume or a host path; it is declared as a volume when it is not a path`);
  }

  /** A top-level volumes map holding only answer-named volumes exists only when one of them is a volume. */
  private guardVolumes(root: YAMLMap, volumes: Pair): void {
    const conditions = [...this.answerVolumes].map((v) => Converter.notVolume(v));
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
    const refersTo = (key: string): boolean => stringItems(primaryMap && findPair(primaryMap, key)?.value).some((v) => v.split(':')[0] === name);
    if (refersTo('volumes_from')) {
      this.findings.add('approximated', 'io.rancher.sidekicks', `data sidekick of ${primary}, which mounts its volumes (volumes_from): that places them on the same host; it keeps its own network`, where);
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
