/**
 * Ports and exposed ports. Short syntax `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]` and long syntax both become
 * one PortModel per container port: `8080-8081:80-81` is two ports, `8080-8081:80` is one port whose host
 * side Docker picks from the range.
 */
import type { PortModel } from './model.ts';
import { isObject, show, text, type Issues, type Path } from './normalize-values.ts';

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
type Protocol = PortModel['protocol'];

interface Range { from: number; to: number }

function parseRange(s: string): Range | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return from >= 1 && to <= 65535 && from <= to ? { from, to } : undefined;
}

const rangeText = (r: Range): string => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`);

/** Pairs container ports with host ports; returns an error message when the two sides cannot be paired. */
function expand(target: Range, published: Range | undefined, base: Omit<PortModel, 'target' | 'published'>): PortModel[] | string {
  const count = target.to - target.from + 1;
  const hostCount = published ? published.to - published.from + 1 : 0;
  if (published && count > 1 && hostCount !== count) {
    return `host ports ${rangeText(published)} and container ports ${rangeText(target)} differ in number`;
  }
  return Array.from({ length: count }, (_, i) => ({
    target: target.from + i,
    published: !published ? undefined : count === 1 ? rangeText(published) : String(published.from + i),
    ...(base.host_ip !== undefined ? { host_ip: base.host_ip } : {}),
    protocol: base.protocol,
    mode: base.mode,
  }));
}

/** Parses one short-syntax port; a string result is the reason it is invalid. */
export function parsePortSpec(spec: string): PortModel[] | string {
  let rest = spec.trim();
  let protocol: string = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) [rest, protocol] = [rest.slice(0, slash), rest.slice(slash + 1)];
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) return `unknown protocol "${protocol}" (tcp, udp or sctp)`;
  let hostIp: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) [hostIp, rest] = [v6[1], v6[2]];
  const parts = rest.split(':');
  if (parts.length > 3 || (v6 && parts.length > 2)) return 'expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]';
  if (parts.length === 3) hostIp = parts.shift();
  const target = parseRange(parts[parts.length - 1]);
  const host = parts.length === 2 && parts[0] !== '' ? parseRange(parts[0]) : undefined;
  if (!target || (parts.length === 2 && parts[0] !== '' && !host)) return 'ports must be numbers or ranges between 1 and 65535';
  if (hostIp === '') hostIp = undefined;
  return expand(target, host, { host_ip: hostIp, protocol: protocol as Protocol, mode: 'ingress' });
}

function longPort(is: Issues, path: Path, raw: Record<string, unknown>): PortModel[] {
  const target = typeof raw.target === 'number' ? parseRange(String(raw.target)) : raw.target === undefined ? undefined : parseRange(text(raw.target));
  if (!target) {
    is.add([...path, 'target'], raw.target === undefined ? 'a port needs a target (the container port)' : `${show(raw.target)} is not a port`);
    return [];
  }
  const published = raw.published === undefined || raw.published === null || raw.published === '' ? undefined : parseRange(text(raw.published));
  if (raw.published !== undefined && raw.published !== null && raw.published !== '' && !published) {
    is.add([...path, 'published'], `${show(raw.published)} is not a port or port range`);
    return [];
  }
  const protocol = raw.protocol === undefined ? 'tcp' : text(raw.protocol);
  const mode = raw.mode === undefined ? 'ingress' : text(raw.mode);
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) is.add([...path, 'protocol'], `unknown protocol "${protocol}" (tcp, udp or sctp)`);
  if (mode !== 'ingress' && mode !== 'host') is.add([...path, 'mode'], `mode must be "ingress" or "host", got ${show(mode)}`);
  const base = { host_ip: raw.host_ip === undefined ? undefined : text(raw.host_ip), protocol: protocol as Protocol, mode: mode as PortModel['mode'] };
  const ports = expand(target, published, base);
  if (typeof ports === 'string') is.add(path, ports);
  return typeof ports === 'string' ? [] : ports;
}

export function normalizePorts(is: Issues, path: Path, v: unknown): PortModel[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item, i) => {
    if (isObject(item)) return longPort(is, [...path, i], item);
    const ports = parsePortSpec(text(item));
    if (typeof ports === 'string') is.add([...path, i], `${show(item)} is not a valid port mapping: ${ports}`);
    return typeof ports === 'string' ? [] : ports;
  });
}

export function normalizeExpose(is: Issues, path: Path, v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item, i) => {
    const s = text(item);
    const m = /^(\d+(?:-\d+)?)(\/(tcp|udp|sctp))?$/.exec(s);
    if (m && parseRange(m[1])) return [s];
    is.add([...path, i], `${show(item)} is not a port, port range or PORT/PROTOCOL`);
    return [];
  });
}
