/** The catalog's cards and a template's page: README, versions with release notes, questions. */
import type { CatalogEntry, TemplateSummary } from '../catalogs.ts';
import { html, type SafeHtml } from '../html.ts';
import { renderMarkdown } from '../markdown.ts';

function icon(t: { catalog: string; name: string; icon: boolean }): SafeHtml {
  return t.icon
    ? html`<img class="icon" alt="" src="/console/icon/${encodeURIComponent(t.catalog)}/${encodeURIComponent(t.name)}">`
    : html`<span class="icon letter" aria-hidden="true">${t.name.slice(0, 1).toUpperCase()}</span>`;
}

export function catalogBody(templates: TemplateSummary[], canDeploy: boolean): SafeHtml {
  const categories = [...new Set(templates.map((t) => t.category))].sort();
  return html`
  <section class="head"><h1>Catalog</h1><p class="muted">${templates.length} templates. Pick one to read about it and deploy it.</p></section>
  <div class="toolbar">
    <input type="search" id="catalog-search" placeholder="Search templates" aria-label="Search templates" data-testid="catalog-search">
    <select id="catalog-category" aria-label="Category" data-testid="catalog-category"><option value="">All categories</option>${categories.map((c) => html`<option>${c}</option>`)}</select>
  </div>
  <div class="cards" id="catalog-cards">
  ${templates.map((t) => html`
    <a class="card" href="/catalog/${encodeURIComponent(t.name)}?catalog=${encodeURIComponent(t.catalog)}" data-testid="template-card"
       data-name="${t.name.toLowerCase()}" data-text="${`${t.name} ${t.description} ${t.category}`.toLowerCase()}" data-category="${t.category}">
      <div class="card-top">${icon(t)}<div><h3>${t.name}</h3><span class="chip">${t.category}</span></div></div>
      <p>${t.description}</p>
      <div class="card-foot"><span class="muted">v${t.latest}</span>${canDeploy ? html`<span class="go">Deploy →</span>` : ''}</div>
    </a>`)}
  </div>
  <p class="empty" id="catalog-empty" hidden>No template matches.</p>`;
}

export async function templateBody(entry: CatalogEntry, canDeploy: boolean): Promise<SafeHtml> {
  const t = entry.template;
  const versions = [...t.versions].reverse();
  const latest = versions[0];
  const notes = await Promise.all(versions.map(async (v) => ({ v, notes: v.releaseNotes ? await renderMarkdown(v.releaseNotes) : undefined })));
  const deployHref = (v: string) => `/catalog/${encodeURIComponent(t.name)}/deploy?catalog=${encodeURIComponent(entry.catalog)}&version=${encodeURIComponent(v)}`;
  return html`
  <section class="head template-head">
    <p class="crumbs"><a href="/catalog">Catalog</a> › ${t.name}</p>
    <div class="title-row">${icon({ catalog: entry.catalog, name: t.name, icon: Boolean(t.icon) })}
      <div class="grow"><h1>${t.name}</h1><p class="muted">${t.config.description}</p></div>
      ${canDeploy && latest ? html`<a class="button primary" href="${deployHref(latest.version)}" data-testid="deploy-button">Deploy v${latest.version}</a>` : ''}
    </div>
    <dl class="facts">
      <div><dt>Category</dt><dd>${t.config.category ?? 'Other'}</dd></div>
      ${t.config.maintainer ? html`<div><dt>Maintainer</dt><dd>${t.config.maintainer}</dd></div>` : ''}
      ${t.config.license ? html`<div><dt>License</dt><dd>${t.config.license}</dd></div>` : ''}
      ${t.config.projectURL && /^https?:\/\//.test(t.config.projectURL) ? html`<div><dt>Project</dt><dd><a href="${t.config.projectURL}" rel="noopener noreferrer nofollow" target="_blank">${t.config.projectURL}</a></dd></div>` : ''}
      <div><dt>Catalog</dt><dd>${entry.catalog}</dd></div>
    </dl>
  </section>
  <div class="columns">
    <article class="panel readme markdown" data-testid="readme">${t.readme ? await renderMarkdown(t.readme) : html`<p class="muted">This template has no README.</p>`}</article>
    <aside>
      <section class="panel"><h2>Versions</h2>
        ${notes.map(({ v, notes: n }) => html`<details class="version" ${v === latest ? 'open' : ''}>
          <summary><strong>v${v.version}</strong>${v === latest ? html` <span class="chip">latest</span>` : ''}
          ${canDeploy ? html`<a class="small" href="${deployHref(v.version)}">deploy</a>` : ''}</summary>
          ${v.description ? html`<p>${v.description}</p>` : ''}
          ${n ? html`<div class="markdown">${n}</div>` : html`<p class="muted">No release notes.</p>`}
        </details>`)}
      </section>
      ${latest ? html`<section class="panel"><h2>Questions (v${latest.version})</h2>
        <table class="grid"><thead><tr><th>Question</th><th>Type</th><th>Default</th></tr></thead><tbody>
        ${latest.questions.map((q) => html`<tr><td><strong>${q.label}</strong>${q.required ? html` <span class="req">required</span>` : ''}<br><code>${q.variable}</code>${q.description ? html`<br><span class="muted">${q.description}</span>` : ''}</td>
          <td>${q.type}</td><td>${q.type === 'password' || q.type === 'secret' ? '' : q.default === undefined || q.default === null ? '' : String(q.default)}</td></tr>`)}
        </tbody></table></section>` : ''}
    </aside>
  </div>`;
}
