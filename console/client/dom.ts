/** Small DOM helpers: every text goes in through textContent, never as markup. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Array<Node | string | null | undefined>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

export function csrf(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
}

export interface ApiAnswer<T> {
  ok: boolean;
  status: number;
  body: T & { code?: string; message?: string; hint?: string; problems?: Array<{ field?: string; message: string }> };
}

export async function api<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<ApiAnswer<T>> {
  const res = await fetch(url, {
    method, credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json', 'x-csrf-token': csrf() }), ...(method !== 'GET' && body === undefined ? { 'x-csrf-token': csrf() } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: ApiAnswer<T>['body'];
  try {
    parsed = JSON.parse(text) as ApiAnswer<T>['body'];
  } catch {
    parsed = { message: text.slice(0, 200) } as ApiAnswer<T>['body'];
  }
  return { ok: res.ok, status: res.status, body: parsed };
}
