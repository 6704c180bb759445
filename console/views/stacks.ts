/** The stacks list and a stack's page: status, containers per host, history with diffs, rollback, logs. */
import type { StackState } from '../../controller/stack-state.ts';
import type { StackSpec } from '../../environment/types.ts';
import type { HistoryEntry } from '../../ledger/ledger.ts';
import { html, statusBadge, when, type SafeHtml } from '../html.ts';
import { renderMarkdown } from '../markdown.ts';
import type { Upgrade } from '../../upgrades/find.ts';
import { SECRET_TYPES } from '../../catalog/types.ts';
import type { AppliedMigration } from '../../catalog/migrate.ts';
import { isEncrypted } from '../../lib/secrets.ts';
import type { HostContainers } from '../stack-ops.ts';

/** Where a stack runs: its Swarm, or its host selector. */
function selector(spec: { hosts: Record<string, string>; swarm?: string }): string {
  if (spec.swarm !== undefined) return `swarm ${spec.swarm}`;
  const pairs = Object.entries(spec.hosts);
  return pairs.length ? pairs.map(([k, v]) => `${k}=${v}`).join(', ') : 'every host';
}

/** "upgrade 1.0 → 1.1", linking to its merge request when Berth opened one (a safe http(s) URL only). */
function upgradeChip(s: StackState): SafeHtml {
  const url = s.upgradeMergeRequest && /^https?:\/\//.test(s.upgradeMergeRequest) ? s.upgradeMergeRequest : undefined;
  const chip = html`<span class="chip up" data-testid="upgrade">upgrade ${s.upgrade}</span>`;
  return url ? html`<a href="${url}" target="_blank" rel="noopener noreferrer" data-testid="upgrade-mr">${chip} merge request →</a>` : chip;
}

export function stacksBody(states: StackState[], specs: Map<string, StackSpec>, canDeploy: boolean): SafeHtml {
  return html`
  <section class="head row"><div class="grow"><h1>Stacks</h1><p class="muted">${states.length} ${states.length === 1 ? 'stack' : 'stacks'} in the environment.</p></div>
    ${canDeploy ? html`<a class="button primary" href="/catalog">Deploy from the catalog</a>` : ''}</section>
  ${states.length === 0 ? html`<section class="panel empty-state"><h2>No stacks yet</h2><p>Pick a template in the <a href="/catalog">catalog</a> and deploy it: the console commits <code>stacks/&lt;name&gt;.yml</code> and Berth deploys it.</p></section>` : html`
  <table class="grid stacks" data-testid="stacks-table"><thead><tr><th>Stack</th><th>Status</th><th>Template</th><th>Hosts</th><th>Last deploy</th><th></th></tr></thead><tbody>
  ${states.map((s) => {
    const spec = specs.get(s.stack);
    return html`<tr data-stack="${s.stack}">
      <td><a href="/stacks/${encodeURIComponent(s.stack)}" class="strong">${s.stack}</a></td>
      <td>${statusBadge(s.status, s.reconciling)}<div class="reason muted">${s.reason}</div></td>
      <td>${spec ? `${spec.template} ${spec.version}` : ''}</td>
      <td>${spec ? selector(spec) : ''}</td>
      <td>${when(s.lastSuccessAt)}</td>
      <td>${s.upgrade ? upgradeChip(s) : ''}</td></tr>`;
  })}
  </tbody></table>`}`;
}

function containersPanel(hosts: HostContainers[]): SafeHtml {
  if (!hosts.length) return html`<p class="muted">No containers of this stack on any host.</p>`;
  return html`${hosts.map((h) => html`<h3 class="host">${h.host}${h.reachable ? '' : html` <span class="badge s-failed">unreachable</span>`}</h3>
    ${h.error ? html`<p class="alert">${h.error}</p>` : ''}
    <table class="grid" data-testid="containers"><thead><tr><th>Service</th><th>Container</th><th>State</th><th>Image</th><th>Open</th></tr></thead><tbody>
    ${h.containers.map((c) => html`<tr><td>${c.service}</td><td><code>${c.name}</code></td>
      <td><span class="dot ${c.state === 'running' ? (c.health === 'unhealthy' ? 'bad' : 'ok') : 'bad'}"></span>${c.state}${c.health ? ` (${c.health})` : ''}${c.exitCode !== undefined && c.state !== 'running' ? ` · exit ${c.exitCode}` : ''}</td>
      <td><code>${c.image}</code></td>
      <td>${c.urls.map((u) => html`<a href="${u}" target="_blank" rel="noopener noreferrer" data-testid="url">${u}</a> `)}</td></tr>`)}
    </tbody></table>`)}`;
}

