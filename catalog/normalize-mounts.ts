/**
 * A service's `volumes` and `tmpfs` as MountModels. Short syntax: `name:/path[:opts]` is a named volume,
 * `./rel:/path`, `/abs:/path` and `~/x:/path` are binds (sources kept as written: relative paths are relative
 * to the environment root), a lone `/path` is an anonymous volume. Options Berth cannot carry are problems.
 */
import type { MountModel } from './model.ts';
import { bool, bytes, fileMode, isObject, obj, show, text, type Issues, type Path, type Raw } from './normalize-values.ts';

const isHostPath = (s: string): boolean => /^(\.|\/|~)/.test(s);
const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

function shortVolume(is: Issues, path: Path, spec: string): MountModel | undefined {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    is.add(path, `${show(spec)} is not a volume; write SOURCE:TARGET[:OPTIONS] or an absolute container path`);
    return undefined;
  }
  const [source, target, options] = parts.length === 1 ? [undefined, parts[0], undefined] : parts;
  if (!target.startsWith('/')) {
    is.add(path, `the container path ${show(target)} must be absolute`);
    return undefined;
  }
  let readOnly = false;
  let nocopy = false;
  let selinux: 'z' | 'Z' | undefined;
  const bind = source !== undefined && isHostPath(source);
  for (const opt of options ? options.split(',') : []) {
    if (opt === 'ro' || opt === 'rw') readOnly = opt === 'ro';
    else if (opt === 'nocopy' && !bind) nocopy = true;
    else if ((opt === 'z' || opt === 'Z') && bind) selinux = opt;
    else if (opt === 'z' || opt === 'Z') is.add(path, `volume option "${opt}" relabels a host path for SELinux; Docker relabels named volumes itself`);
    else if (PROPAGATION.has(opt)) is.add(path, `volume option "${opt}" is not supported: Berth does not set mount propagation`);
    else is.add(path, `unknown volume option ${show(opt)} (ro, rw${bind ? ', z, Z' : ', nocopy'})`);
  }
  if (bind) {
    // Short syntax creates a missing host directory, as docker-compose always did.
    return { type: 'bind', source, target, read_only: readOnly, create_host_path: true, ...(selinux ? { selinux } : {}) };
  }
  return { type: 'volume', ...(source === undefined ? {} : { source }), target, read_only: readOnly, nocopy };
}

function longVolume(is: Issues, path: Path, raw: Raw): MountModel | undefined {
  const type = text(raw.type);
  const target = text(raw.target);
  if (!target.startsWith('/')) {
    is.add([...path, 'target'], raw.target === undefined ? 'a mount needs a target' : `the container path ${show(raw.target)} must be absolute`);
    return undefined;
  }
  const readOnly = bool(is, [...path, 'read_only'], raw.read_only, false);
  if (type === 'volume') {
    const source = raw.source === undefined || raw.source === '' ? undefined : text(raw.source);
    const nocopy = bool(is, [...path, 'volume', 'nocopy'], obj(raw.volume).nocopy, false);
    return { type, ...(source === undefined ? {} : { source }), target, read_only: readOnly, nocopy };
  }
  if (type === 'bind') {
    if (!raw.source) is.add([...path, 'source'], 'a bind mount needs a source path');
    const create = bool(is, [...path, 'bind', 'create_host_path'], obj(raw.bind).create_host_path, false);
    const selinux = obj(raw.bind).selinux;
    if (selinux !== undefined && selinux !== 'z' && selinux !== 'Z') is.add([...path, 'bind', 'selinux'], `must be z or Z, got ${show(selinux)}`);
    const label = selinux === 'z' || selinux === 'Z' ? { selinux: selinux as 'z' | 'Z' } : {};
    return raw.source ? { type, source: text(raw.source), target, read_only: readOnly, create_host_path: create, ...label } : undefined;
  }
  if (type === 'tmpfs') {
    if (raw.source !== undefined) is.add([...path, 'source'], 'a tmpfs mount has no source');
    return tmpfsMount(target, bytes(is, [...path, 'tmpfs', 'size'], obj(raw.tmpfs).size), fileMode(is, [...path, 'tmpfs', 'mode'], obj(raw.tmpfs).mode));
  }
  is.add([...path, 'type'], `mount type ${show(type)} is not supported (volume, bind or tmpfs)`);
  return undefined;
}

function tmpfsMount(target: string, size: number | undefined, mode: number | undefined): MountModel {
  return { type: 'tmpfs', target, ...(size === undefined ? {} : { size_bytes: size }), ...(mode === undefined ? {} : { mode }) };
}

export function normalizeVolumes(is: Issues, path: Path, v: unknown): MountModel[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item, i) => (isObject(item) ? longVolume(is, [...path, i], item) : shortVolume(is, [...path, i], text(item))) ?? []);
}

/** The service-level `tmpfs` key: `/path` or `/path:size=64m,mode=1777`. */
export function normalizeTmpfs(is: Issues, path: Path, v: unknown): MountModel[] {
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v.map(text) : [text(v)];
  return items.flatMap((spec, i) => {
    const at = Array.isArray(v) ? [...path, i] : path;
    const [target, options] = [spec.split(':')[0], spec.split(':').slice(1).join(':')];
    if (!target.startsWith('/')) {
      is.add(at, `the tmpfs path ${show(target)} must be absolute`);
      return [];
    }
    let size: number | undefined;
    let mode: number | undefined;
    for (const opt of options ? options.split(',') : []) {
      const [k, val] = [opt.split('=')[0], opt.split('=').slice(1).join('=')];
      if (k === 'size') size = bytes(is, at, val);
      else if (k === 'mode') mode = fileMode(is, at, val);
      else is.add(at, `tmpfs option ${show(opt)} is not supported (size=…, mode=…)`);
    }
    return [tmpfsMount(target, size, mode)];
  });
}
