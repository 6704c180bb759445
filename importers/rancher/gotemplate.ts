/**
 * A parser for Go's text/template as Rancher 1.x catalogs used it: text, `{{pipeline}}` actions, `if`/`else if`/
 * `else`/`end`, `range` (with `$i, $e :=`), `with`, comments and the `{{-`/`-}}` trim markers, which are applied to
 * the neighbouring text here, exactly as Go's lexer does, and `{{$x := …}}` declarations. Anything else (`define`,
 * `template`, `block`, assigning a variable again) is a GoTemplateError naming the line.
 */

export class GoTemplateError extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

export type Arg =
  | { kind: 'field'; path: string[] }            // .Values.X → ['Values', 'X']; `.` alone → []
  | { kind: 'var'; name: string; path: string[] } // $x.Field; `$` alone → name ''
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'nil' }
  | { kind: 'func'; name: string }
  | { kind: 'pipe'; pipe: Pipe };

export interface Pipe { decls: string[]; cmds: Arg[][]; line: number }

export interface Text { kind: 'text'; text: string; line: number }
export interface Action { kind: 'action'; pipe: Pipe; line: number }
export interface Branch { cond: Pipe; body: Node[] }
export interface If { kind: 'if'; branches: Branch[]; otherwise?: Node[]; line: number; endLine: number }
export interface Range { kind: 'range' | 'with'; pipe: Pipe; body: Node[]; otherwise?: Node[]; line: number; endLine: number }
export type Node = Text | Action | If | Range;

interface RawAction { body: string; line: number; trimLeft: boolean; trimRight: boolean }
type Piece = { text: string; line: number } | RawAction;

