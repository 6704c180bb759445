/**
 * Go template pipelines as Handlebars expressions over Berth's helpers. Go's functions (and sprig's, which
 * Rancher registered) map to Berth helpers with their arguments reordered where sprig's order differs
 * (`contains SUBSTR S` → `includes S SUBSTR`, `default D V` → `default V D`, `replace OLD NEW S` → `replace S OLD NEW`).
 */
import { ImportError, type Findings } from './report-types.ts';
import type { Arg, Pipe } from './gotemplate.ts';

/** What names mean where an expression sits: inside `range`/`with`, Handlebars' context is the item. */
export interface Scope {
  /** Go variable name (without `$`) → Handlebars block parameter, or the pipeline a `{{$x := …}}` declared. */
  vars: Map<string, string | Declared>;
  /** True inside range/with: `.` is the item, and root names need `@root.`. */
  nested: boolean;
  /** How many range/with blocks are open. */
  depth?: number;
  /** A declared variable's pipeline written inside a block: its `.` was the root where Go evaluated it. */
  rootDot?: boolean;
}

/**
 * `{{$x := PIPELINE}}`: Handlebars has no variables, and one that is never assigned again (`$x = …` is refused)
 * always holds its pipeline's value, so each use of `$x` is the pipeline itself, written where it is used.
 */
export interface Declared { pipe: Pipe; scope: Scope; name: string }

export interface ExprContext {
  questions: ReadonlySet<string>;
  findings: Findings;
  file: string;
}

type Param = string;

const unparen = (p: Param): string => (p.startsWith('(') && p.endsWith(')') ? p.slice(1, -1) : p);

export function literal(s: string): string {
  return JSON.stringify(s);
}

export class ExprTranslator {
  constructor(private readonly ctx: ExprContext) {}