function historyPanel(stack: string, history: HistoryEntry[], canRollback: boolean): SafeHtml {
  if (!history.length) return html`<p class="muted">No deploy recorded yet.</p>`;
  return html`<ol class="history" data-testid="history">${history.map((h, i) => html`<li>
    <div class="row"><code class="sha">${h.commit.slice(0, 7)}</code><span class="grow">${h.subject}</span>
      <span class="chip ${h.outcome === 'failed' ? 'bad' : h.mode === 'rollback' ? 'warn' : ''}">${h.mode === 'rollback' ? 'rollback' : h.outcome ?? ''}</span></div>
    <div class="muted small">${when(h.when)} · ${h.author}${h.trigger ? ` · ${h.trigger}` : ''}</div>
    <div class="row actions"><button class="link" data-diff="${h.commit}">Show diff</button>
      ${canRollback && i > 0 && h.mode !== 'rollback' ? html`<button class="link" data-rollback-to="${h.commit}" data-stack="${stack}">Roll back to this</button>` : ''}</div>
    <pre class="diff" hidden></pre></li>`)}</ol>`;
}

export interface StackView {
  state: StackState;
  spec: StackSpec;
  hosts: HostContainers[];
  history: HistoryEntry[];
  canEdit: boolean;
  canRollback: boolean;
  /** A newer version of the template the stack may move to. */
  newer?: string;
}

export function stackBody(v: StackView): SafeHtml {
  const { state: s, spec } = v;
  const services = [...new Set(v.hosts.flatMap((h) => h.containers.map((c) => c.service)))].sort();
  return html`
  <section class="head" data-stack="${s.stack}" id="stack-head">
    <p class="crumbs"><a href="/stacks">Stacks</a> › ${s.stack}</p>
    <div class="title-row"><div class="grow"><h1>${s.stack} <span id="live-status">${statusBadge(s.status, s.reconciling)}</span></h1>
      <p class="muted" id="live-reason" data-testid="reason">${s.reason}${s.lastError ? ` — ${s.lastError}` : ''}</p></div>
      ${v.canEdit && v.newer ? html`<a class="button primary" href="/stacks/${encodeURIComponent(s.stack)}/edit?version=${encodeURIComponent(v.newer)}" data-testid="upgrade-button">Upgrade to ${v.newer}</a>` : ''}
      ${v.canEdit ? html`<a class="button" href="/stacks/${encodeURIComponent(s.stack)}/edit" data-testid="edit-button">Edit answers</a>` : ''}
      ${v.canRollback && v.history.length > 1 && v.history.slice(0, -1).some((h) => h.snapshots) ? html`<label class="check" title="An upgrade snapshotted the data before it changed it: a rollback across it can restore those snapshots, with the services stopped, before the older version starts"><input type="checkbox" id="rollback-data" data-testid="rollback-with-data"> with its data</label>` : ''}
      ${v.canRollback && v.history.length > 1 ? html`<button class="button danger" data-rollback="${s.stack}" data-testid="rollback-button">Roll back</button>` : ''}
    </div>
    <dl class="facts">
      <div><dt>Template</dt><dd>${spec.template} ${spec.version}</dd></div>
      <div><dt>Runs on</dt><dd data-testid="runs-on">${selector(spec)}</dd></div>
      <div><dt>Last deploy</dt><dd>${when(s.lastSuccessAt)}</dd></div>
      <div><dt>Environment commit</dt><dd><code>${(s.desiredCommit ?? '').slice(0, 7)}</code></dd></div>
      ${s.upgrade ? html`<div><dt>Upgrade available</dt><dd>${upgradeChip(s)}</dd></div>` : ''}
    </dl>
  </section>
  <section class="panel"><h2>${v.spec.swarm !== undefined ? 'Tasks' : 'Containers'}</h2>${containersPanel(v.hosts)}</section>
  <div class="columns">
    <section class="panel"><h2>History</h2>${historyPanel(s.stack, v.history, v.canRollback)}</section>
    <section class="panel"><h2>Logs</h2>
      <div class="toolbar"><select id="log-service" aria-label="Service" data-testid="log-service">${services.map((x) => html`<option>${x}</option>`)}</select>
        <label class="check"><input type="checkbox" id="log-follow" data-testid="log-follow"> Follow</label>
        <button class="button" id="log-load" data-testid="log-load">Show logs</button></div>
      <pre class="logs" id="logs" data-testid="logs"></pre>
    </section>
  </div>`;
}

