/**
 * Jinja2's parser (`jinja2/parser.py`) ported over the tokens of `lexer.ts`: the same
 * precedence (`or` < `and` < `not` < comparisons/`in` < `+ -` < `~` < `* / // %` < `**` <
 * unary < postfix/filters/tests), tuples without parentheses, `a if c else b` without `else`,
 * test arguments without parentheses (`x is divisibleby 3`), and the same syntax errors.
 */
import type { CallArgs, Expr, Stmt } from './ast.js';
import { PyTuple, type Val } from './py-objects.js';
import { mkFloat } from './py-number.js';
import { Positions, TemplateSyntaxError, type Token } from './lexer.js';

const COMPARE_OPS = new Set(['eq', 'ne', 'lt', 'lteq', 'gt', 'gteq']);
const MATH1: Record<string, '+' | '-'> = { add: '+', sub: '-' };
const MATH2: Record<string, '*' | '/' | '//' | '%'> = { mul: '*', div: '/', floordiv: '//', mod: '%' };
const STATEMENT_KEYWORDS = new Set([
  'for', 'if', 'block', 'extends', 'print', 'macro', 'include', 'from', 'import', 'set', 'with', 'autoescape',
]);
/** Statements Jinja2 knows that this port does not run (no loader, no macros, no escaping). */
const UNSUPPORTED_STATEMENTS = new Set(['block', 'extends', 'macro', 'include', 'from', 'import', 'autoescape', 'call']);

const TOKEN_DESCRIPTIONS: Record<string, string> = {
  add: '+', sub: '-', div: '/', floordiv: '//', mul: '*', mod: '%', pow: '**', tilde: '~',
  lbracket: '[', rbracket: ']', lparen: '(', rparen: ')', lbrace: '{', rbrace: '}', eq: '==',
  ne: '!=', gt: '>', gteq: '>=', lt: '<', lteq: '<=', assign: '=', dot: '.', colon: ':',
  pipe: '|', comma: ',', semicolon: ';',
  comment_begin: 'begin of comment', comment_end: 'end of comment', comment: 'comment',
  block_begin: 'begin of statement block', block_end: 'end of statement block',
  variable_begin: 'begin of print statement', variable_end: 'end of print statement',
  data: 'template data / text', eof: 'end of template',
};

function describeToken(t: Token): string {
  if (t.type === 'name') return String(t.value);
  return TOKEN_DESCRIPTIONS[t.type] ?? t.type;
}

function describeExpr(expr: string): string {
  const i = expr.indexOf(':');
  if (i >= 0) {
    const type = expr.slice(0, i);
    if (type === 'name') return expr.slice(i + 1);
    return TOKEN_DESCRIPTIONS[type] ?? type;
  }
  return TOKEN_DESCRIPTIONS[expr] ?? expr;
}

function pyQuote(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s}'`;
}

/** Parses a token list into statements. */
export class Parser {
  readonly #tokens: Token[];
  readonly #positions: Positions;
  #i = 0;
  readonly #tagStack: string[] = [];
  readonly #endTokenStack: string[][] = [];

  constructor(tokens: Token[], positions: Positions) {
    this.#tokens = tokens;
    this.#positions = positions;
  }

