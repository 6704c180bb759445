/**
 * GitHub webhooks: X-Hub-Signature-256 is `sha256=<hex HMAC-SHA256 of the body>`, the event is named by
 * X-GitHub-Event. `push` and merged `pull_request`s trigger; ping and everything else are ignored.
 */
import { createHmac } from 'node:crypto';
import { branchOf, header, invalid, isZeroSha, Reader, sameSecret, urlsOf } from './payload.ts';
import type { ForgeReceiver, Headers, ParseResult, Trigger } from './types.ts';

const REPOSITORY_URLS = ['clone_url', 'ssh_url', 'git_url', 'html_url', 'svn_url'];

export class GitHubReceiver implements ForgeReceiver {
  readonly forge = 'github' as const;

  constructor(
    private readonly secret: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (!secret) throw new TypeError('GitHubReceiver needs a non-empty secret');
  }

  /** HMAC over the raw bytes rather than @octokit/webhooks-methods' string API: a body that isn't valid UTF-8 would not survive the round trip. */
  async verify(headers: Headers, rawBody: Buffer): Promise<boolean> {
    const signature = header(headers, 'x-hub-signature-256');
    if (signature === undefined) return false;
    const expected = `sha256=${createHmac('sha256', this.secret).update(rawBody).digest('hex')}`;
    return sameSecret(signature, expected);
  }

  describe(headers: Headers): { event?: string; deliveryId?: string } {
    return { event: header(headers, 'x-github-event'), deliveryId: header(headers, 'x-github-delivery') };
  }

  parse(headers: Headers, body: unknown): ParseResult {
    const { event = '(none)', deliveryId } = this.describe(headers);
    const read = new Reader((m) => invalid('GitHub', event, m), body);
    const base = { forge: this.forge, deliveryId, receivedAt: this.now().toISOString() };
    switch (event) {
      case 'ping':
        return { ignored: 'ping' };
      case 'push':
        return push(read, base);
      case 'pull_request':
        return pullRequest(read, base);
      default:
        return { ignored: `GitHub event "${event}" is not one Berth acts on (push, pull_request)` };
    }
  }
}

type Base = Pick<Trigger, 'forge' | 'deliveryId' | 'receivedAt'>;

function push(read: Reader, base: Base): ParseResult {
  const ref = read.string('ref');
  const branch = branchOf(ref);
  if (!branch) return { ignored: ref.startsWith('refs/tags/') ? `tag push ${ref} does not deploy` : `ref ${ref} is not a branch` };
  const after = read.string('after');
  if (read.at('deleted') === true || isZeroSha(after)) return { ignored: `branch ${branch} was deleted` };
  return { ...base, kind: 'push', ...repository(read), ref, branch, after };
}

function pullRequest(read: Reader, base: Base): ParseResult {
  const action = read.optionalString('action') ?? '(none)';
  const merged = read.at('pull_request.merged') === true;
  if (action !== 'closed' || !merged) {
    return { ignored: `pull request action "${action}"${action === 'closed' ? ' without merge' : ''} does not deploy (only a merge does)` };
  }
  const branch = read.string('pull_request.base.ref');
  const after = read.optionalString('pull_request.merge_commit_sha');
  return { ...base, kind: 'merge', ...repository(read), ref: `refs/heads/${branch}`, branch, after };
}

function repository(read: Reader): Pick<Trigger, 'repository' | 'repoUrl' | 'repoPath' | 'repoUrls'> {
  const repo = read.object('repository');
  const repoPath = read.string('repository.full_name');
  const repoUrls = urlsOf(repo, REPOSITORY_URLS);
  return { repository: repoPath, repoUrl: read.optionalString('repository.clone_url'), repoPath, repoUrls };
}
