/** Follows a commit to its outcome over server-sent events: the stack's status until it settles on that commit. */
import { el } from './dom.ts';

interface State {
  status: string;
  reason: string;
  reconciling: boolean;
  desiredCommit: string | null;
  lastError: string | null;
  lastReconcile: { changes: string[]; outcome: string } | null;
}

export function followDeploy(root: HTMLElement, stack: string, commit: string): void {
  const badge = el('span', { class: 'badge s-reconciling', 'data-testid': 'deploy-status' }, 'Waiting');
  const reason = el('p', { class: 'muted', 'data-testid': 'deploy-reason' }, 'Berth fetches the commit and deploys it…');
  const changes = el('ul', { class: 'changes' });
  const link = el('a', { href: `/stacks/${encodeURIComponent(stack)}`, class: 'button', 'data-testid': 'stack-link' }, `Open ${stack}`);
  root.replaceChildren(el('section', { class: 'panel' }, el('h2', {}, 'Deploying ', el('code', {}, stack), ' ', badge),
    el('p', {}, 'Committed ', el('code', { 'data-testid': 'commit' }, commit.slice(0, 7)), ' to the environment repository.'), reason, changes, link));
  const events = new EventSource(`/api/stacks/${encodeURIComponent(stack)}/events`);
  events.addEventListener('status', (ev) => {
    const s = JSON.parse((ev as MessageEvent<string>).data) as State | null;
    if (!s) return;
    const mine = s.desiredCommit === commit;
    if (!mine) return;
    const settled = !s.reconciling && s.status !== 'Reconciling';
    badge.textContent = settled ? s.status : 'Reconciling';
    badge.className = `badge s-${(settled ? s.status : 'Reconciling').toLowerCase()}`;
    reason.textContent = `${s.reason}${s.lastError ? ` — ${s.lastError}` : ''}`;
    changes.replaceChildren(...(s.lastReconcile?.changes ?? []).map((c) => el('li', {}, c)));
    if (settled) events.close();
  });
}