function shown(m: AppliedMigration, v: unknown): string {
  return m.secret || isEncrypted(v) ? '••••••' : JSON.stringify(v);
}

/** One answer change a migration made, in words; secret values never shown. */
function migrationLine(m: AppliedMigration): SafeHtml {
  const e = m.edit;
  const at = html` <span class="muted small">(${m.version})</span>`;
  if (e.kind === 'rename') return html`<li><code>${e.from}</code> renamed to <code>${e.to}</code>${at}</li>`;
  if (e.kind === 'drop') return html`<li><code>${e.variable}</code> removed${m.superseded && m.step.op === 'rename' ? html`: <code>${m.step.to}</code> is answered already` : m.old !== undefined ? ` (was ${shown(m, m.old)})` : ''}${at}</li>`;
  return html`<li><code>${e.variable}</code>: ${m.old !== undefined ? `${shown(m, m.old)} → ` : 'set to '}${shown(m, e.value)}${at}</li>`;
}

/** What moving to a newer version does before anything is written: release notes, migrated answers, new questions. */
export async function upgradePanel(u: Upgrade): Promise<SafeHtml> {
  const notes = await Promise.all([...u.between].reverse().map(async (v) => html`<details class="version" ${v === u.version ? 'open' : ''}><summary><strong>${u.template} ${v.version}</strong></summary>
    ${v.releaseNotes?.trim() ? html`<div class="markdown">${await renderMarkdown(v.releaseNotes)}</div>` : html`<p class="muted">No release notes.</p>`}</details>`));
  const renamed = (v: string, side: 'from' | 'to') => u.migrations.some((m) => m.edit.kind === 'rename' && m.edit[side] === v);
  const added = u.newQuestions.filter((q) => !renamed(q.variable, 'to'));
  const gone = u.removedQuestions.filter((q) => !renamed(q.variable, 'from'));
  return html`<div class="upgrade-plan" data-testid="upgrade-panel">
    <p>From <strong>${u.template} ${u.from}</strong> to <strong>${u.template} ${u.to}</strong>. Nothing is written until you submit: then the stack file changes in one commit (or merge request), and Berth deploys it.</p>
    ${u.migrations.length ? html`<h3>Answers the vendor's migrations change</h3><ul data-testid="upgrade-migrations">${u.migrations.map(migrationLine)}</ul>` : html`<p class="muted">No answer migrations.</p>`}
    ${added.length ? html`<h3>New questions</h3><ul data-testid="upgrade-new">${added.map((q) => html`<li><code>${q.variable}</code> (${q.label}, ${q.type})${q.generate ? ' — generated by Berth when left empty, encrypted' : SECRET_TYPES.has(q.type) ? ' — secret' : ''}${q.immutable ? ' — immutable once deployed' : ''}</li>`)}</ul>` : ''}
    ${gone.length ? html`<h3>No longer asked</h3><ul>${gone.map((q) => html`<li><code>${q.variable}</code> (${q.label})</li>`)}</ul>` : ''}
    <h3>Release notes</h3>${notes}</div>`;
}
