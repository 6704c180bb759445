/**
 * A unified diff of two small texts (rendered compose files: tens to hundreds of lines), by longest common
 * subsequence. Quadratic, which is nothing at that size and keeps a dependency out; inputs past `maxLines`
 * are summarised instead of diffed so a huge template cannot stall the controller.
 */

type Op = { kind: ' ' | '-' | '+'; text: string; a: number; b: number };

export interface DiffOptions {
  context?: number;
  maxLines?: number;
  fromLabel?: string;
  toLabel?: string;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Edit script from the LCS table, deletions before insertions within a change (as diff(1) prints them). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Op[] = [];
  let [i, j] = [0, 0];
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ kind: ' ', text: a[i], a: i++, b: j++ });
    else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: '-', text: a[i], a: i++, b: j });
    else ops.push({ kind: '+', text: b[j], a: i, b: j++ });
  }
  return ops;
}

/** Groups of ops around changes, each with up to `context` unchanged lines either side. */
function hunks(ops: Op[], context: number): Op[][] {
  const out: Op[][] = [];
  let current: Op[] | undefined;
  let lastChange = -Infinity;
  for (let k = 0; k < ops.length; k++) {
    if (ops[k].kind === ' ') continue;
    const start = Math.max(0, k - context);
    if (current && start <= lastChange + context + 1) {
      current.push(...ops.slice(lastChange + 1, k + 1));
    } else {
      if (current) current.push(...ops.slice(lastChange + 1, Math.min(ops.length, lastChange + 1 + context)));
      current = ops.slice(start, k + 1);
      out.push(current);
    }
    lastChange = k;
  }
  if (current) current.push(...ops.slice(lastChange + 1, Math.min(ops.length, lastChange + 1 + context)));
  return out;
}

function header(hunk: Op[]): string {
  const olds = hunk.filter((o) => o.kind !== '+');
  const news = hunk.filter((o) => o.kind !== '-');
  const range = (start: number, count: number) => (count === 1 ? `${start}` : `${start},${count}`);
  const aStart = olds.length ? olds[0].a + 1 : hunk[0].a;
  const bStart = news.length ? news[0].b + 1 : hunk[0].b;
  return `@@ -${range(aStart, olds.length)} +${range(bStart, news.length)} @@`;
}

/** The unified diff of `before` → `after`, or '' when they are equal. */
export function unifiedDiff(before: string, after: string, opts: DiffOptions = {}): string {
  if (before === after) return '';
  const [a, b] = [splitLines(before), splitLines(after)];
  const max = opts.maxLines ?? 2000;
  const lines = [`--- ${opts.fromLabel ?? 'before'}`, `+++ ${opts.toLabel ?? 'after'}`];
  if (a.length > max || b.length > max) return [...lines, `(${a.length} lines → ${b.length} lines: too long to diff here)`].join('\n') + '\n';
  for (const hunk of hunks(editScript(a, b), opts.context ?? 3)) {
    lines.push(header(hunk), ...hunk.map((o) => `${o.kind}${o.text}`));
  }
  return lines.join('\n') + '\n';
}
