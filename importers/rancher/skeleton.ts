/**
 * A Go template as a YAML "skeleton" the importer can read and edit like a compose file. Control actions that
 * stand on their own lines (`{{- if …}}`, `{{- end}}`) become comment markers, so every branch's keys are visible;
 * everything that prints (`{{.Values.X}}`, `${X}`, an `if` inside one line) becomes a token, a plain word YAML
 * keeps intact. `restore` turns the edited document back into a Handlebars template.
 */
import { randomBytes } from 'node:crypto';
import { dollarsToHbs, segmentsToHbs, type DollarContext } from './dollars.ts';
import { ExprTranslator, type ExprContext, type Scope } from './gotemplate-hbs.ts';
import type { If, Node, Pipe, Range } from './gotemplate.ts';

export type MarkerKind = 'open' | 'else' | 'close';
export interface Marker { hbs: string; kind: MarkerKind; line: number }

export interface Skeleton {
  text: string;
  /** Token → the Handlebars text it stands for. */
  tokens: Map<string, string>;
  markers: Marker[];
  nonce: string;
}

const HOLE = '\u0001';

export function newNonce(source: string): string {
  for (;;) {
    const n = `rk${randomBytes(3).toString('hex')}`;
    if (!source.includes(n)) return n;
  }
}

export class SkeletonBuilder {
  private out = '';
  private stripNewline = false;
  private keepIndent = '';
  readonly tokens = new Map<string, string>();
  readonly markers: Marker[] = [];
  private readonly expr: ExprTranslator;

  constructor(private readonly ctx: ExprContext, readonly nonce: string) {
    this.expr = new ExprTranslator(ctx);
  }

  build(nodes: Node[]): Skeleton {
    this.nodes(nodes, { vars: new Map(), nested: false });
    const text = indentMarkers(this.out, this.nonce);
    return { text, tokens: this.tokens, markers: this.markers, nonce: this.nonce };
  }

  /** A token standing for Handlebars text; also used by the compose edits for values they write. */
  token(hbs: string): string {
    const t = `${this.nonce}t${this.tokens.size}x`;
    this.tokens.set(t, hbs);
    return t;
  }

  private nodes(nodes: Node[], outer: Scope): void {
    // A variable declared in a list lives until the end of the block that holds it, as in Go.
    const scope: Scope = { ...outer, vars: new Map(outer.vars) };
    nodes.forEach((n, i) => {
      if (n.kind === 'text') this.text(n.text, scope);
      else if (n.kind === 'action' && declare(n.pipe, scope)) return;
      else if (n.kind === 'action') this.write(this.token(this.expr.output(n.pipe, scope)));
      else if (lineLevel(n, nodes[i - 1], nodes[i + 1])) this.block(n, scope);
      else {
        // `key:{{if …}} value{{end}}`: the value's space is inside the block; YAML needs one before the token.
        if (/\S:$/.test(this.out) && !this.stripNewline) this.out += ' ';
        this.write(this.token(this.inline([n], scope)));
      }
    });
  }

  private text(text: string, scope: Scope): void {
    const dctx: DollarContext = { questions: this.ctx.questions, findings: this.ctx.findings, root: scope.nested ? '@root.' : '' };
    for (const s of dollarsToHbs(text, dctx)) this.write('text' in s ? s.text : this.token(s.hbs));
  }

  private write(s: string): void {
    if (this.stripNewline) {
      this.stripNewline = false;
      const m = /^[ \t]*\n/.exec(s);
      if (m) s = s.slice(m[0].length);
      else s = this.keepIndent + s;
    }
    this.keepIndent = '';
    this.out += s;
  }

  private marker(hbs: string, kind: MarkerKind, line: number): void {
    if (this.stripNewline) this.write('');
    const lineStart = this.out.lastIndexOf('\n') + 1;
    const before = this.out.slice(lineStart);
    if (/^[ \t]*$/.test(before)) this.out = this.out.slice(0, lineStart);
    else this.out += '\n';
    this.out += `${HOLE}${this.markers.length}${HOLE}\n`;
    this.markers.push({ hbs, kind, line });
    this.stripNewline = true;
    this.keepIndent = /^[ \t]*$/.test(before) ? before : '';
  }

  private block(n: If | Range, scope: Scope): void {
    if (n.kind === 'if') {
      // `else if` is written as a nested if: Handlebars mishandles the indentation of standalone `{{else if}}` chains.
      n.branches.forEach((b, i) => {
        if (i > 0) this.marker('{{else}}', 'else', b.cond.line);
        this.marker(`{{#if ${this.expr.condition(b.cond, scope)}}}`, 'open', b.cond.line);
        this.nodes(b.body, scope);
      });
      if (n.otherwise) {
        this.marker('{{else}}', 'else', n.line);
        this.nodes(n.otherwise, scope);
      }
      for (let i = 0; i < n.branches.length; i++) this.marker('{{/if}}', 'close', n.endLine);
      return;
    }
    const { open, inner } = this.opener(n, scope);
    this.marker(open, 'open', n.line);
    this.nodes(n.body, inner);
    if (n.otherwise) {
      this.marker('{{else}}', 'else', n.line);
      this.nodes(n.otherwise, scope);
    }
    this.marker(`{{/${n.kind === 'range' ? 'each' : 'with'}}}`, 'close', n.endLine);
  }

