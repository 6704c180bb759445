// Local images with no registry: a root filesystem made in memory from the static busybox
// binary, imported with POST /images/create?fromSrc=- (dockerode importImage) and given its
// CMD/ENV/LABEL/... through the `changes` option.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { tarEntries, type TarEntry } from '../../engines/docker/tar.ts';

export const BUSYBOX_PATH = '/bin/busybox'; // Debian's busybox-static
export const BUSYBOX_APPLETS = [
  'sh', 'httpd', 'sleep', 'wget', 'echo', 'cat', 'ls', 'nc', 'true', 'false', 'env', 'id', 'mkdir',
  'printf', 'test', 'grep', 'hostname', 'date', 'touch', 'rm', '[', 'kill', 'ps', 'sed', 'head', 'tail', 'wc', 'cp', 'mv', 'ln', 'chmod',
];

export interface ImageSpec {
  /** repo:tag, e.g. berth-test/web:2 (tag defaults to "latest") */
  tag: string;
  /** extra files, absolute path → content; folders are made as needed */
  files?: Record<string, string | Buffer>;
  cmd?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  labels?: Record<string, string>;
  workdir?: string;
  expose?: string[]; // "80/tcp"
  user?: string;
  /** full HEALTHCHECK instruction text after "HEALTHCHECK", e.g. 'CMD ["wget","-q","-O-","http://127.0.0.1/"]' */
  healthcheck?: string;
  stopSignal?: string;
}

export const BUSYBOX_IMAGE = 'berth-test/busybox:1';
export const HASH_LABEL = 'berth-test.image-hash';

export const busyboxImage = (): ImageSpec => ({ tag: BUSYBOX_IMAGE, cmd: ['sh'] });

/**
 * berth-test/web:<version>: busybox httpd on port 80 serving /www; /version and
 * /www/index.html hold exactly the version string (no newline).
 */
export function webImage(version: string | number, extra: Partial<ImageSpec> = {}): ImageSpec {
  const v = String(version);
  return {
    tag: `berth-test/web:${v}`,
    cmd: ['httpd', '-f', '-p', '80', '-h', '/www'],
    expose: ['80/tcp'],
    ...extra,
    files: { '/version': v, '/www/index.html': v, ...(extra.files ?? {}) },
    labels: { 'berth-test.version': v, ...(extra.labels ?? {}) },
  };
}

/** The images most tests want: busybox, web:1 and web:2. */
export const STANDARD_IMAGES: ImageSpec[] = [busyboxImage(), webImage(1), webImage(2)];

/** The root filesystem of an image spec, as a tar archive in memory. */
export function rootfsTar(spec: ImageSpec): Promise<Buffer> {
  const entries = new Map<string, TarEntry>();
  const dir = (p: string, mode = 0o755) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = '/' + parts.slice(0, i).join('/');
      if (!entries.has(d)) entries.set(d, { path: d, type: 'directory', mode });
    }
  };
  const file = (p: string, data: string | Buffer, mode = 0o644) => {
    dir(p.slice(0, p.lastIndexOf('/')) || '/');
    entries.set(p, { path: p, type: 'file', mode, content: data });
  };
  for (const d of ['/bin', '/etc', '/root', '/www', '/var/run', '/dev', '/proc', '/sys']) dir(d);
  dir('/tmp', 0o1777);
  file('/bin/busybox', readFileSync(BUSYBOX_PATH), 0o755);
  for (const a of BUSYBOX_APPLETS) entries.set(`/bin/${a}`, { path: `/bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' });
  file('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  file('/etc/group', 'root:x:0:\nnogroup:x:65534:\n');
  // A script (starting with #!) must be executable, as it would be in a real image.
  const mode = (data: string | Buffer) => (Buffer.isBuffer(data) ? data.subarray(0, 2).toString() : data.slice(0, 2)) === '#!' ? 0o755 : 0o644;
  for (const [p, data] of Object.entries(spec.files ?? {})) file(p.startsWith('/') ? p : `/${p}`, data, mode(data));
  // A fixed mtime: the same spec gives the same bytes, hence the same hash.
  return tarEntries([...entries.values()], new Date('2000-01-01T00:00:00Z'));
}

/** Dockerfile-style instructions for the `changes` parameter of ImageCreate?fromSrc. */
export function imageChanges(spec: ImageSpec, hash?: string): string[] {
  const c: string[] = [];
  if (spec.entrypoint) c.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  if (spec.cmd) c.push(`CMD ${JSON.stringify(spec.cmd)}`);
  c.push('ENV PATH=/bin');
  for (const [k, v] of Object.entries(spec.env ?? {})) c.push(`ENV ${k}=${JSON.stringify(v)}`);
  const labels = { ...(spec.labels ?? {}), ...(hash ? { [HASH_LABEL]: hash } : {}) };
  for (const [k, v] of Object.entries(labels)) c.push(`LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`);
  if (spec.workdir) c.push(`WORKDIR ${spec.workdir}`);
  for (const p of spec.expose ?? []) c.push(`EXPOSE ${p}`);
  if (spec.user) c.push(`USER ${spec.user}`);
  if (spec.healthcheck) c.push(`HEALTHCHECK ${spec.healthcheck}`);
  if (spec.stopSignal) c.push(`STOPSIGNAL ${spec.stopSignal}`);
  return c;
}

/** A hash of what the spec builds (so a changed spec under the same tag is re-imported). */
export async function specHash(spec: ImageSpec): Promise<string> {
  const h = createHash('sha256');
  h.update(JSON.stringify(imageChanges(spec)));
  h.update(await rootfsTar(spec));
  return h.digest('hex').slice(0, 16);
}

function splitTag(tag: string): { repo: string; tag: string } {
  const slash = tag.lastIndexOf('/');
  const colon = tag.lastIndexOf(':');
  return colon > slash ? { repo: tag.slice(0, colon), tag: tag.slice(colon + 1) } : { repo: tag, tag: 'latest' };
}

/** Imports the image unconditionally; resolves to its id. */
export async function importImage(docker: Docker, spec: ImageSpec): Promise<string> {
  const hash = await specHash(spec);
  const { repo, tag } = splitTag(spec.tag);
  const stream = await docker.importImage(Readable.from([await rootfsTar(spec)]) as unknown as NodeJS.ReadableStream, {
    repo,
    tag,
    changes: imageChanges(spec, hash),
  } as object);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
      if (err) return reject(err);
      const bad = out.find((o) => o.error || o.errorDetail);
      if (bad) return reject(new Error(`import of ${spec.tag} failed: ${bad.error ?? bad.errorDetail?.message}`));
      resolve();
    });
  });
  const info = await docker.getImage(spec.tag).inspect();
  return info.Id;
}

/** Imports each spec whose tag is missing (or was built from a different spec). Idempotent. */
export async function ensureImages(docker: Docker, specs: ImageSpec[] = STANDARD_IMAGES): Promise<void> {
  for (const spec of specs) {
    try {
      const info = await docker.getImage(spec.tag).inspect();
      if (info.Config?.Labels?.[HASH_LABEL] === (await specHash(spec))) continue;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
    await importImage(docker, spec);
  }
}

export const ensureImage = (docker: Docker, spec: ImageSpec) => ensureImages(docker, [spec]);
