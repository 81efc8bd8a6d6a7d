/**
 * `save_template` rendering with **Jinja2 semantics**, as herostools renders it
 * (`jinja2.Template(save_template).render(metadata)`: default environment, `Undefined` renders
 * as `''`, no autoescape, one trailing newline dropped).
 *
 * ```
 *  source ──lexer.ts──► tokens ──parser.ts──► syntax tree ──compiler.ts──► closures (cached)
 *                                                                             │ render(metadata)
 *                                                                             ▼
 *                         py-*.ts: Python values, operators, str()/repr(), % and format()
 * ```
 *
 * Why not Nunjucks' own lexer, parser and code generator: they differ from Jinja2 exactly
 * where lab templates live. Nunjucks gives `+ - * / // %` separate precedence levels (so
 * `7 * 3 // 2` is 7, Jinja2 says 10), binds `~` looser than `+` (`1 + 2 ~ 3` is "33", Jinja2
 * raises), parses `is` tests above comparisons and rejects `x is divisibleby 3` and `(1,)`,
 * reads `1e3` as a variable, `True` as a context name and `'\x41'` as `x41`, keeps the
 * trailing newline, and evaluates with JavaScript semantics (`2 / 2` is `1`, not `1.0`; `%` on
 * strings; `str()` of floats and lists).
 * Patching those after parsing would lose information, so the Jinja2 grammar is ported
 * (`src/template/lexer.ts`, `parser.ts`) and evaluated with Python semantics. The port is also
 * the sandbox: templates only reach values and the attributes listed in
 * `src/template/py-methods.ts` — never `constructor`, `__proto__` or a JavaScript function.
 *
 * Verified against real Jinja2 by `test/differential/template-jinja2.test.ts`.
 */
import { ArchiverError } from './errors.js';
import type { PyValue } from './heros/values.js';
import { compileBody, Frame, type ContextLookup } from './template/compiler.js';
import { Positions, TemplateSyntaxError, normalizeSource, tokenize } from './template/lexer.js';
import { Parser } from './template/parser.js';
import { NOT_FOUND, PyError, type Val } from './template/py-objects.js';

/**
 * The values a template renders from: the merged event metadata. A JavaScript `undefined`
 * value counts as a missing variable (Jinja2's `Undefined`), `null` as Python `None`.
 */
export type TemplateContext = Readonly<Record<string, PyValue>> | ReadonlyMap<string, PyValue>;

/** Names Jinja2 provides as globals; they are not reported as context variables. */
const GLOBAL_NAMES = new Set(['range', 'dict', 'namespace', 'joiner', 'lipsum', 'cycler']);

/** A compiled `save_template`. Obtain one with {@link compileTemplate}. */
export class CompiledTemplate {
  /** The template text as given. */
  readonly source: string;
  /**
   * The variables the template reads from its context, in order of first use — globals such as
   * `range` and names the template sets before reading them are left out. Useful to validate a
   * manifest's `save_template` against the metadata an actor provides.
   */
  readonly variables: readonly string[];
  readonly #run: (fr: Frame) => string;

  /** @internal Use {@link compileTemplate}. */
  constructor(source: string, run: (fr: Frame) => string, variables: readonly string[]) {
    this.source = source;
    this.#run = run;
    this.variables = Object.freeze(variables.filter((v) => !GLOBAL_NAMES.has(v)));
  }

  /**
   * Renders the template with `context` as Jinja2 would.
   * @throws {ArchiverError} `ARCHIVER_TEMPLATE_FAILED` when Jinja2 would raise (TypeError for
   *   `'%d' % 'abc'`, ZeroDivisionError, UndefinedError for `missing.attr`, …); the Python
   *   exception is the `cause`.
   */
  render(context: TemplateContext): string {
    try {
      return this.#run(new Frame(null, contextLookup(context)));
    } catch (err) {
      throw renderError(err);
    }
  }
}

function contextLookup(context: TemplateContext): ContextLookup {
  if (context instanceof Map) {
    const m = context as ReadonlyMap<string, PyValue>;
    return (name) => {
      const v = m.get(name);
      return v === undefined ? NOT_FOUND : (v as Val);
    };
  }
  const o = context as Readonly<Record<string, PyValue>>;
  return (name) => {
    if (!Object.prototype.hasOwnProperty.call(o, name)) return NOT_FOUND;
    const v = o[name];
    return v === undefined ? NOT_FOUND : (v as Val);
  };
}

function renderError(err: unknown): ArchiverError {
  if (err instanceof ArchiverError) return err;
  if (err instanceof PyError) {
    return new ArchiverError('ARCHIVER_TEMPLATE_FAILED', `template rendering failed: ${err.pyType}: ${err.message}`, {
      cause: err,
    });
  }
  // RangeError (string too long, stack exhausted) and anything unexpected.
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new ArchiverError('ARCHIVER_TEMPLATE_FAILED', `template rendering failed: ${message}`, { cause: err });
}

/** Compiled templates by source; bounded, least recently used evicted first. */
const cache = new Map<string, CompiledTemplate>();
const CACHE_LIMIT = 256;

/**
 * Compiles a Jinja2 template (cached by source text, so calling this per event is cheap).
 * @throws {ArchiverError} `ARCHIVER_TEMPLATE_INVALID` for a syntax error, an unknown filter or
 *   test outside a conditional, or a Jinja2 feature archive templates do not support (macros,
 *   includes, …); the message and the `cause` (a `TemplateSyntaxError` with `line` and
 *   `column`) give the position.
 */
export function compileTemplate(source: string): CompiledTemplate {
  const hit = cache.get(source);
  if (hit !== undefined) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  const compiled = compileUncached(source);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(source, compiled);
  return compiled;
}

function compileUncached(source: string): CompiledTemplate {
  if (typeof source !== 'string') {
    throw new ArchiverError('ARCHIVER_TEMPLATE_INVALID', `a template must be a string, got ${typeof source}`);
  }
  try {
    const src = normalizeSource(source);
    const positions = new Positions(src);
    const body = new Parser(tokenize(src, positions), positions).parse();
    const { run, variables } = compileBody(body, positions);
    return new CompiledTemplate(source, run, variables);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) {
      throw new ArchiverError(
        'ARCHIVER_TEMPLATE_INVALID',
        `invalid template: ${err.message} (line ${err.line}, column ${err.column})`,
        { cause: err },
      );
    }
    throw err;
  }
}

export { TemplateSyntaxError };
