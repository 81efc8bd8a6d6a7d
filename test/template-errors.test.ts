import { describe, expect, test } from 'vitest';
import { ArchiverError } from '../src/errors.js';
import { TemplateSyntaxError, compileTemplate } from '../src/template.js';

function compileError(source: string): ArchiverError {
  try {
    compileTemplate(source);
  } catch (err) {
    if (err instanceof ArchiverError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(source)} not to compile`);
}

function renderError(source: string, context: Record<string, never> = {}): ArchiverError {
  const template = compileTemplate(source);
  try {
    template.render(context);
  } catch (err) {
    if (err instanceof ArchiverError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(source)} to fail while rendering`);
}

describe('template errors', () => {
  test('a syntax error is ARCHIVER_TEMPLATE_INVALID with line and column', () => {
    const err = compileError('{{ run }}/\n  {{ frame + }}.npy');
    expect(err.code).toBe('ARCHIVER_TEMPLATE_INVALID');
    expect(err.cause).toBeInstanceOf(TemplateSyntaxError);
    const cause = err.cause as TemplateSyntaxError;
    expect([cause.line, cause.column]).toEqual([2, 14]);
    expect(err.message).toContain('(line 2, column 14)');
    expect(err.retryable).toBe(false);
  });

  test.each([
    ['unclosed tag', '{{ x'],
    ['unclosed block', '{% if x %}never closed'],
    ['unknown tag', '{% frobnicate %}'],
    ['unbalanced bracket', '{{ (1 }}'],
    ['unknown filter', '{{ x|frobnicate }}'],
    ['unknown test', '{{ x is frobnicated }}'],
    ['bad escape', '{{ "\\x4" }}'],
    ['unsupported macro', '{% macro m() %}{% endmacro %}'],
    ['unsupported include', '{% include "other.j2" %}'],
    ['unsupported block', '{% block b %}{% endblock %}'],
    ['unsupported recursive loop', '{% for x in y recursive %}{% endfor %}'],
    ['unsupported filter', '{{ x|wordwrap }}'],
  ])('%s is ARCHIVER_TEMPLATE_INVALID', (_what, source) => {
    expect(compileError(source).code).toBe('ARCHIVER_TEMPLATE_INVALID');
  });

  test.each([
    ['%d of a string', "{{ '%d' % 'abc' }}", 'TypeError'],
    ['too few printf arguments', "{{ '%s %s' % (1,) }}", 'TypeError'],
    ['division by zero', '{{ 1 / 0 }}', 'ZeroDivisionError'],
    ['modulo by zero', '{{ 5 % 0 }}', 'ZeroDivisionError'],
    ['attribute of an undefined variable', '{{ missing.attr }}', 'UndefinedError'],
    ['arithmetic on an undefined variable', '{{ missing + 1 }}', 'UndefinedError'],
    ['str + int', "{{ 'a' + 1 }}", 'TypeError'],
    ['unknown filter reached inside if', '{% if true %}{{ x|frobnicate }}{% endif %}', 'TemplateRuntimeError'],
    ['bad round method', "{{ 2.5|round(0, 'up') }}", 'FilterArgumentError'],
    ['calling a non-callable', '{{ 5() }}', 'TypeError'],
    ['iterating None', '{% for i in none %}{% endfor %}', 'TypeError'],
  ])('%s is ARCHIVER_TEMPLATE_FAILED (%s)', (_what, source, pyType) => {
    const err = renderError(source);
    expect(err.code).toBe('ARCHIVER_TEMPLATE_FAILED');
    expect(err.retryable).toBe(false);
    expect((err.cause as Error).name).toBe(pyType);
    expect(err.message).toContain(pyType);
  });

  test('an unknown filter in a branch that is not taken is not an error', () => {
    expect(compileTemplate('{% if false %}{{ x|frobnicate }}{% endif %}ok').render({})).toBe('ok');
  });
});
