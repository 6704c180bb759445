/**
 * The reference that names exactly the image a service runs, so the ledger can pin it: `repo:tag@digest` when the
 * image came from (or went to) the reference's repository, else the image ID (a locally loaded image has no digest).
 */
import { unpinnedRef } from '../standalone/hash.ts';

export interface ImageIdentity {
  id: string;
  /** `repo@sha256:…` per registry the image was pulled from or pushed to; empty for a locally loaded image. */
  repoDigests: string[];
}

/** `docker.io/library/nginx`, `library/nginx` and `nginx` are one repository. */
function normalRepo(repo: string): string {
  return repo.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

/** `localhost:5000/app:1` → `localhost:5000/app` (a colon before the last slash is a port, not a tag). */
export function repoOf(ref: string): string {
  return unpinnedRef(ref).replace(/@sha256:.*$/, '').replace(/:[^/:]*$/, '');
}

/**
 * The reference that names exactly the running image: `repo:tag@<repo digest>` when the image came from (or went
 * to) the reference's repository, else the image ID — a locally loaded image has no repo digest.
 */
export function pinnedRef(ref: string, image: ImageIdentity | undefined): { ref: string; digest?: string } {
  if (!image) return { ref };
  const base = unpinnedRef(ref);
  const repo = normalRepo(repoOf(base));
  const digest = base.startsWith('sha256:') ? undefined : image.repoDigests.find((d) => normalRepo(d.split('@')[0]) === repo)?.split('@')[1];
  return digest ? { ref: `${base}@${digest}`, digest } : { ref: image.id };
}

