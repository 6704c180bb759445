export type { Forge, ForgeReceiver, Headers, ParseResult, Trigger } from './types.ts';
export { isIgnored } from './types.ts';
export { GitLabReceiver } from './gitlab.ts';
export { GitHubReceiver } from './github.ts';
export { matchesRepository, repoUrlKey, displayUrl, type WatchedRepository, type MatchResult } from './match.ts';
export { registerWebhookRoutes, WEBHOOK_BODY_LIMIT, type WebhookRoutesOptions, type AcceptResult } from './routes.ts';
