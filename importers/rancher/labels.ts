/**
 * `io.rancher.*` labels: what each becomes on Berth. Scheduling labels become placement; the rest are kept as
 * ordinary container labels (harmless, and they say where the service came from) and reported when Rancher
 * acted on them.
 */
import type { Findings } from './report-types.ts';

export interface LabelEffects {
  global?: boolean;
  /** `node.labels.K == V` / `!=` constraints, from host_label affinity. */
  constraints: { key: string; op: '==' | '!='; value: string }[];
  sidekicks: string[];
  pullAlways?: boolean;
  startOnce?: boolean;
}

const HOST_LABEL = /^io\.rancher\.scheduler\.affinity:host_label(_soft)?(_ne)?$/;
const CONTAINER_AFFINITY = /^io\.rancher\.scheduler\.affinity:container(_label)?(_soft)?(_ne)?$/;
/** The label names Berth's constraints accept (catalog/normalize-deploy.ts). */
const CONSTRAINT_KEY = /^[A-Za-z0-9_.-]+$/;
const QUIET = new Set(['io.rancher.container.pull_image', 'io.rancher.container.start_once', 'io.rancher.sidekicks', 'io.rancher.scheduler.global']);

/** `k=v,k2=v2` as pairs; a term without `=` has an empty value. */
export function labelTerms(value: string): { key: string; value: string }[] {
  return value.split(',').map((t) => t.trim()).filter(Boolean).map((t) => {
    const eq = t.indexOf('=');
    return eq < 0 ? { key: t, value: '' } : { key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim() };
  });
}

const truthy = (v: string): boolean => /^(true|yes|1)$/i.test(v.trim().replace(/^["']|["']$/g, ''));

/** `hasToken` tells whether a value holds an answer (then it cannot be split here). */
export function readLabel(key: string, value: string, fx: LabelEffects, findings: Findings, service: string, hasToken: (s: string) => boolean): 'structure' | 'none' {
  const where = { service };
  if (!key.startsWith('io.rancher.')) return 'none';
  const host = HOST_LABEL.exec(key);
  if (host) {
    if (host[1]) {
      findings.add('approximated', key, `a soft host-label preference (${value}) has no Berth equivalent and was dropped; use a hard constraint if it matters`, where);
      return 'none';
    }
    if (hasToken(value)) {
      findings.add('decision', key, `the host-label affinity ${value} depends on an answer; add deploy.placement.constraints by hand`, where);
      return 'none';
    }
    for (const t of labelTerms(value)) {
      if (t.value === '') findings.add('decision', key, `"${t.key}" asks for a host label to exist; Berth constraints compare values, add one by hand`, where);
      else if (!CONSTRAINT_KEY.test(t.key)) findings.add('decision', key, `the host label "${t.key}" cannot be named in a Berth constraint (letters, digits, ".", "_", "-"); the rule ${t.key}=${t.value} was dropped: label the hosts under another name and add the constraint by hand`, where);
      else fx.constraints.push({ key: t.key, op: host[2] ? '!=' : '==', value: t.value });
    }
    return 'structure';
  }
  if (CONTAINER_AFFINITY.test(key)) {
    findings.add('approximated', key, `container affinity (${value}) has no Berth equivalent and was dropped; place the services with host-label constraints`, where);
    return 'none';
  }
  switch (key) {
    case 'io.rancher.scheduler.global':
      fx.global = truthy(value) || hasToken(value);
      if (hasToken(value)) findings.add('approximated', key, `global mode depends on an answer (${value}); the service is made global`, where);
      return 'structure';
    case 'io.rancher.sidekicks':
      if (hasToken(value)) findings.add('decision', key, `the sidekicks depend on an answer (${value}); set their network_mode by hand`, where);
      else fx.sidekicks.push(...value.split(',').map((s) => s.trim()).filter(Boolean));
      return 'structure';
    case 'io.rancher.container.pull_image':
      fx.pullAlways = value.trim() === 'always';
      return 'structure';
    case 'io.rancher.container.start_once':
      fx.startOnce = truthy(value);
      return 'structure';
    case 'io.rancher.container.hostname_override':
      findings.add('approximated', key, 'the container\'s host name is Docker\'s default (its ID), not its Rancher container name', where);
      return 'none';
    case 'io.rancher.container.agent.role':
    case 'io.rancher.container.create_agent':
      findings.add('decision', key, 'the service used the Rancher API through an agent account; Berth has no Rancher API', where);
      return 'none';
    case 'io.rancher.container.dns':
    case 'io.rancher.container.network':
      findings.add('approximated', key, 'Rancher\'s managed network and DNS do not exist on Berth; the service uses the stack network', where);
      return 'none';
    default:
      if (!QUIET.has(key)) findings.add('approximated', key, 'Rancher acted on this label; on Berth it is only a label', where);
      return 'none';
  }
}

export function emptyEffects(): LabelEffects {
  return { constraints: [], sidekicks: [] };
}
