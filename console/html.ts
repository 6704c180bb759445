/**
 * Server-rendered pages. Every interpolation goes through `html`, which escapes whatever is not already a
 * SafeHtml, so catalog text, answers, names and log lines can never become markup.
 */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

type Part = SafeHtml | string | number | boolean | null | undefined | Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (Array.isArray(part)) return part.map(render).join('');
  if (part instanceof SafeHtml) return part.text;
  return escapeHtml(String(part));
}

/** A tagged template: `html\`<p>${untrusted}</p>\`` escapes, nested `html` results and arrays pass through. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < parts.length; i++) out += render(parts[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** JSON for a `<script type="application/json">` block: `<` escaped so no text can close the element. */
export function jsonScript(id: string, data: unknown): SafeHtml {
  const text = JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return new SafeHtml(`<script type="application/json" id="${escapeHtml(id)}">${text}</script>`);
}

export interface PageUser {
  name: string;
  role: string;
}

export interface PageOptions {
  title: string;
  user?: PageUser;
  /** The nav entry to highlight. */
  section?: 'catalog' | 'stacks';
  csrf?: string;
  body: SafeHtml;
  /** Client bundles under /console/assets/ to load (e.g. 'form.js'). */
  scripts?: string[];
}

export function page(o: PageOptions): string {
  const nav = o.user ? html`
    <nav class="top">
      <a class="brand" href="/stacks"><span class="logo" aria-hidden="true"></span>Berth</a>
      <a href="/stacks" class="${o.section === 'stacks' ? 'on' : ''}">Stacks</a>
      <a href="/catalog" class="${o.section === 'catalog' ? 'on' : ''}">Catalog</a>
      <span class="grow"></span>
      <span class="who" data-testid="who">${o.user.name} <span class="role">${o.user.role}</span></span>
      <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${o.csrf ?? ''}"><button class="link">Sign out</button></form>
    </nav>` : html``;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${o.csrf ?? ''}">
<title>${o.title} · Berth</title>
<link rel="stylesheet" href="/console/assets/app.css">
<link rel="icon" href="/console/assets/favicon.svg">
</head><body>${nav}<main>${o.body}</main>
${(o.scripts ?? []).map((s) => html`<script type="module" src="/console/assets/${s}"></script>`)}
</body></html>`}`;
}

export function statusBadge(status: string, reconciling = false): SafeHtml {
  return html`<span class="badge s-${status.toLowerCase()}" data-testid="status">${status}${reconciling && status !== 'Reconciling' ? html` <span class="spin" title="reconciling"></span>` : ''}</span>`;
}

export function when(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`<span class="muted">never</span>`;
  return html`<time datetime="${iso}" title="${iso}">${iso.replace('T', ' ').slice(0, 16)} UTC</time>`;
}
