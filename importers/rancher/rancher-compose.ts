/**
 * A service's entry in rancher-compose.yml: `scale`, `health_check`, `upgrade_strategy` as compose keys, and
 * what Rancher did that Berth cannot (metadata, retain_ip, …) as findings.
 */
import type { Findings } from './report-types.ts';
import { map, num, scalar, seq, str, type Y } from './snippet.ts';

export type Value = (raw: unknown) => Y;
/** A value as text inside a longer string. */
export type Text = (raw: unknown) => string;

const HANDLED = new Set(['scale', 'health_check', 'upgrade_strategy', 'lb_config', 'metadata', 'retain_ip', 'start_on_create', 'drain_timeout_ms']);

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** A duration in milliseconds as compose writes it; an answer is a number of milliseconds too. */
function ms(v: unknown, text: Text): Y | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' || /^\d+$/.test(String(v))) return str(`${Number(v)}ms`);
  return str(`${text(v)}ms`);
}

/**
 * Rancher probed from outside the container (TCP connect, or an HTTP request line); compose runs a command
 * inside it. The command tries wget, then nc, which busybox, Alpine and Debian images have in some form.
 */
export function healthcheck(raw: unknown, value: Value, text: Text, findings: Findings, service: string): Y | undefined {
  const h = obj(raw);
  if (h.port === undefined) {
    findings.add('decision', 'health_check', 'the health check names no port; none was converted', { service });
    return undefined;
  }
  const port = text(h.port);
  const request = typeof h.request_line === 'string' ? text(h.request_line).trim() : '';
  // HAProxy's httpchk forms, as Rancher passed them on: `URI`, `METHOD URI`, `METHOD URI VERSION`, parts quoted or not.
  const words = request.split(/\s+/).filter(Boolean).map((w) => w.replace(/^["']|["']$/g, ''));
  const path = words[0]?.startsWith('/') ? words[0] : /^[A-Z]+$/.test(words[0] ?? '') ? words[1] : undefined;
  const cmd = path !== undefined
    ? `wget -q -O /dev/null 'http://127.0.0.1:${port}${path.startsWith('/') ? '' : '/'}${path.replace(/'/g, '')}' || curl -fsS -o /dev/null 'http://127.0.0.1:${port}${path.startsWith('/') ? '' : '/'}${path.replace(/'/g, '')}'`
    : `nc -z 127.0.0.1 ${port} || nc 127.0.0.1 ${port} </dev/null`;
  const where = { service };
  findings.add('approximated', 'health_check', `Rancher's ${path !== undefined ? 'HTTP' : 'TCP'} probe from outside the container became a command inside it (${path !== undefined ? 'wget or curl' : 'nc'}); the image must have that tool`, where);
  if (h.healthy_threshold !== undefined && Number(h.healthy_threshold) > 1) findings.add('approximated', 'health_check.healthy_threshold', `healthy_threshold ${String(h.healthy_threshold)}: compose counts one success as healthy`, where);
  if (h.strategy !== undefined && h.strategy !== 'recreate') findings.add('approximated', 'health_check.strategy', `strategy ${String(h.strategy)}: Berth never recreates an unhealthy container by itself; health gates updates and depends_on`, where);
  const retries = h.unhealthy_threshold;
  return map({
    test: seq([str('CMD-SHELL'), str(cmd)]),
    interval: ms(h.interval, text),
    timeout: ms(h.response_timeout, text),
    retries: retries === undefined ? undefined : typeof retries === 'number' || /^\d+$/.test(String(retries)) ? num(Number(retries)) : value(retries),
    start_period: ms(h.initializing_timeout, text),
  });
}

/** `upgrade_strategy` → `deploy.update_config`. */
export function updateConfig(raw: unknown, value: Value, text: Text, findings: Findings, service: string): Y | undefined {
  const u = obj(raw);
  if (Object.keys(u).length === 0) return undefined;
  const batch = u.batch_size;
  const startFirst = u.start_first === true || u.start_first === 'true';
  if (u.interval_millis === undefined && batch === undefined && u.start_first === undefined) return undefined;
  findings.add('approximated', 'upgrade_strategy', 'became deploy.update_config; an update is confirmed once new containers are healthy (or running), not by a person clicking "finish upgrade"', { service });
  return map({
    parallelism: batch === undefined ? undefined : /^\d+$/.test(String(batch)) ? num(Number(batch)) : value(batch),
    delay: ms(u.interval_millis, text),
    order: u.start_first === undefined ? undefined : str(startFirst ? 'start-first' : 'stop-first'),
  });
}

export interface RancherServiceKeys {
  replicas?: Y;
  healthcheck?: Y;
  update?: Y;
  lb?: Record<string, unknown>;
}

export function readRancherService(raw: unknown, value: Value, text: Text, findings: Findings, service: string, lb = false): RancherServiceKeys {
  const r = obj(raw);
  const out: RancherServiceKeys = {};
  if (r.scale !== undefined && r.scale !== null) out.replicas = /^\d+$/.test(String(r.scale)) ? num(Number(r.scale)) : value(r.scale);
  if (r.health_check !== undefined && lb) findings.add('approximated', 'health_check', 'the load balancer\'s own health check (HAProxy\'s monitor port) was not converted', { service });
  else if (r.health_check !== undefined) out.healthcheck = healthcheck(r.health_check, value, text, findings, service);
  if (r.upgrade_strategy !== undefined) out.update = updateConfig(r.upgrade_strategy, value, text, findings, service);
  if (r.lb_config !== undefined) out.lb = obj(r.lb_config);
  if (r.metadata !== undefined) findings.add('decision', 'metadata', 'Rancher\'s metadata service served this service\'s metadata block; Berth has none: pass it as environment or a config file', { service });
  if (r.retain_ip !== undefined) findings.add('approximated', 'retain_ip', 'Docker gives a recreated container a new IP address; reach services by name', { service });
  for (const key of Object.keys(r)) {
    if (!HANDLED.has(key)) findings.add('approximated', `rancher-compose ${key}`, `"${key}" has no Berth equivalent and was dropped`, { service });
  }
  return out;
}

export { scalar };
