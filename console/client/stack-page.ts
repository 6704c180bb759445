/** The stack page: live status, each deploy's diff on demand, rollback with confirmation, logs tail and follow. */
import { api, el } from './dom.ts';

export function mountStackPage(head: HTMLElement): void {
  const stack = head.dataset.stack!;
  const live = document.getElementById('live-status');
  const reason = document.getElementById('live-reason');
  const events = new EventSource(`/api/stacks/${encodeURIComponent(stack)}/events`);
  events.addEventListener('status', (ev) => {
    const s = JSON.parse((ev as MessageEvent<string>).data) as { status: string; reason: string; lastError: string | null; reconciling: boolean } | null;
    if (!s || !live || !reason) return;
    live.replaceChildren(el('span', { class: `badge s-${s.status.toLowerCase()}`, 'data-testid': 'status' }, s.status, s.reconciling && s.status !== 'Reconciling' ? el('span', { class: 'spin' }) : null));
    reason.textContent = `${s.reason}${s.lastError ? ` — ${s.lastError}` : ''}`;
  });

  document.querySelectorAll<HTMLButtonElement>('button[data-diff]').forEach((b) => b.addEventListener('click', async () => {
    const pre = b.closest('li')?.querySelector<HTMLElement>('pre.diff');
    if (!pre) return;
    if (!pre.hidden) { pre.hidden = true; b.textContent = 'Show diff'; return; }
    const r = await api<{ diff: string }>('GET', `/api/stacks/${encodeURIComponent(stack)}/history/${b.dataset.diff}/diff`);
    pre.replaceChildren(...(r.ok ? r.body.diff : r.body.message ?? 'error').split('\n').map((line) => el('span', { class: line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : '' }, `${line}\n`)));
    pre.hidden = false;
    b.textContent = 'Hide diff';
  }));

  const rollback = async (to?: string) => {
    const what = to ? `the state of ${to.slice(0, 7)}` : 'the state before its last deploy';
    const withData = document.querySelector<HTMLInputElement>('#rollback-data')?.checked === true;
    const data = withData ? `\n\nThe data snapshots taken before ${to ? 'the upgrade away from that state' : 'that deploy'} are restored: the services using them stop, the volumes go back to the snapshots, then the older version starts.` : '';
    if (!window.confirm(`Roll ${stack} back to ${what}?\n\nThis commits a revert on the ledger branch; Berth then deploys it.${data}`)) return;
    const r = await api<{ commit: string }>('POST', `/api/stacks/${encodeURIComponent(stack)}/rollback`, { ...(to ? { to } : {}), withData });
    const out = document.getElementById('rollback-outcome') ?? head.appendChild(el('div', { id: 'rollback-outcome', 'data-testid': 'rollback-outcome' }));
    if (!r.ok) { out.replaceChildren(el('p', { class: 'alert' }, `${r.body.message ?? `error ${r.status}`}${r.body.hint ? ` — ${r.body.hint}` : ''}`)); return; }
    out.replaceChildren(el('p', { class: 'ok' }, 'Rolled back: revert commit ', el('code', { 'data-testid': 'revert-commit' }, r.body.commit.slice(0, 7)), ' is on the ledger; Berth deploys it now.'));
  };
  document.querySelector<HTMLButtonElement>('button[data-rollback]')?.addEventListener('click', () => void rollback());
  document.querySelectorAll<HTMLButtonElement>('button[data-rollback-to]').forEach((b) => b.addEventListener('click', () => void rollback(b.dataset.rollbackTo)));

  const logs = document.getElementById('logs');
  const service = document.getElementById('log-service') as HTMLSelectElement | null;
  const follow = document.getElementById('log-follow') as HTMLInputElement | null;
  let stream: EventSource | undefined;
  document.getElementById('log-load')?.addEventListener('click', async () => {
    if (!logs || !service) return;
    stream?.close();
    logs.replaceChildren();
    const append = (text: string) => { logs.append(document.createTextNode(text)); logs.scrollTop = logs.scrollHeight; };
    if (follow?.checked) {
      stream = new EventSource(`/api/stacks/${encodeURIComponent(stack)}/logs/follow?service=${encodeURIComponent(service.value)}&tail=200`);
      stream.addEventListener('log', (ev) => { const l = JSON.parse((ev as MessageEvent<string>).data) as { container: string; text: string }; append(l.text.split('\n').filter(Boolean).map((x) => `${l.container} | ${x}\n`).join('')); });
      return;
    }
    const r = await api<Array<{ container: string; text: string }>>('GET', `/api/stacks/${encodeURIComponent(stack)}/logs?service=${encodeURIComponent(service.value)}&tail=200`);
    if (!r.ok) return append(r.body.message ?? 'error');
    for (const c of r.body) append(c.text.split('\n').filter(Boolean).map((x) => `${c.container} | ${x}\n`).join('') || `${c.container} | (no output yet)\n`);
  });
}