  private opener(n: Range, scope: Scope): { open: string; inner: Scope } {
    const value = this.expr.condition(n.pipe, scope);
    const vars = new Map(scope.vars);
    const params = [...n.pipe.decls].reverse();
    for (const d of n.pipe.decls) vars.set(d, d);
    const as = params.length ? ` as |${params.join(' ')}|` : '';
    const helper = n.kind === 'range' ? 'each' : 'with';
    return { open: `{{#${helper} ${value}${as}}}`, inner: { vars, nested: true, depth: (scope.depth ?? 0) + 1 } };
  }

  /** Handlebars text for nodes that sit inside one line. */
  private inline(nodes: Node[], outer: Scope): string {
    let s = '';
    const scope: Scope = { ...outer, vars: new Map(outer.vars) };
    for (const n of nodes) {
      if (n.kind === 'action' && declare(n.pipe, scope)) continue;
      if (n.kind === 'text') s += segmentsToHbs(dollarsToHbs(n.text, { questions: this.ctx.questions, findings: this.ctx.findings, root: scope.nested ? '@root.' : '' }));
      else if (n.kind === 'action') s += this.expr.output(n.pipe, scope);
      else if (n.kind === 'if') {
        n.branches.forEach((b, i) => {
          s += `{{${i === 0 ? '#if' : 'else if'} ${this.expr.condition(b.cond, scope)}}}${this.inline(b.body, scope)}`;
        });
        if (n.otherwise) s += `{{else}}${this.inline(n.otherwise, scope)}`;
        s += '{{/if}}';
      } else {
        const { open, inner } = this.opener(n, scope);
        s += `${open}${this.inline(n.body, inner)}${n.otherwise ? `{{else}}${this.inline(n.otherwise, scope)}` : ''}{{/${n.kind === 'range' ? 'each' : 'with'}}}`;
      }
    }
    return s;
  }
}

/** `{{$x := …}}` prints nothing and binds $x for the rest of the list; true when the action was one. */
function declare(pipe: Pipe, scope: Scope): boolean {
  if (pipe.decls.length === 0) return false;
  scope.vars.set(pipe.decls[0], { pipe: { ...pipe, decls: [] }, scope: { ...scope, vars: new Map(scope.vars) }, name: pipe.decls[0] });
  return true;
}

const isBlock = (n: Node | undefined): n is If | Range => n !== undefined && n.kind !== 'text' && n.kind !== 'action';

function bodiesOf(n: If | Range): Node[][] {
  const bodies = n.kind === 'if' ? n.branches.map((b) => b.body) : [n.body];
  if (n.otherwise) bodies.push(n.otherwise);
  return bodies;
}

/** Whether any text inside the block holds a line break: if not, the whole block prints inside one line. */
function spansLines(n: If | Range): boolean {
  return bodiesOf(n).some((body) => body.some((c) => (c.kind === 'text' ? c.text.includes('\n') : isBlock(c) && spansLines(c))));
}

/** Whether a control action between `before` and `after` can stand on its own line without changing the output. */
function separable(before: Node | undefined, after: Node | undefined): boolean {
  const endsLine = (n: Node | undefined): boolean => n === undefined || (isBlock(n) && spansLines(n)) || (n.kind === 'text' && /\n[ \t]*$/.test(n.text));
  const startsLine = (n: Node | undefined): boolean => n === undefined || (isBlock(n) && spansLines(n)) || (n.kind === 'text' && /^[ \t]*\n/.test(n.text));
  return endsLine(before) || startsLine(after);
}

function lineLevel(n: If | Range, prev: Node | undefined, next: Node | undefined): boolean {
  if (!spansLines(n)) return false;
  const bodies = bodiesOf(n);
  if (!separable(prev, bodies[0][0])) return false;
  for (let i = 1; i < bodies.length; i++) if (!separable(bodies[i - 1].at(-1), bodies[i][0])) return false;
  return separable(bodies.at(-1)!.at(-1), next);
}

/** Markers take the indentation of the next content line: inside a block scalar they stay text, elsewhere comments. */
function indentMarkers(text: string, nonce: string): string {
  const lines = text.split('\n');
  let indent = '';
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\u0001(\d+)\u0001$/.exec(lines[i]);
    if (m) lines[i] = `${indent}#${nonce}m${m[1]}`;
    else if (lines[i].trim() !== '') indent = /^[ \t]*/.exec(lines[i])![0];
  }
  return lines.join('\n');
}

/** The Handlebars template: markers back to block tags, tokens back to expressions. */
export function restore(text: string, sk: Pick<Skeleton, 'tokens' | 'markers' | 'nonce'>): string {
  const marker = markerLine(sk.nonce);
  // The YAML writer puts a marker that follows an empty value on the key's line (`key: #…m3`): it goes back below.
  const trailing = new RegExp(`^([ \\t]*)(\\S.*?)[ \\t]+#${sk.nonce}m(\\d+)[ \\t]*$`);
  const lines = text.split('\n').map((l) => {
    const m = marker.exec(l);
    if (m) return `${m[1]}${sk.markers[Number(m[2])].hbs}`;
    const t = trailing.exec(l);
    return t ? `${t[1]}${t[2]}\n${t[1]}${sk.markers[Number(t[3])].hbs}` : l;
  });
  const tokenRe = new RegExp(`${sk.nonce}t(\\d+)x`, 'g');
  return lines.join('\n').replace(tokenRe, (t) => sk.tokens.get(t) ?? t);
}

export const markerLine = (nonce: string): RegExp => new RegExp(`^([ \\t]*)#${nonce}m(\\d+)[ \\t]*$`);
