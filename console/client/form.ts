/**
 * The deploy and edit form, generated from a version's questions: each type its control, groups as sections,
 * show_if applied as the person types, and the server's own answer checks (catalog/answers.ts, bundled) run
 * before anything is sent — every problem on its field at once. The server checks again.
 */
import { checkAnswers } from '../../catalog/answers.ts';
import { isShown } from '../../catalog/show-if.ts';
import type { Answers, Question } from '../../catalog/types.ts';
import { api, el } from './dom.ts';
import { followDeploy } from './follow.ts';

interface FormData {
  mode: 'create' | 'edit';
  stack: string;
  hosts: Record<string, string>;
  answers: Record<string, unknown>;
  canCommit: boolean;
  form: { catalog: string; template: string; version: string; versions: string[]; questions: Question[] };
}

const STACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const SECRET = new Set(['password', 'secret']);

interface Field {
  q: Question;
  wrap: HTMLElement;
  input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  error: HTMLElement;
  /** Edit mode: a secret that is set and stays unless retyped. */
  kept: boolean;
}

function control(q: Question, value: unknown, kept: boolean): Field['input'] {
  const id = `q-${q.variable}`;
  const base = { id, name: q.variable, 'data-testid': `field-${q.variable}` };
  const text = value === undefined || value === null || typeof value === 'object' ? '' : String(value);
  switch (q.type) {
    case 'enum': {
      const s = el('select', base, ...(q.required ? [] : [el('option', { value: '' }, '—')]), ...(q.options ?? []).map((o) => el('option', { value: o, selected: o === text }, o)));
      return s;
    }
    case 'boolean':
      return el('input', { ...base, type: 'checkbox', role: 'switch', class: 'toggle', checked: value === true || text === 'true' });
    case 'int':
    case 'float':
      return el('input', { ...base, type: 'number', step: q.type === 'int' ? '1' : 'any', min: q.min?.toString(), max: q.max?.toString(), value: text });
    case 'date':
      return el('input', { ...base, type: 'date', value: text });
    case 'multiline':
    case 'certificate':
    case 'secret': {
      const t = el('textarea', { ...base, rows: q.type === 'multiline' ? '4' : '6', spellcheck: 'false', class: q.type === 'secret' ? 'masked' : undefined,
        placeholder: kept ? 'set — leave empty to keep it' : q.type === 'certificate' ? '-----BEGIN CERTIFICATE-----' : undefined });
      t.value = SECRET.has(q.type) ? '' : text;
      return t;
    }
    case 'password':
      return el('input', { ...base, type: 'password', autocomplete: 'new-password', placeholder: kept ? 'set — leave empty to keep it' : undefined });
    default:
      return el('input', { ...base, type: 'text', value: text, spellcheck: 'false', maxlength: q.max_length?.toString() });
  }
}

function reveal(input: Field['input']): HTMLElement {
  const b = el('button', { type: 'button', class: 'link reveal', 'aria-pressed': 'false' }, 'Show');
  b.addEventListener('click', () => {
    const shown = b.getAttribute('aria-pressed') !== 'true';
    if (input instanceof HTMLInputElement) input.type = shown ? 'text' : 'password';
    else input.classList.toggle('masked', !shown);
    b.setAttribute('aria-pressed', String(shown));
    b.textContent = shown ? 'Hide' : 'Show';
  });
  return b;
}

