/**
 * Compose keys Berth cannot honour on standalone Docker hosts, each with the reason, so a template never
 * loses a setting silently. `*` matches any key or list index. Exported for the README.
 */
import type { PathSegment } from './schema.ts';
import { isObject, type Issues } from './normalize-values.ts';

const NOT_MODELLED = 'not modelled by Berth yet';

export const UNSUPPORTED_KEYS: readonly { key: string; reason: string }[] = [
  { key: 'services.*.extends.file', reason: 'a template version is one file; extend a service of the same file' },
  { key: 'services.*.deploy.resources.reservations.devices', reason: 'GPU and device reservations are not modelled by Berth' },
  { key: 'services.*.deploy.resources.reservations.generic_resources', reason: 'swarm generic resources have no meaning on a standalone host' },
  { key: 'include', reason: 'a template version is one file; write everything in it' },
  { key: 'models', reason: 'AI model runners are not supported' },
  { key: 'services.*.build', reason: 'Berth deploys images and never builds them' },
  { key: 'services.*.develop', reason: 'compose watch is a development feature' },
  { key: 'services.*.gpus', reason: 'GPU access is not modelled by Berth' },
  { key: 'services.*.provider', reason: 'provider services are a Docker Desktop feature' },
  { key: 'services.*.models', reason: 'AI model runners are not supported' },
  { key: 'services.*.use_api_socket', reason: 'Berth does not hand the Docker API to containers' },
  { key: 'services.*.post_start', reason: 'lifecycle hooks are not supported' },
  { key: 'services.*.pre_stop', reason: 'lifecycle hooks are not supported' },
  { key: 'services.*.attach', reason: 'Berth never attaches to container output' },
  { key: 'services.*.credential_spec', reason: 'Windows containers only' },
  { key: 'services.*.isolation', reason: 'Windows containers only' },
  ...[
    'annotations', 'blkio_config', 'cgroup', 'cpu_count', 'cpu_percent', 'cpu_shares', 'cpu_quota',
    'cpu_period', 'cpu_rt_period', 'cpu_rt_runtime', 'cpuset', 'memswap_limit',
    'oom_kill_disable', 'oom_score_adj', 'pull_refresh_after', 'runtime', 'userns_mode',
  ].map((k) => ({ key: `services.*.${k}`, reason: NOT_MODELLED })),
  { key: 'services.*.deploy.rollback_config', reason: 'a failed update rolls back as update_config.failure_action says' },
  { key: 'services.*.deploy.update_config.max_failure_ratio', reason: 'an update stops at its first failure' },
  ...['interface_name', 'link_local_ips', 'mac_address', 'driver_opts', 'gw_priority'].map((k) => ({ key: `services.*.networks.*.${k}`, reason: NOT_MODELLED })),
  { key: 'services.*.volumes.*.consistency', reason: 'Docker Desktop for Mac only; no effect on Linux hosts' },
  { key: 'services.*.volumes.*.image', reason: 'image mounts are not supported' },
  ...['bind.propagation', 'bind.recursive'].map((k) => ({ key: `services.*.volumes.*.${k}`, reason: 'Berth does not set mount propagation' })),
  ...['volume.labels', 'volume.subpath'].map((k) => ({ key: `services.*.volumes.*.${k}`, reason: NOT_MODELLED })),
  ...['name', 'app_protocol'].map((k) => ({ key: `services.*.ports.*.${k}`, reason: 'Berth keeps no port metadata' })),
  { key: 'services.*.env_file.*.format', reason: 'env files are read in the usual KEY=VALUE format only' },
  { key: 'networks.*.enable_ipv4', reason: NOT_MODELLED },
  { key: 'networks.*.enable_ipv6', reason: NOT_MODELLED },
  { key: 'networks.*.ipam.options', reason: NOT_MODELLED },
  { key: 'networks.*.ipam.config.*.aux_addresses', reason: NOT_MODELLED },
  ...['labels', 'driver', 'driver_opts', 'template_driver'].map((k) => ({ key: `secrets.*.${k}`, reason: 'secrets are files Berth writes itself' })),
  ...['labels', 'template_driver'].map((k) => ({ key: `configs.*.${k}`, reason: 'configs are files Berth writes itself' })),
];

/** The keys as a tree of path segments (`*` = any key or item), so one walk of a document checks them all. */
interface KeyTrie {
  reason?: string;
  next: Map<string, KeyTrie>;
}

const TRIE: KeyTrie = { next: new Map() };
for (const { key, reason } of UNSUPPORTED_KEYS) {
  let node = TRIE;
  for (const part of key.split('.')) {
    let child = node.next.get(part);
    if (!child) node.next.set(part, (child = { next: new Map() }));
    node = child;
  }
  node.reason = reason;
}

/** Reports every unsupported key present in the document. */
export function reportUnsupported(is: Issues, doc: unknown): void {
  visit(doc, TRIE, [], is);
}

/** `at` is the path so far; it is copied only when a key is reported. */
function visit(node: unknown, trie: KeyTrie, at: PathSegment[], is: Issues): void {
  if (trie.reason !== undefined) is.unsupported([...at], trie.reason);
  if (!trie.next.size) return;
  const any = trie.next.get('*');
  const step = (key: PathSegment, child: unknown, sub: KeyTrie) => {
    at.push(key);
    visit(child, sub, at, is);
    at.pop();
  };
  if (Array.isArray(node)) {
    if (any) node.forEach((item, k) => step(k, item, any));
    return;
  }
  if (!isObject(node)) return;
  for (const [k, sub] of trie.next) {
    if (k !== '*' && k in node && node[k] !== undefined) step(k, node[k], sub);
  }
  if (any) for (const [k, v] of Object.entries(node)) step(k, v, any);
}