  get #cur(): Token {
    return this.#tokens[this.#i] as Token;
  }

  /** The current token type (a method, so TypeScript does not narrow it across #next()). */
  #type(): string {
    return this.#cur.type;
  }

  #next(): Token {
    const t = this.#cur;
    if (t.type !== 'eof') this.#i++;
    return t;
  }

  #look(): Token {
    return this.#tokens[Math.min(this.#i + 1, this.#tokens.length - 1)] as Token;
  }

  #test(t: Token, expr: string): boolean {
    if (t.type === expr) return true;
    const i = expr.indexOf(':');
    return i >= 0 && t.type === expr.slice(0, i) && t.value === expr.slice(i + 1);
  }

  #skipIf(expr: string): boolean {
    if (this.#test(this.#cur, expr)) {
      this.#next();
      return true;
    }
    return false;
  }

  #expect(expr: string): Token {
    const t = this.#cur;
    if (!this.#test(t, expr)) {
      const e = describeExpr(expr);
      if (t.type === 'eof') this.#fail(`unexpected end of template, expected ${pyQuote(e)}.`, t.pos);
      this.#fail(`expected token ${pyQuote(e)}, got ${pyQuote(describeToken(t))}`, t.pos);
    }
    return this.#next();
  }

  #fail(message: string, pos: number = this.#cur.pos): never {
    const { line, column } = this.#positions.at(pos);
    throw new TemplateSyntaxError(message, line, column);
  }

  #failUnknownTag(name: string | null, stack: string[][], pos: number): never {
    const expected = new Set<string>();
    for (const exprs of stack) for (const e of exprs) expected.add(describeExpr(e));
    const last = stack[stack.length - 1];
    const looking = last === undefined ? null : last.map((e) => pyQuote(describeExpr(e))).join(' or ');
    const message = [name === null ? 'Unexpected end of template.' : `Encountered unknown tag ${pyQuote(name)}.`];
    if (looking !== null) {
      if (name !== null && expected.has(name)) {
        message.push(`You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for ${looking}.`);
      } else message.push(`Jinja was looking for the following tags: ${looking}.`);
    }
    const inner = this.#tagStack[this.#tagStack.length - 1];
    if (inner !== undefined) message.push(`The innermost block that needs to be closed is ${pyQuote(inner)}.`);
    this.#fail(message.join(' '), pos);
  }

  /** Parses the whole template. */
  parse(): Stmt[] {
    return this.#subparse(null);
  }

  #subparse(endTokens: string[] | null): Stmt[] {
    const body: Stmt[] = [];
    let data: (string | Expr)[] = [];
    let dataPos = 0;
    const flush = (): void => {
      if (data.length > 0) {
        body.push({ kind: 'output', pos: dataPos, nodes: data });
        data = [];
      }
    };
    if (endTokens !== null) this.#endTokenStack.push(endTokens);
    try {
      while (this.#cur.type !== 'eof') {
        const t = this.#cur;
        if (t.type === 'data') {
          if (data.length === 0) dataPos = t.pos;
          data.push(t.value as string);
          this.#next();
        } else if (t.type === 'variable_begin') {
          this.#next();
          if (data.length === 0) dataPos = t.pos;
          data.push(this.#parseTuple({ withCondexpr: true }));
          this.#expect('variable_end');
        } else if (t.type === 'block_begin') {
          flush();
          this.#next();
          if (endTokens !== null && endTokens.some((e) => this.#test(this.#cur, e))) return body;
          body.push(...this.#parseStatement());
          this.#expect('block_end');
        } else {
          this.#fail('internal parsing error');
        }
      }
      flush();
    } finally {
      if (endTokens !== null) this.#endTokenStack.pop();
    }
    return body;
  }

  #parseStatement(): Stmt[] {
    const t = this.#cur;
    if (t.type !== 'name') this.#fail('tag name expected', t.pos);
    const name = t.value as string;
    if (STATEMENT_KEYWORDS.has(name) || name === 'call' || name === 'filter') {
      if (UNSUPPORTED_STATEMENTS.has(name)) this.#fail(`the '${name}' statement is not supported in archive templates`, t.pos);
      this.#tagStack.push(name);
      try {
        switch (name) {
          case 'for':
            return [this.#parseFor()];
          case 'if':
            return [this.#parseIf()];
          case 'set':
            return [this.#parseSet()];
          case 'with':
            return [this.#parseWith()];
          case 'print':
            return [this.#parsePrint()];
          default:
            return [this.#parseFilterBlock()];
        }
      } finally {
        this.#tagStack.pop();
      }
    }
    return this.#failUnknownTag(name, this.#endTokenStack, t.pos);
  }

  #parseStatements(endTokens: string[], dropNeedle = false): Stmt[] {
    this.#skipIf('colon');
    this.#expect('block_end');
    const result = this.#subparse(endTokens);
    if (this.#cur.type === 'eof') this.#failUnknownTag(null, [...this.#endTokenStack, endTokens], this.#cur.pos);
    if (dropNeedle) this.#next();
    return result;
  }

  #parseSet(): Stmt {
    const pos = this.#next().pos;
    const target = this.#parseAssignTarget({ withNamespace: true });
    if (this.#skipIf('assign')) {
      const value = this.#parseTuple({});
      return { kind: 'assign', pos, target, value };
    }
    const filter = this.#parseFilter(null);
    const body = this.#parseStatements(['name:endset'], true);
    return { kind: 'assignblock', pos, target, filter, body };
  }

  #parseFor(): Stmt {
    const pos = this.#expect('name:for').pos;
    const target = this.#parseAssignTarget({ extraEndRules: ['name:in'] });
    this.#expect('name:in');
    const iter = this.#parseTuple({ withCondexpr: false, extraEndRules: ['name:recursive'] });
    let test: Expr | null = null;
    if (this.#skipIf('name:if')) test = this.#parseExpression(true);
    if (this.#test(this.#cur, 'name:recursive')) this.#fail('recursive loops are not supported in archive templates');
    const body = this.#parseStatements(['name:endfor', 'name:else']);
    let else_: Stmt[] = [];
    if (this.#next().value !== 'endfor') else_ = this.#parseStatements(['name:endfor'], true);
    return { kind: 'for', pos, target, iter, body, else_, test };
  }

  #parseIf(): Stmt {
    const pos = this.#expect('name:if').pos;
    const branches: { test: Expr; body: Stmt[] }[] = [];
    let else_: Stmt[] = [];
    for (;;) {
      const test = this.#parseTuple({ withCondexpr: false });
      const body = this.#parseStatements(['name:elif', 'name:else', 'name:endif']);
      branches.push({ test, body });
      const t = this.#next();
      if (this.#test(t, 'name:elif')) continue;
      if (this.#test(t, 'name:else')) else_ = this.#parseStatements(['name:endif'], true);
      break;
    }
    return { kind: 'if', pos, branches, else_ };
  }

  #parseWith(): Stmt {
    const pos = this.#next().pos;
    const targets: Expr[] = [];
    const values: Expr[] = [];
    while (this.#cur.type !== 'block_end') {
      if (targets.length > 0) this.#expect('comma');
      targets.push(this.#parseAssignTarget({}));
      this.#expect('assign');
      values.push(this.#parseExpression(true));
    }
    const body = this.#parseStatements(['name:endwith'], true);
    return { kind: 'with', pos, targets, values, body };
  }

  #parsePrint(): Stmt {
    const pos = this.#next().pos;
    const nodes: Expr[] = [];
    while (this.#cur.type !== 'block_end') {
      if (nodes.length > 0) this.#expect('comma');
      nodes.push(this.#parseExpression(true));
    }
    return { kind: 'output', pos, nodes };
  }

  #parseFilterBlock(): Stmt {
    const pos = this.#next().pos;
    const filter = this.#parseFilter(null, true) as Expr;
    const body = this.#parseStatements(['name:endfilter'], true);
    return { kind: 'filterblock', pos, filter, body };
  }

  #parseAssignTarget(o: { nameOnly?: boolean; extraEndRules?: string[]; withNamespace?: boolean }): Expr {
    let target: Expr;
    if (o.nameOnly) {
      const t = this.#expect('name');
      target = { kind: 'name', pos: t.pos, name: t.value as string };
    } else {
      target = this.#parseTuple({ simplified: true, extraEndRules: o.extraEndRules, withNamespace: o.withNamespace });
    }
    const check = (e: Expr): void => {
      if (e.kind === 'tuple') e.items.forEach(check);
      else if (e.kind !== 'name' && e.kind !== 'nsref') this.#fail(`can't assign to ${pyQuote(e.kind === 'const' ? 'const' : e.kind)}`, e.pos);
    };
    check(target);
    return target;
  }

  #parseExpression(withCondexpr: boolean): Expr {
    return withCondexpr ? this.#parseCondexpr() : this.#parseOr();
  }

  #parseCondexpr(): Expr {
    const pos = this.#cur.pos;
    let expr1 = this.#parseOr();
    while (this.#skipIf('name:if')) {
      const test = this.#parseOr();
      const expr2 = this.#skipIf('name:else') ? this.#parseCondexpr() : null;
      expr1 = { kind: 'condexpr', pos, test, expr1, expr2 };
    }
    return expr1;
  }

  #parseOr(): Expr {
    const pos = this.#cur.pos;
    let left = this.#parseAnd();
    while (this.#skipIf('name:or')) left = { kind: 'or', pos, left, right: this.#parseAnd() };
    return left;
  }

  #parseAnd(): Expr {
    const pos = this.#cur.pos;
    let left = this.#parseNot();
    while (this.#skipIf('name:and')) left = { kind: 'and', pos, left, right: this.#parseNot() };
    return left;
  }

  #parseNot(): Expr {
    if (this.#test(this.#cur, 'name:not')) {
      const pos = this.#next().pos;
      return { kind: 'not', pos, node: this.#parseNot() };
    }
    return this.#parseCompare();
  }

  #parseCompare(): Expr {
    const pos = this.#cur.pos;
    const expr = this.#parseMath1();
    const ops: { op: string; expr: Expr }[] = [];
    for (;;) {
      const type = this.#cur.type;
      if (COMPARE_OPS.has(type)) {
        this.#next();
        ops.push({ op: type, expr: this.#parseMath1() });
      } else if (this.#skipIf('name:in')) {
        ops.push({ op: 'in', expr: this.#parseMath1() });
      } else if (this.#test(this.#cur, 'name:not') && this.#test(this.#look(), 'name:in')) {
        this.#next();
        this.#next();
        ops.push({ op: 'notin', expr: this.#parseMath1() });
      } else break;
    }
    return ops.length === 0 ? expr : { kind: 'compare', pos, expr, ops };
  }

  #parseMath1(): Expr {
    const pos = this.#cur.pos;
    let left = this.#parseConcat();
    for (let op = MATH1[this.#cur.type]; op !== undefined; op = MATH1[this.#cur.type]) {
      this.#next();
      left = { kind: 'binop', pos, op, left, right: this.#parseConcat() };
    }
    return left;
  }

  #parseConcat(): Expr {
    const pos = this.#cur.pos;
    const nodes = [this.#parseMath2()];
    while (this.#cur.type === 'tilde') {
      this.#next();
      nodes.push(this.#parseMath2());
    }
    return nodes.length === 1 ? (nodes[0] as Expr) : { kind: 'concat', pos, nodes };
  }

  #parseMath2(): Expr {
    const pos = this.#cur.pos;
    let left = this.#parsePow();
    for (let op = MATH2[this.#cur.type]; op !== undefined; op = MATH2[this.#cur.type]) {
      this.#next();
      left = { kind: 'binop', pos, op, left, right: this.#parsePow() };
    }
    return left;
  }

  #parsePow(): Expr {
    const pos = this.#cur.pos;
    let left = this.#parseUnary(true);
    while (this.#cur.type === 'pow') {
      this.#next();
      left = { kind: 'binop', pos, op: '**', left, right: this.#parseUnary(true) };
    }
    return left;
  }

  #parseUnary(withFilter: boolean): Expr {
    const t = this.#cur;
    let node: Expr;
    if (t.type === 'sub') {
      this.#next();
      node = { kind: 'neg', pos: t.pos, node: this.#parseUnary(false) };
    } else if (t.type === 'add') {
      this.#next();
      node = { kind: 'pos', pos: t.pos, node: this.#parseUnary(false) };
    } else node = this.#parsePrimary(false);
    node = this.#parsePostfix(node);
    if (withFilter) node = this.#parseFilterExpr(node);
    return node;
  }

  #parsePrimary(withNamespace: boolean): Expr {
    const t = this.#cur;
    if (t.type === 'name') {
      this.#next();
      const v = t.value as string;
      if (v === 'true' || v === 'True') return { kind: 'const', pos: t.pos, value: true };
      if (v === 'false' || v === 'False') return { kind: 'const', pos: t.pos, value: false };
      if (v === 'none' || v === 'None') return { kind: 'const', pos: t.pos, value: null };
      if (withNamespace && this.#cur.type === 'dot') {
        this.#next();
        const attr = this.#expect('name');
        return { kind: 'nsref', pos: t.pos, name: v, attr: attr.value as string };
      }
      return { kind: 'name', pos: t.pos, name: v };
    }
    if (t.type === 'string') {
      this.#next();
      let s = t.value as string;
      while (this.#cur.type === 'string') s += this.#next().value as string;
      return { kind: 'const', pos: t.pos, value: s };
    }
    if (t.type === 'integer') {
      this.#next();
      return { kind: 'const', pos: t.pos, value: t.value as number | bigint };
    }
    if (t.type === 'float') {
      this.#next();
      return { kind: 'const', pos: t.pos, value: mkFloat(t.value as number) };
    }
    if (t.type === 'lparen') {
      this.#next();
      const node = this.#parseTuple({ explicitParentheses: true });
      this.#expect('rparen');
      return node;
    }
    if (t.type === 'lbracket') return this.#parseList();
    if (t.type === 'lbrace') return this.#parseDict();
    return this.#fail(`unexpected ${pyQuote(describeToken(t))}`, t.pos);
  }

  #isTupleEnd(extra: string[] | undefined): boolean {
    const type = this.#cur.type;
    if (type === 'variable_end' || type === 'block_end' || type === 'rparen') return true;
    return extra !== undefined && extra.some((e) => this.#test(this.#cur, e));
  }

  #parseTuple(o: {
    simplified?: boolean;
    withCondexpr?: boolean;
    extraEndRules?: string[] | undefined;
    explicitParentheses?: boolean;
    withNamespace?: boolean | undefined;
  }): Expr {
    const pos = this.#cur.pos;
    const parse = o.simplified
      ? (): Expr => this.#parsePrimary(o.withNamespace === true)
      : (): Expr => this.#parseExpression(o.withCondexpr !== false);
    const items: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (items.length > 0) this.#expect('comma');
      if (this.#isTupleEnd(o.extraEndRules)) break;
      items.push(parse());
      if (this.#cur.type === 'comma') isTuple = true;
      else break;
    }
    if (!isTuple) {
      if (items.length > 0) return items[0] as Expr;
      if (!o.explicitParentheses) this.#fail(`Expected an expression, got ${pyQuote(describeToken(this.#cur))}`);
    }
    if (items.every((e) => e.kind === 'const')) {
      return { kind: 'const', pos, value: new PyTuple(items.map((e) => (e as { value: Val }).value)) };
    }
    return { kind: 'tuple', pos, items };
  }

  #parseList(): Expr {
    const pos = this.#expect('lbracket').pos;
    const items: Expr[] = [];
    while (this.#cur.type !== 'rbracket') {
      if (items.length > 0) this.#expect('comma');
      if (this.#cur.type === 'rbracket') break;
      items.push(this.#parseExpression(true));
    }
    this.#expect('rbracket');
    return { kind: 'list', pos, items };
  }

  #parseDict(): Expr {
    const pos = this.#expect('lbrace').pos;
    const items: { key: Expr; value: Expr }[] = [];
    while (this.#cur.type !== 'rbrace') {
      if (items.length > 0) this.#expect('comma');
      if (this.#cur.type === 'rbrace') break;
      const key = this.#parseExpression(true);
      this.#expect('colon');
      items.push({ key, value: this.#parseExpression(true) });
    }
    this.#expect('rbrace');
    return { kind: 'dict', pos, items };
  }

  #parsePostfix(node: Expr): Expr {
    let n = node;
    for (;;) {
      const type = this.#cur.type;
      if (type === 'dot' || type === 'lbracket') n = this.#parseSubscript(n);
      else if (type === 'lparen') n = this.#parseCall(n);
      else return n;
    }
  }

  #parseFilterExpr(node: Expr): Expr {
    let n = node;
    for (;;) {
      const type = this.#cur.type;
      if (type === 'pipe') n = this.#parseFilter(n) as Expr;
      else if (type === 'name' && this.#cur.value === 'is') n = this.#parseTest(n);
      else if (type === 'lparen') n = this.#parseCall(n);
      else return n;
    }
  }

  #parseSubscript(node: Expr): Expr {
    const t = this.#next();
    if (t.type === 'dot') {
      const a = this.#cur;
      this.#next();
      if (a.type === 'name') return { kind: 'getattr', pos: t.pos, node, attr: a.value as string };
      if (a.type !== 'integer') this.#fail('expected name or number', a.pos);
      return { kind: 'getitem', pos: t.pos, node, arg: { kind: 'const', pos: a.pos, value: a.value as number } };
    }
    const args: Expr[] = [];
    while (this.#cur.type !== 'rbracket') {
      if (args.length > 0) this.#expect('comma');
      args.push(this.#parseSubscribed());
    }
    this.#expect('rbracket');
    const arg: Expr = args.length === 1 ? (args[0] as Expr) : { kind: 'tuple', pos: t.pos, items: args };
    return { kind: 'getitem', pos: t.pos, node, arg };
  }

  #parseSubscribed(): Expr {
    const pos = this.#cur.pos;
    const parts: (Expr | null)[] = [];
    if (this.#cur.type === 'colon') {
      this.#next();
      parts.push(null);
    } else {
      const node = this.#parseExpression(true);
      if (this.#cur.type !== 'colon') return node;
      this.#next();
      parts.push(node);
    }
    if (this.#type() === 'colon') parts.push(null);
    else if (this.#type() !== 'rbracket' && this.#type() !== 'comma') parts.push(this.#parseExpression(true));
    else parts.push(null);
    if (this.#type() === 'colon') {
      this.#next();
      if (this.#type() !== 'rbracket' && this.#type() !== 'comma') parts.push(this.#parseExpression(true));
      else parts.push(null);
    } else parts.push(null);
    return { kind: 'slice', pos, start: parts[0] ?? null, stop: parts[1] ?? null, step: parts[2] ?? null };
  }

  #parseCallArgs(): CallArgs {
    const t = this.#expect('lparen');
    const args: Expr[] = [];
    const kwargs: { key: string; value: Expr }[] = [];
    let dynArgs: Expr | null = null;
    let dynKwargs: Expr | null = null;
    let requireComma = false;
    const ensure = (ok: boolean): void => {
      if (!ok) this.#fail('invalid syntax for function call expression', t.pos);
    };
    while (this.#cur.type !== 'rparen') {
      if (requireComma) {
        this.#expect('comma');
        if (this.#cur.type === 'rparen') break;
      }
      if (this.#cur.type === 'mul') {
        ensure(dynArgs === null && dynKwargs === null);
        this.#next();
        dynArgs = this.#parseExpression(true);
      } else if (this.#cur.type === 'pow') {
        ensure(dynKwargs === null);
        this.#next();
        dynKwargs = this.#parseExpression(true);
      } else if (this.#cur.type === 'name' && this.#look().type === 'assign') {
        ensure(dynKwargs === null);
        const key = this.#cur.value as string;
        this.#next();
        this.#next();
        kwargs.push({ key, value: this.#parseExpression(true) });
      } else {
        ensure(dynArgs === null && dynKwargs === null && kwargs.length === 0);
        args.push(this.#parseExpression(true));
      }
      requireComma = true;
    }
    this.#expect('rparen');
    return { args, kwargs, dynArgs, dynKwargs };
  }

  #parseCall(node: Expr): Expr {
    const pos = this.#cur.pos;
    return { kind: 'call', pos, node, ...this.#parseCallArgs() };
  }

  #parseFilter(node: Expr | null, startInline = false): Expr | null {
    let n = node;
    let inline = startInline;
    while (this.#cur.type === 'pipe' || inline) {
      if (!inline) this.#next();
      const t = this.#expect('name');
      let name = t.value as string;
      while (this.#cur.type === 'dot') {
        this.#next();
        name += `.${this.#expect('name').value as string}`;
      }
      const args: CallArgs =
        this.#cur.type === 'lparen' ? this.#parseCallArgs() : { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
      n = { kind: 'filter', pos: t.pos, node: n, name, ...args };
      inline = false;
    }
    return n;
  }

  #parseTest(node: Expr): Expr {
    const t = this.#next();
    const negated = this.#skipIf('name:not');
    let name = this.#expect('name').value as string;
    while (this.#cur.type === 'dot') {
      this.#next();
      name += `.${this.#expect('name').value as string}`;
    }
    let args: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    const c = this.#cur;
    if (c.type === 'lparen') args = this.#parseCallArgs();
    else if (
      ['name', 'string', 'integer', 'float', 'lparen', 'lbracket', 'lbrace'].includes(c.type) &&
      !['name:else', 'name:or', 'name:and'].some((e) => this.#test(c, e))
    ) {
      if (this.#test(c, 'name:is')) this.#fail('You cannot chain multiple tests with is');
      const arg = this.#parsePostfix(this.#parsePrimary(false));
      args = { args: [arg], kwargs: [], dynArgs: null, dynKwargs: null };
    }
    const test: Expr = { kind: 'test', pos: t.pos, node, name, ...args };
    return negated ? { kind: 'not', pos: t.pos, node: test } : test;
  }
}
