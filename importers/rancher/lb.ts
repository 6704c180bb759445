/**
 * Rancher's load balancer (`rancher/lb-service-haproxy` with `lb_config.port_rules` in rancher-compose.yml)
 * becomes HAProxy with a generated configuration: a frontend per source port, ACLs on host name and path,
 * a backend per target service and port that finds the service's containers through Docker's DNS.
 */
import type { Document } from 'yaml';
import type { Findings } from './report-types.ts';
import { findPair, isSeq, prependPairs, removePair, snippetPairs, type Pair, YAMLMap } from './yaml-edit.ts';
import { emit, map, seq, str, scalar, type Y } from './snippet.ts';

export const LB_IMAGE = 'haproxy:2.6';
const CONFIG_TARGET = '/usr/local/etc/haproxy/haproxy.cfg';

export const isLoadBalancerImage = (repo: string): boolean => repo === 'rancher/lb-service-haproxy';

export interface LbInput {
  doc: Document;
  name: string;
  svc: YAMLMap;
  lbConfig: unknown;
  /** A rancher-compose value as text inside the generated file (answers as tokens or `${X}`). */
  text(raw: unknown): string;
  findings: Findings;
  nonce: string;
}

interface Rule { source: string; target: string; service: string; hostname: string; path: string; protocol: string; priority: number }

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

function readRules(input: LbInput): Rule[] {
  const raw = obj(input.lbConfig).port_rules;
  const where = { service: input.name };
  const rules: Rule[] = [];
  (Array.isArray(raw) ? raw : []).forEach((r, i) => {
    const o = obj(r);
    const protocol = String(o.protocol ?? 'http');
    if (o.selector !== undefined) input.findings.add('decision', 'lb_config.port_rules.selector', `rule ${i + 1} selects targets by label (${String(o.selector)}); name the service instead`, where);
    if (o.service === undefined) return;
    const service = String(o.service);
    if (service.includes('/')) input.findings.add('decision', 'lb_config.port_rules.service', `rule ${i + 1} targets ${service} in another stack; Berth's proxy reaches only this stack's services by name`, where);
    if (['https', 'tls', 'sni'].includes(protocol)) input.findings.add('decision', 'lb_config.certs', `rule ${i + 1} terminates ${protocol} with a certificate held by Rancher; it was converted as ${protocol === 'https' ? 'http' : 'tcp'}: add the certificate to the HAProxy configuration`, where);
    if (protocol === 'udp') {
      input.findings.add('decision', 'lb_config.port_rules.protocol', `rule ${i + 1} is UDP, which HAProxy does not proxy; it was dropped`, where);
      return;
    }
    rules.push({
      source: input.text(o.source_port ?? o.target_port ?? 80),
      target: input.text(o.target_port ?? o.source_port ?? 80),
      service: service.split('/').pop()!,
      hostname: o.hostname === undefined ? '' : input.text(o.hostname),
      path: o.path === undefined ? '' : input.text(o.path),
      protocol: protocol === 'https' ? 'http' : ['tls', 'sni'].includes(protocol) ? 'tcp' : protocol,
      // Rules with a priority go first (lower first), then the others in the order written.
      priority: o.priority === undefined ? 1000 + i : Number(o.priority),
    });
  });
  return rules.sort((a, b) => a.priority - b.priority);
}

function hostAcl(host: string): string {
  if (host.startsWith('*.')) return `hdr_end(host) -i ${host.slice(1)}`;
  if (host.endsWith('.*')) return `hdr_beg(host) -i ${host.slice(0, -1)}`;
  return `hdr_dom(host) -i ${host}`;
}