  /** `{{…}}` printing the pipeline's value. */
  output(pipe: Pipe, scope: Scope): string {
    const p = unparen(this.pipe(pipe, scope, false));
    // A literal prints itself: Handlebars would read `{{"x"}}` as the name x.
    if (/^"(?:[^"\\]|\\.)*"$/.test(p)) return (JSON.parse(p) as string).replace(/\{\{/g, '\\{{');
    if (/^-?\d+(?:\.\d+)?$/.test(p) || p === 'true' || p === 'false') return p;
    if (p === 'null') return '';
    return `{{${p}}}`;
  }

  /** A parameter usable as `{{#if P}}` or `{{#each P}}`. */
  condition(pipe: Pipe, scope: Scope): Param {
    return this.pipe(pipe, scope, true);
  }

  pipe(pipe: Pipe, scope: Scope, truth: boolean): Param {
    let value: Param | undefined;
    for (const cmd of pipe.cmds) value = this.command(cmd, scope, truth, value, pipe.line);
    return value!;
  }

  private command(cmd: Arg[], scope: Scope, truth: boolean, piped: Param | undefined, line: number): Param {
    const [head, ...rest] = cmd;
    if (head.kind !== 'func') {
      if (rest.length > 0 || piped !== undefined) throw new ImportError(`a value is given arguments as if it were a function (Go refuses this too)`, this.ctx.file, line);
      return this.arg(head, scope, truth, line);
    }
    const args = rest.map((a) => this.arg(a, scope, false, line));
    if (piped !== undefined) args.push(piped);
    return this.call(head.name, args, truth, line);
  }

  private call(name: string, a: Param[], truth: boolean, line: number): Param {
    const need = (n: number): void => {
      if (a.length < n) throw new ImportError(`${name} needs ${n} argument${n > 1 ? 's' : ''}, got ${a.length}`, this.ctx.file, line);
    };
    const fn = (helper: string, ...args: Param[]): Param => `(${[helper, ...args].join(' ')})`;
    switch (name) {
      case 'eq':
        need(2);
        return a.length === 2 ? fn('eq', a[0], a[1]) : fn('or', ...a.slice(1).map((b) => fn('eq', a[0], b)));
      case 'ne': case 'lt': case 'gt':
        need(2);
        return fn(name, a[0], a[1]);
      case 'le': need(2); return fn('not', fn('gt', a[0], a[1]));
      case 'ge': need(2); return fn('not', fn('lt', a[0], a[1]));
      case 'not': need(1); return fn('not', a[0]);
      case 'and':
      case 'or':
        need(1);
        // In a condition Go's and/or act on truth, as Berth's do; as a value `or` gives its first non-empty argument.
        if (truth || name === 'and') return fn(name, ...a);
        return a.slice(0, -1).reduceRight((rest, x) => fn('default', x, rest), a[a.length - 1]);
      case 'printf': need(1); return fn('printf', ...a);
      case 'print': return fn('printf', literal('%v'.repeat(a.length)), ...a);
      case 'contains': need(2); return fn('includes', a[1], a[0]);
      case 'hasPrefix': need(2); return fn('hasPrefix', a[1], a[0]);
      case 'hasSuffix': need(2); return fn('hasSuffix', a[1], a[0]);
      case 'replace': need(3); return fn('replace', a[2], a[0], a[1]);
      case 'default': need(2); return fn('default', a[1], a[0]);
      case 'atoi': case 'int': need(1); return fn('toInt', a[0]);
      case 'until': need(1); return fn('until', a[0]);
      case 'upper': case 'lower': case 'trim': case 'quote': need(1); return fn(name, a[0]);
      case 'join': need(2); return fn('join', a[1], a[0]);
      case 'len': need(1); return fn('len', a[0]);
      default:
        throw new ImportError(`the template function "${name}" has no Berth equivalent`, this.ctx.file, line);
    }
  }

  private arg(a: Arg, scope: Scope, truth: boolean, line: number): Param {
    switch (a.kind) {
      case 'string': return literal(a.value);
      case 'number': return String(a.value);
      case 'bool': return String(a.value);
      case 'nil': return 'null';
      case 'pipe': return this.pipe(a.pipe, scope, truth);
      case 'func': return this.call(a.name, [], truth, line);
      case 'field':
        if (a.path.length === 0) {
          if (!scope.nested || scope.rootDot) throw new ImportError('"." (the whole context) cannot be printed or compared', this.ctx.file, line);
          return 'this';
        }
        if (scope.nested && !scope.rootDot) throw new ImportError(`.${a.path.join('.')} inside range or with names a field of the item; write $.${a.path.join('.')}`, this.ctx.file, line);
        return this.root(a.path, scope, line);
      case 'var':
        if (a.name === '') return this.root(a.path, scope, line);
        if (!scope.vars.has(a.name)) throw new ImportError(`undefined variable $${a.name}`, this.ctx.file, line);
        if (a.path.length) throw new ImportError(`fields of $${a.name} are not supported`, this.ctx.file, line);
        return this.variable(scope.vars.get(a.name)!, scope, truth, line);
    }
  }

  private variable(v: string | Declared, scope: Scope, truth: boolean, line: number): Param {
    if (typeof v === 'string') return v;
    if (v.scope.nested && (v.scope.depth ?? 0) !== (scope.depth ?? 0)) {
      throw new ImportError(`$${v.name}, declared inside range or with, is used inside another block; declare it where it is used`, this.ctx.file, line);
    }
    if (v.scope.nested) return this.pipe(v.pipe, v.scope, truth);
    return this.pipe(v.pipe, { vars: v.scope.vars, nested: scope.nested, depth: scope.depth, rootDot: scope.nested }, truth);
  }

  /** `.Values.X` and `.Stack.Name`, the names Rancher gave a template. */
  private root(path: string[], scope: Scope, line: number): Param {
    const at = scope.nested ? '@root.' : '';
    if (path[0] === 'Values' && path.length === 2) {
      if (this.ctx.questions.has(path[1])) return `${at}${path[1]}`;
      this.ctx.findings.add('approximated', 'template value', `.Values.${path[1]} is not a question of this version; it renders as empty, as in Rancher`, { line });
      return 'null';
    }
    if (path[0] === 'Stack' && path[1] === 'Name' && path.length === 2) return `${at}stack`;
    throw new ImportError(`.${path.join('.')} is not something a Rancher template could use (.Values.NAME, .Stack.Name)`, this.ctx.file, line);
  }
}
