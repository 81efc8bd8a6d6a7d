/**
 * The template syntax tree, shaped like Jinja2's `nodes.py` for the constructs supported.
 * `pos` is the offset of the node in the normalised source.
 */
import type { Val } from './py-objects.js';

/** Call arguments of a call, filter or test. */
export interface CallArgs {
  readonly args: Expr[];
  readonly kwargs: { readonly key: string; readonly value: Expr }[];
  readonly dynArgs: Expr | null;
  readonly dynKwargs: Expr | null;
}

/** An expression. */
export type Expr =
  | { readonly kind: 'const'; readonly pos: number; readonly value: Val }
  | { readonly kind: 'name'; readonly pos: number; readonly name: string }
  | { readonly kind: 'tuple'; readonly pos: number; readonly items: Expr[] }
  | { readonly kind: 'list'; readonly pos: number; readonly items: Expr[] }
  | { readonly kind: 'dict'; readonly pos: number; readonly items: { key: Expr; value: Expr }[] }
  | { readonly kind: 'getattr'; readonly pos: number; readonly node: Expr; readonly attr: string }
  | { readonly kind: 'getitem'; readonly pos: number; readonly node: Expr; readonly arg: Expr }
  | { readonly kind: 'slice'; readonly pos: number; readonly start: Expr | null; readonly stop: Expr | null; readonly step: Expr | null }
  | ({ readonly kind: 'call'; readonly pos: number; readonly node: Expr } & CallArgs)
  | ({ readonly kind: 'filter'; readonly pos: number; readonly node: Expr | null; readonly name: string } & CallArgs)
  | ({ readonly kind: 'test'; readonly pos: number; readonly node: Expr; readonly name: string } & CallArgs)
  | { readonly kind: 'condexpr'; readonly pos: number; readonly test: Expr; readonly expr1: Expr; readonly expr2: Expr | null }
  | { readonly kind: 'and' | 'or'; readonly pos: number; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'not' | 'neg' | 'pos'; readonly pos: number; readonly node: Expr }
  | {
      readonly kind: 'binop';
      readonly pos: number;
      readonly op: '+' | '-' | '*' | '/' | '//' | '%' | '**';
      readonly left: Expr;
      readonly right: Expr;
    }
  | { readonly kind: 'concat'; readonly pos: number; readonly nodes: Expr[] }
  | {
      readonly kind: 'compare';
      readonly pos: number;
      readonly expr: Expr;
      readonly ops: { readonly op: string; readonly expr: Expr }[];
    }
  | { readonly kind: 'nsref'; readonly pos: number; readonly name: string; readonly attr: string };

/** A statement (Output holds template data and `{{ }}` expressions). */
export type Stmt =
  | { readonly kind: 'output'; readonly pos: number; readonly nodes: (string | Expr)[] }
  | {
      readonly kind: 'if';
      readonly pos: number;
      readonly branches: { readonly test: Expr; readonly body: Stmt[] }[];
      readonly else_: Stmt[];
    }
  | {
      readonly kind: 'for';
      readonly pos: number;
      readonly target: Expr;
      readonly iter: Expr;
      readonly body: Stmt[];
      readonly else_: Stmt[];
      readonly test: Expr | null;
    }
  | { readonly kind: 'assign'; readonly pos: number; readonly target: Expr; readonly value: Expr }
  | {
      readonly kind: 'assignblock';
      readonly pos: number;
      readonly target: Expr;
      readonly filter: Expr | null;
      readonly body: Stmt[];
    }
  | { readonly kind: 'with'; readonly pos: number; readonly targets: Expr[]; readonly values: Expr[]; readonly body: Stmt[] }
  | { readonly kind: 'filterblock'; readonly pos: number; readonly filter: Expr; readonly body: Stmt[] };
