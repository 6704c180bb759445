/**
 * GitLab webhooks: the secret comes back verbatim in X-Gitlab-Token (no HMAC), the event is named by
 * X-Gitlab-Event. Push Hook and the merge action of Merge Request Hook trigger; everything else is ignored.
 */
import { branchOf, header, invalid, isObject, isZeroSha, Reader, sameSecret, urlsOf, type Json } from './payload.ts';
import type { ForgeReceiver, Headers, ParseResult, Trigger } from './types.ts';

const PROJECT_URLS = ['git_http_url', 'git_ssh_url', 'http_url', 'ssh_url', 'url', 'web_url', 'homepage'];

export class GitLabReceiver implements ForgeReceiver {
  readonly forge = 'gitlab' as const;

  constructor(
    private readonly secret: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (!secret) throw new TypeError('GitLabReceiver needs a non-empty secret');
  }

  async verify(headers: Headers, _rawBody: Buffer): Promise<boolean> {
    const token = header(headers, 'x-gitlab-token');
    return token !== undefined && sameSecret(token, this.secret);
  }

  /** Idempotency-Key (GitLab 17.4+) stays the same across retries of one delivery, so it is preferred for de-duplication. */
  describe(headers: Headers): { event?: string; deliveryId?: string } {
    return {
      event: header(headers, 'x-gitlab-event'),
      deliveryId: header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid'),
    };
  }

  parse(headers: Headers, body: unknown): ParseResult {
    const { event = '(none)', deliveryId } = this.describe(headers);
    const read = new Reader((m) => invalid('GitLab', event, m), body);
    const base = { forge: this.forge, deliveryId, receivedAt: this.now().toISOString() };
    switch (event) {
      case 'Push Hook':
        return push(read, base);
      case 'Merge Request Hook':
        return mergeRequest(read, base);
      case 'Tag Push Hook':
        return { ignored: `tag push ${read.optionalString('ref') ?? '(no ref)'} does not deploy` };
      default:
        return { ignored: `GitLab event "${event}" is not one Berth acts on (Push Hook, Merge Request Hook)` };
    }
  }
}

type Base = Pick<Trigger, 'forge' | 'deliveryId' | 'receivedAt'>;

function push(read: Reader, base: Base): ParseResult {
  const kind = read.string('object_kind');
  if (kind !== 'push') throw invalid('GitLab', 'Push Hook', `object_kind is "${kind}", expected "push"`);
  const ref = read.string('ref');
  const branch = branchOf(ref);
  if (!branch) return { ignored: `ref ${ref} is not a branch` };
  const after = read.string('after');
  if (isZeroSha(after)) return { ignored: `branch ${branch} was deleted` };
  return { ...base, kind: 'push', ...project(read, read.object('project')), ref, branch, after };
}

function mergeRequest(read: Reader, base: Base): ParseResult {
  const kind = read.string('object_kind');
  if (kind !== 'merge_request') throw invalid('GitLab', 'Merge Request Hook', `object_kind is "${kind}", expected "merge_request"`);
  const action = read.optionalString('object_attributes.action') ?? '(none)';
  if (action !== 'merge') return { ignored: `merge request action "${action}" does not deploy (only "merge" does)` };
  const branch = read.string('object_attributes.target_branch');
  // A fast-forward merge has no merge commit: the controller then deploys the branch head.
  const after = read.optionalString('object_attributes.merge_commit_sha');
  const target = read.at('project') ?? read.at('object_attributes.target');
  if (!isObject(target)) throw invalid('GitLab', 'Merge Request Hook', 'project is missing or not an object');
  return { ...base, kind: 'merge', ...project(read, target), ref: `refs/heads/${branch}`, branch, after };
}

function project(read: Reader, p: Json): Pick<Trigger, 'repository' | 'repoUrl' | 'repoPath' | 'repoUrls'> {
  const repoUrls = urlsOf(p, PROJECT_URLS);
  const repoPath = typeof p.path_with_namespace === 'string' && p.path_with_namespace ? p.path_with_namespace : undefined;
  const repoUrl = repoUrls.find((u) => /^https?:\/\//i.test(u));
  const repository = repoPath ?? repoUrl ?? repoUrls[0];
  if (!repository) throw invalid('GitLab', read.optionalString('object_kind') ?? 'event', 'project has neither path_with_namespace nor a URL');
  return { repository, repoUrl, repoPath, repoUrls };
}
