/**
 * What a webhook (or the timer, the CLI, a revert) asks the controller to do, normalized across forges so the
 * controller never sees a forge's payload. Receivers only verify and parse; deciding whether the repository
 * and branch are watched is `match.ts`, and queueing is the caller's `accept`.
 */
export type Forge = 'gitlab' | 'github';

export interface Trigger {
  /** The webhook receivers produce 'push' or 'merge'; the others come from the timer, the CLI and rollbacks. */
  kind: 'push' | 'merge' | 'timer' | 'cli' | 'revert';
  forge?: Forge;
  /** Idempotency-Key or X-Gitlab-Event-UUID / X-GitHub-Delivery: lets the queue drop a redelivery. */
  deliveryId?: string;
  /** For messages: the project path when the payload has one, else the clone URL. */
  repository: string;
  /** The HTTP clone URL as the forge gave it. */
  repoUrl?: string;
  /** `group/sub/project` (GitLab path_with_namespace) or `owner/repo` (GitHub full_name). */
  repoPath?: string;
  /** Every URL form the payload gives, so a watch configured with any of them matches. */
  repoUrls: string[];
  /** `refs/heads/main`. */
  ref?: string;
  /** `main`. */
  branch?: string;
  /** The commit after the push, or the merge commit; absent when the forge gives none (e.g. a fast-forward merge on GitLab). */
  after?: string;
  /** ISO time the delivery was received. */
  receivedAt: string;
}

export type Headers = Record<string, string | string[] | undefined>;

export type ParseResult = Trigger | { ignored: string };

export interface ForgeReceiver {
  readonly forge: Forge;
  /** Constant-time secret check over the exact bytes received; false → 401. */
  verify(headers: Headers, rawBody: Buffer): Promise<boolean>;
  /** The event name and delivery id from the headers, for log lines written before (or without) parsing. */
  describe(headers: Headers): { event?: string; deliveryId?: string };
  /**
   * Parses a verified body: a trigger, or `{ ignored: reason }` for events Berth doesn't act on (ping, tag push,
   * issue …). Throws a BerthError WEBHOOK_PAYLOAD_INVALID (→ 400) when the body lacks what the event needs.
   */
  parse(headers: Headers, body: unknown): ParseResult;
}

export function isIgnored(result: ParseResult): result is { ignored: string } {
  return 'ignored' in result;
}