/** The HAProxy configuration text for the rules, in Rancher's order: priority, then as written. */
export function haproxyConfig(rules: Rule[], custom: string): string {
  const lines = [
    'global', '  maxconn 4096', '', 'resolvers docker', '  nameserver dns 127.0.0.11:53', '  hold valid 5s', '',
    'defaults', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s', '',
  ];
  const backends = new Map<string, Rule>();
  const backendOf = (r: Rule): string => {
    const id = `${r.service}_${r.target}`.replace(/[^A-Za-z0-9_]/g, '_');
    backends.set(id, r);
    return id;
  };
  const ports = [...new Set(rules.map((r) => r.source))];
  for (const port of ports) {
    const own = rules.filter((r) => r.source === port);
    const mode = own.some((r) => r.protocol === 'tcp') ? 'tcp' : 'http';
    lines.push(`frontend port_${port.replace(/[^A-Za-z0-9_]/g, '_')}`, `  bind *:${port}`, `  mode ${mode}`);
    own.forEach((r, i) => {
      const acls: string[] = [];
      if (mode === 'http' && r.hostname) {
        lines.push(`  acl rule${i}_host ${hostAcl(r.hostname)}`);
        acls.push(`rule${i}_host`);
      }
      if (mode === 'http' && r.path) {
        lines.push(`  acl rule${i}_path path_beg ${r.path}`);
        acls.push(`rule${i}_path`);
      }
      lines.push(acls.length ? `  use_backend ${backendOf(r)} if ${acls.join(' ')}` : `  default_backend ${backendOf(r)}`);
    });
    lines.push('');
  }
  for (const [id, r] of backends) {
    lines.push(`backend ${id}`, `  mode ${r.protocol === 'tcp' ? 'tcp' : 'http'}`, `  server-template ${r.service.replace(/[^A-Za-z0-9_-]/g, '_')} 1-16 ${r.service}:${r.target} resolvers docker init-addr none check`, '');
  }
  if (custom.trim()) lines.push('# custom configuration from lb_config.config', custom.trim(), '');
  return `${lines.join('\n')}\n`;
}

/** Rewrites the service in place: the HAProxy image, its configuration, and ports for each source port. */
export function convertLoadBalancer(input: LbInput): void {
  const { doc, svc, name, findings } = input;
  const rules = readRules(input);
  const config = obj(input.lbConfig);
  const custom = typeof config.config === 'string' ? input.text(config.config) : '';
  if (custom) findings.add('approximated', 'lb_config.config', 'the custom HAProxy configuration was appended as written; check it against HAProxy 2.6', { service: name });
  if (config.stickiness_policy !== undefined) findings.add('approximated', 'lb_config.stickiness_policy', 'sticky sessions were not converted', { service: name });
  const image = findPair(svc, 'image');
  if (image) removePair(svc, image);
  const configName = `${name}_haproxy`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const additions: { key: string; value: Y }[] = [
    { key: 'image', value: str(LB_IMAGE) },
    { key: 'configs', value: seq([map({ source: str(configName), target: str(CONFIG_TARGET) })]) },
  ];
  const ports = findPair(svc, 'ports');
  if (!ports && rules.length) additions.push({ key: 'ports', value: seq([...new Set(rules.map((r) => r.source))].map((p) => scalar(`${p}:${p}`))) });
  prependPairs(svc, snippetPairs(emit({ kind: 'map', entries: additions }, input.nonce)));
  for (const key of ['expose', 'command', 'entrypoint']) {
    const p = findPair(svc, key);
    if (p) removePair(svc, p);
  }
  addConfig(doc, configName, haproxyConfig(rules, custom));
  const targets = [...new Set(rules.map((r) => r.service))].join(', ') || 'nothing';
  findings.add('approximated', 'rancher/lb-service-haproxy', `became HAProxy (${LB_IMAGE}) with a generated configuration: ${rules.length} port rule(s) to ${targets}, found through Docker's DNS`, { service: name });
}

function addConfig(doc: Document, name: string, content: string): void {
  const root = doc.contents as YAMLMap;
  // Added first, not last: a marker closing a block at the end of the file must stay at the end.
  let configs = findPair(root, 'configs');
  if (!configs) {
    configs = doc.createPair('configs', {}) as Pair;
    prependPairs(root, { pairs: [configs] });
  }
  prependPairs(configs.value as YAMLMap, { pairs: [doc.createPair(name, doc.createNode({ content })) as Pair] });
}

export { isSeq };
