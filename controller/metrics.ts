/**
 * Prometheus metrics of `berth serve`, in a Registry of its own (so tests and embedders never collide with
 * prom-client's global one). Labels are stack names, outcomes, forges and repository URLs stripped of
 * credentials: nothing an operator would not print on a dashboard.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { splitUrlCredentials } from '../lib/git/source.ts';

export type WebhookResult = 'accepted' | 'ignored' | 'unauthorized' | 'invalid' | 'too_large' | 'not_configured';

export class Metrics {
  readonly registry = new Registry();
  private readonly reconciles: Counter<'stack' | 'outcome'>;
  private readonly durations: Histogram<'stack'>;
  private readonly lastSuccess: Gauge<'stack'>;
  private readonly driftHeals: Counter<'stack'>;
  private readonly webhooks: Counter<'forge' | 'result'>;
  private readonly syncFailures: Counter<'repo'>;
  private readonly renders: Counter;
  private readonly engineEvents: Counter<'target' | 'type' | 'action' | 'cause'>;
  private readonly streamUp: Gauge<'target'>;
  private readonly streamReconnects: Counter<'target'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.reconciles = new Counter({ name: 'berth_reconcile_total', help: 'Reconciles of a stack, by outcome (converged, unchanged, failed, stalled).', labelNames: ['stack', 'outcome'], registers });
    this.durations = new Histogram({
      name: 'berth_reconcile_duration_seconds', help: 'How long one reconcile of a stack took.', labelNames: ['stack'], registers,
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    });
    this.lastSuccess = new Gauge({ name: 'berth_last_success_timestamp_seconds', help: 'When a stack last reconciled successfully (Unix time).', labelNames: ['stack'], registers });
    this.driftHeals = new Counter({ name: 'berth_drift_heals_total', help: 'Timer reconciles that changed something while the sources had not changed: drift undone.', labelNames: ['stack'], registers });
    this.webhooks = new Counter({ name: 'berth_webhooks_total', help: 'Webhook deliveries, by forge and result.', labelNames: ['forge', 'result'], registers });
    this.syncFailures = new Counter({ name: 'berth_source_sync_failures_total', help: 'Failed attempts to sync a source repository.', labelNames: ['repo'], registers });
    this.engineEvents = new Counter({
      name: 'berth_engine_events_total', help: 'Events from the engines\' event streams about Berth\'s objects, by target, object type, action and cause (berth: its own apply; other: drift).',
      labelNames: ['target', 'type', 'action', 'cause'], registers,
    });
    this.streamUp = new Gauge({ name: 'berth_event_stream_up', help: 'Whether the event stream of a host or Swarm is connected (1) or not (0).', labelNames: ['target'], registers });
    this.streamReconnects = new Counter({ name: 'berth_event_stream_reconnects_total', help: 'Event streams that came back after being down.', labelNames: ['target'], registers });
    this.renders = new Counter({ name: 'berth_renders_total', help: 'Desired states computed (rendered, or read from the ledger); a stack whose inputs and running state did not move needs none.', registers });
  }

  reconciled(stack: string, outcome: string, seconds: number): void {
    this.reconciles.inc({ stack, outcome });
    this.durations.observe({ stack }, seconds);
    if (outcome === 'converged' || outcome === 'unchanged') this.lastSuccess.set({ stack }, Date.now() / 1000);
  }

  driftHealed(stack: string): void {
    this.driftHeals.inc({ stack });
  }

  engineEvent(target: string, type: string, action: string, own: boolean): void {
    this.engineEvents.inc({ target, type, action, cause: own ? 'berth' : 'other' });
  }

  eventStream(target: string, up: boolean): void {
    this.streamUp.set({ target }, up ? 1 : 0);
  }

  eventStreamReconnected(target: string): void {
    this.streamReconnects.inc({ target });
  }

  rendered(): void {
    this.renders.inc();
  }

  webhook(forge: string, result: WebhookResult): void {
    this.webhooks.inc({ forge, result });
  }

  /** `repo` may be a URL with a token in it: only its credential-free form becomes a label. */
  sourceSyncFailed(repo: string): void {
    this.syncFailures.inc({ repo: splitUrlCredentials(repo).url });
  }

  /** Drops the series of a stack that left the environment. */
  forgetStack(stack: string): void {
    for (const m of [this.durations, this.lastSuccess, this.driftHeals]) m.remove({ stack });
    for (const outcome of ['converged', 'unchanged', 'failed', 'stalled']) this.reconciles.remove({ stack, outcome });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