function fieldFor(q: Question, value: unknown): Field {
  const kept = SECRET.has(q.type) && typeof value === 'object' && value !== null;
  const input = control(q, value ?? (SECRET.has(q.type) ? undefined : q.default), kept);
  const error = el('p', { class: 'field-error', role: 'alert', 'data-testid': `error-${q.variable}` });
  const label = el('label', { for: input.id }, q.label, q.required && !kept ? el('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  const hint = [q.description, q.min !== undefined || q.max !== undefined ? `${q.min ?? '…'} – ${q.max ?? '…'}` : ''].filter(Boolean).join(' · ');
  const wrap = el('div', { class: `field t-${q.type}`, 'data-field': q.variable },
    label, el('div', { class: 'control' }, input, SECRET.has(q.type) ? reveal(input) : null), hint ? el('p', { class: 'hint' }, hint) : null, error);
  return { q, wrap, input, error, kept };
}

function valueOf(f: Field): unknown {
  const i = f.input;
  if (i instanceof HTMLInputElement && i.type === 'checkbox') return i.checked;
  return i.value;
}

export function mountForm(root: HTMLElement, data: FormData): void {
  const { form } = data;
  const fields = form.questions.map((q) => fieldFor(q, data.answers[q.variable]));
  const byVar = new Map(fields.map((f) => [f.q.variable, f]));
  const name = el('input', { id: 'stack-name', name: 'stack', value: data.stack || form.template, 'data-testid': 'stack-name', readonly: data.mode === 'edit', spellcheck: 'false' });
  const nameError = el('p', { class: 'field-error', role: 'alert', 'data-testid': 'error-stack' });
  const hostsInput = el('input', { id: 'stack-hosts', value: Object.entries(data.hosts).map(([k, v]) => `${k}=${v}`).join(', '), placeholder: 'every host — or e.g. role=web', 'data-testid': 'stack-hosts' });
  const hostsError = el('p', { class: 'field-error', role: 'alert' });
  const version = el('select', { id: 'stack-version', 'data-testid': 'stack-version' }, ...form.versions.map((v) => el('option', { value: v, selected: v === form.version }, v)));
  version.addEventListener('change', () => {
    const u = new URL(location.href);
    u.searchParams.set('version', version.value);
    location.assign(u.toString());
  });
  const groups = new Map<string, Field[]>();
  for (const f of fields) groups.set(f.q.group ?? 'Settings', [...(groups.get(f.q.group ?? 'Settings') ?? []), f]);
  const summary = el('div', { class: 'form-summary', role: 'status', 'data-testid': 'form-summary' });
  const preview = el('div', { class: 'preview', 'data-testid': 'preview' });
  const outcome = el('div', { class: 'outcome', 'data-testid': 'outcome' });
  const verb = data.canCommit ? (data.mode === 'create' ? 'Deploy' : 'Save and redeploy') : 'Propose (merge request)';
  const previewBtn = el('button', { type: 'button', class: 'button', 'data-testid': 'preview-button' }, 'Preview');
  const submitBtn = el('button', { type: 'submit', class: 'button primary', 'data-testid': 'submit-button' }, verb);
  const formEl = el('form', { class: 'deploy-form', novalidate: true },
    el('fieldset', {}, el('legend', {}, 'Stack'),
      el('div', { class: 'field' }, el('label', { for: 'stack-name' }, 'Name', el('span', { class: 'req' }, ' *')), el('div', { class: 'control' }, name), el('p', { class: 'hint' }, 'Lowercase letters, digits, - and _. It names stacks/<name>.yml.'), nameError),
      el('div', { class: 'field' }, el('label', { for: 'stack-version' }, 'Version'), el('div', { class: 'control' }, version)),
      el('div', { class: 'field' }, el('label', { for: 'stack-hosts' }, 'Target hosts'), el('div', { class: 'control' }, hostsInput), el('p', { class: 'hint' }, 'A host-label selector: the stack runs on the hosts whose labels match all of these.'), hostsError)),
    ...[...groups].map(([g, fs]) => el('fieldset', {}, el('legend', {}, g), ...fs.map((f) => f.wrap))),
    summary, el('div', { class: 'row actions' }, previewBtn, submitBtn));
  root.replaceChildren(formEl, preview, outcome);

  const answers = (): Record<string, unknown> => {
    const raw: Record<string, unknown> = {};
    for (const f of fields) raw[f.q.variable] = valueOf(f);
    const { values } = checkAnswers(form.questions, raw);
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (!isShown(f.q, values as Answers)) continue;
      const v = valueOf(f);
      if (f.kept && v === '') continue;
      out[f.q.variable] = v;
    }
    return out;
  };
  const showIf = () => {
    const raw: Record<string, unknown> = {};
    for (const f of fields) raw[f.q.variable] = valueOf(f);
    const { values } = checkAnswers(form.questions, raw);
    for (const f of fields) f.wrap.hidden = !isShown(f.q, values as Answers);
  };
  const hosts = (): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    for (const part of hostsInput.value.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9_.-]+)\s*=\s*(.+)$/.exec(part);
      if (!m) return undefined;
      out[m[1]] = m[2];
    }
    return out;
  };
  const show = (problems: Array<{ field?: string; message: string }>) => {
    for (const f of fields) { f.error.textContent = ''; f.wrap.classList.remove('invalid'); }
    nameError.textContent = '';
    hostsError.textContent = '';
    const general: string[] = [];
    for (const p of problems) {
      const f = p.field ? byVar.get(p.field) : undefined;
      if (p.field === 'stack') nameError.textContent = p.message;
      else if (p.field === 'hosts') hostsError.textContent = p.message;
      else if (f) { f.error.textContent = [f.error.textContent, p.message].filter(Boolean).join('; '); f.wrap.classList.add('invalid'); }
      else general.push(p.field ? `${p.field} ${p.message}` : p.message);
    }
    summary.textContent = problems.length ? `${problems.length} ${problems.length === 1 ? 'problem' : 'problems'} to fix${general.length ? `: ${general.join('; ')}` : ''}.` : '';
    summary.classList.toggle('bad', problems.length > 0);
  };
  /** The server's checks, here: the same function over the same questions. */
  const validate = (): boolean => {
    const given = answers();
    const raw: Record<string, unknown> = { ...given };
    const { problems } = checkAnswers(form.questions, raw);
    const real = problems.filter((p) => !(p.field && byVar.get(p.field)?.kept && given[p.field] === undefined));
    if (!STACK_NAME.test(name.value)) real.unshift({ field: 'stack', message: 'must be lowercase letters, digits, - and _, starting with a letter or digit' });
    if (!hosts()) real.unshift({ field: 'hosts', message: 'write label=value pairs separated by commas' });
    show(real);
    return real.length === 0;
  };
  const body = () => ({ template: form.template, version: version.value, catalog: form.catalog, answers: answers(), hosts: hosts() ?? {}, mode: data.mode });
  const url = () => `/api/stacks/${encodeURIComponent(name.value)}`;

  formEl.addEventListener('input', () => { showIf(); if (formEl.classList.contains('tried')) validate(); });
  formEl.addEventListener('change', showIf);
  showIf();

  previewBtn.addEventListener('click', async () => {
    formEl.classList.add('tried');
    if (!validate()) return;
    previewBtn.disabled = true;
    preview.replaceChildren(el('p', { class: 'muted' }, 'Rendering and planning…'));
    const r = await api<{ compose: string; plan: string; error?: string }>('POST', `${url()}/preview`, body());
    previewBtn.disabled = false;
    if (!r.ok) { preview.replaceChildren(); show(r.body.problems ?? [{ message: r.body.message ?? `error ${r.status}` }]); return; }
    preview.replaceChildren(
      el('section', { class: 'panel' }, el('h2', {}, 'Plan'), r.body.error ? el('p', { class: 'alert' }, r.body.error) : null, el('pre', { class: 'plan', 'data-testid': 'preview-plan' }, r.body.plan || '(nothing to do)')),
      el('section', { class: 'panel' }, el('h2', {}, 'Rendered compose (secrets masked)'), el('pre', { class: 'code', 'data-testid': 'preview-compose' }, r.body.compose)));
  });

  formEl.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    formEl.classList.add('tried');
    if (!validate()) return;
    submitBtn.disabled = true;
    const r = await api<{ commit: string | null; mergeRequest?: { url: string; id: number } }>(data.mode === 'create' ? 'POST' : 'PUT', url(), body());
    if (!r.ok) { submitBtn.disabled = false; show(r.body.problems ?? [{ message: `${r.body.message ?? `error ${r.status}`}${r.body.hint ? ` — ${r.body.hint}` : ''}` }]); return; }
    formEl.hidden = true;
    preview.replaceChildren();
    if (r.body.mergeRequest) {
      outcome.replaceChildren(el('section', { class: 'panel ok' }, el('h2', {}, 'Merge request opened'),
        el('p', {}, 'Your change waits for review: merging it deploys it. '), el('a', { href: r.body.mergeRequest.url, 'data-testid': 'mr-link', target: '_blank', rel: 'noopener' }, r.body.mergeRequest.url)));
      return;
    }
    if (!r.body.commit) { outcome.replaceChildren(el('section', { class: 'panel' }, el('p', {}, 'Nothing changed: the stack file already says this.'), el('a', { href: `/stacks/${encodeURIComponent(name.value)}` }, 'Open the stack'))); return; }
    followDeploy(outcome, name.value, r.body.commit);
  });
}