/** Splits the source into text and action bodies, applying trim markers to the text. */
function split(source: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let line = 1;
  let trimNext = false;
  while (i <= source.length) {
    const open = source.indexOf('{{', i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    const textLine = line;
    line += count(source.slice(i, open < 0 ? source.length : open));
    if (open < 0) {
      pieces.push({ text, line: textLine });
      break;
    }
    const trimLeft = /^\{\{- /.test(source.slice(open, open + 4)) || source.slice(open, open + 4) === '{{-\n';
    if (trimLeft) text = text.replace(/\s+$/, '');
    pieces.push({ text, line: textLine });
    const start = open + (trimLeft ? 3 : 2);
    const close = findClose(source, start, line);
    const trimRight = /[ \t\r\n]-$/.test(source.slice(start, close)) ;
    const body = source.slice(start, trimRight ? close - 1 : close).trim();
    pieces.push({ body, line, trimLeft, trimRight });
    line += count(source.slice(open, close + 2));
    trimNext = trimRight;
    i = close + 2;
  }
  return pieces;
}

const count = (s: string): number => (s.match(/\n/g) ?? []).length;

/** The index of the `}}` closing an action, skipping quoted strings and comments. */
function findClose(source: string, from: number, line: number): number {
  let i = from;
  while (i < source.length) {
    const c = source[i];
    if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
    } else if (c === '"' || c === '`' || c === "'") {
      i = skipQuoted(source, i, line);
    } else if (source.startsWith('}}', i)) {
      return i;
    } else i++;
  }
  throw new GoTemplateError('an action "{{" is never closed with "}}"', line);
}

function skipQuoted(s: string, i: number, line: number): number {
  const q = s[i];
  for (let k = i + 1; k < s.length; k++) {
    if (q !== '`' && s[k] === '\\') k++;
    else if (s[k] === q) return k + 1;
    else if (q !== '`' && s[k] === '\n') break;
  }
  throw new GoTemplateError(`unterminated quoted string in an action`, line);
}

const TOKEN = /\s*(?:(\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*")|(`[^`]*`)|('(?:[^'\\]|\\.)')|(-?\d+(?:\.\d+)?)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|((?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)|([A-Za-z_][A-Za-z0-9_]*)|(:=|=|\||\(|\)|,))/y;

type Tok = { t: 'str' | 'num' | 'var' | 'field' | 'ident' | 'punct'; v: string };

function tokenize(body: string, line: number): Tok[] {
  const toks: Tok[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < body.length) {
    if (/^\s*$/.test(body.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(body);
    if (!m) throw new GoTemplateError(`cannot read "${body.slice(pos, pos + 20)}" in the action {{${body}}}`, line);
    pos = TOKEN.lastIndex;
    if (m[1]) continue;
    if (m[2]) toks.push({ t: 'str', v: JSON.parse(m[2]) as string });
    else if (m[3]) toks.push({ t: 'str', v: m[3].slice(1, -1) });
    else if (m[4]) toks.push({ t: 'num', v: String((JSON.parse(`"${m[4].slice(1, -1)}"`) as string).codePointAt(0)) });
    else if (m[5]) toks.push({ t: 'num', v: m[5] });
    else if (m[6]) toks.push({ t: 'var', v: m[6] });
    else if (m[7]) toks.push({ t: 'field', v: m[7] });
    else if (m[8]) toks.push({ t: 'ident', v: m[8] });
    else toks.push({ t: 'punct', v: m[9] });
  }
  return toks;
}

/** Parses a pipeline: `[$a, $b :=] cmd | cmd …`, where a command is a list of arguments. */
class PipeParser {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly line: number, private readonly text: string) {}

  pipe(allowDecl: Declarations): Pipe {
    const decls: string[] = [];
    const assign = this.toks.findIndex((t) => t.t === 'punct' && (t.v === ':=' || t.v === '='));
    if (assign >= 0 && this.toks.slice(0, assign).every((t) => t.t === 'var' || t.v === ',')) {
      if (allowDecl === 'none') this.fail('a variable cannot be declared here');
      if (allowDecl === 'one' && (this.toks[assign].v === '=' || assign !== 1)) this.fail(this.toks[assign].v === '=' ? 'assigning to a variable again is not supported' : 'declare one variable at a time');
      for (const t of this.toks.slice(0, assign)) if (t.t === 'var') decls.push(t.v.slice(1));
      this.i = assign + 1;
    }
    const p = this.commands(decls);
    if (this.i < this.toks.length) this.fail(`unexpected "${this.toks[this.i].v}"`);
    return p;
  }

  private commands(decls: string[]): Pipe {
    const cmds: Arg[][] = [];
    for (;;) {
      const cmd: Arg[] = [];
      while (this.i < this.toks.length && !(this.toks[this.i].t === 'punct' && ['|', ')'].includes(this.toks[this.i].v))) cmd.push(this.arg());
      if (cmd.length === 0) this.fail('missing value in pipeline');
      cmds.push(cmd);
      if (this.toks[this.i]?.v === '|' && this.toks[this.i].t === 'punct') this.i++;
      else return { decls, cmds, line: this.line };
    }
  }

  private arg(): Arg {
    const t = this.toks[this.i++];
    switch (t.t) {
      case 'str': return { kind: 'string', value: t.v };
      case 'num': return { kind: 'number', value: Number(t.v) };
      case 'field': return { kind: 'field', path: t.v === '.' ? [] : t.v.slice(1).split('.') };
      case 'var': {
        const [name, ...path] = t.v.slice(1).split('.');
        return { kind: 'var', name, path };
      }
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { kind: 'bool', value: t.v === 'true' };
        if (t.v === 'nil') return { kind: 'nil' };
        return { kind: 'func', name: t.v };
      default:
        if (t.v === '(') {
          const inner = this.commands([]);
          if (this.toks[this.i]?.v !== ')') this.fail('missing ")"');
          this.i++;
          return { kind: 'pipe', pipe: inner };
        }
        return this.fail(`unexpected "${t.v}"`);
    }
  }

  private fail(why: string): never {
    throw new GoTemplateError(`${why} in the action {{${this.text}}}`, this.line);
  }
}

/** Where `$x :=` may stand: nowhere, in `range` (`$i, $e :=`), or as an action of its own (`{{$x := …}}`). */
type Declarations = 'none' | 'range' | 'one';

export function parsePipe(body: string, line: number, allowDecl: Declarations = 'none'): Pipe {
  return new PipeParser(tokenize(body, line), line, body).pipe(allowDecl);
}

const KEYWORD = /^(if|else|end|range|with|define|template|block|break|continue)\b\s*([\s\S]*)$/;

/** Parses a whole template into a tree. */
export function parseGoTemplate(source: string): Node[] {
  const pieces = split(source);
  let k = 0;
  const list = (stopAt: Set<string>): { nodes: Node[]; stop?: RawAction & { word: string; rest: string } } => {
    const nodes: Node[] = [];
    while (k < pieces.length) {
      const p = pieces[k++];
      if ('text' in p) {
        if (p.text) nodes.push({ kind: 'text', text: p.text, line: p.line });
        continue;
      }
      if (p.body.startsWith('/*')) continue;
      const kw = KEYWORD.exec(p.body);
      if (!kw) {
        nodes.push({ kind: 'action', pipe: parsePipe(p.body, p.line, 'one'), line: p.line });
        continue;
      }
      const [, word, rest] = kw;
      if (stopAt.has(word)) return { nodes, stop: { ...p, word, rest } };
      if (word === 'if') nodes.push(parseIf(p, rest));
      else if (word === 'range' || word === 'with') nodes.push(parseBlock(p, word, rest));
      else throw new GoTemplateError(`"{{${word}}}" ${['else', 'end'].includes(word) ? 'has no matching if, range or with' : 'is not supported by the importer'}`, p.line);
    }
    return { nodes };
  };
  const ends = new Set(['else', 'end']);
  const parseIf = (p: RawAction, cond: string): If => {
    const node: If = { kind: 'if', branches: [], line: p.line, endLine: p.line };
    let pipe = parsePipe(cond, p.line);
    for (;;) {
      const { nodes, stop } = list(ends);
      if (!stop) throw new GoTemplateError('"{{if}}" is never closed with {{end}}', p.line);
      node.branches.push({ cond: pipe, body: nodes });
      if (stop.word === 'end') {
        node.endLine = stop.line;
        return node;
      }
      const elseIf = /^if\b\s*([\s\S]*)$/.exec(stop.rest);
      if (elseIf) {
        pipe = parsePipe(elseIf[1], stop.line);
        continue;
      }
      const last = list(new Set(['end']));
      if (!last.stop) throw new GoTemplateError('"{{else}}" is never closed with {{end}}', stop.line);
      node.otherwise = last.nodes;
      node.endLine = last.stop.line;
      return node;
    }
  };
  const parseBlock = (p: RawAction, word: 'range' | 'with', rest: string): Range => {
    const pipe = parsePipe(rest, p.line, word === 'range' ? 'range' : 'none');
    const { nodes, stop } = list(ends);
    if (!stop) throw new GoTemplateError(`"{{${word}}}" is never closed with {{end}}`, p.line);
    const node: Range = { kind: word, pipe, body: nodes, line: p.line, endLine: stop.line };
    if (stop.word === 'else') {
      const last = list(new Set(['end']));
      if (!last.stop) throw new GoTemplateError('"{{else}}" is never closed with {{end}}', stop.line);
      node.otherwise = last.nodes;
      node.endLine = last.stop.line;
    }
    return node;
  };
  const { nodes, stop } = list(ends);
  if (stop) throw new GoTemplateError(`"{{${stop.word}}}" has no matching if, range or with`, stop.line);
  return nodes;
}
