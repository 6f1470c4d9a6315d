/**
 * The one rule for every string that enters the platform (API bodies, path and query parameters,
 * manifest values): it must be text Postgres can store and a process can receive. Pure.
 *
 * - No NUL (Postgres text cannot hold it; a C string ends there) and no lone UTF-16 surrogate
 *   (it has no UTF-8 form, so it would be stored as U+FFFD, not as given).
 * - No other C0 control character or DEL, except tab, line feed and carriage return in free
 *   text (env values, commands, descriptions may be multi-line); a one-line value (a path or
 *   query parameter, an object key) takes none at all.
 */

/** What a text problem says, as a `{field, rule}` detail. */
export interface TextProblem {
  /** The key path, e.g. `var.A` or `health_check.endpoint`; '' for the value itself. */
  field: string;
  rule: string;
}

export const TEXT_RULE_NUL = 'must not contain a NUL character (\\u0000): remove it';
export const TEXT_RULE_SURROGATE = 'must be well-formed Unicode: it has a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair), which has no UTF-8 form';
export const TEXT_RULE_CONTROL = 'must not contain control characters (\\u0001-\\u001F, \\u007F) other than tab and line breaks: remove them';
export const TEXT_RULE_CONTROL_LINE = 'must not contain control characters (\\u0000-\\u001F, \\u007F): it is one line of plain text';

const CONTROL_IN_TEXT = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const CONTROL_IN_LINE = /[\u0001-\u001F\u007F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The rule a string breaks, or undefined when it is good text. `line`: one line (no tab or line break). */
export function textProblem(value: string, line = false): string | undefined {
  if (value.includes('\u0000')) return TEXT_RULE_NUL;
  if (LONE_SURROGATE.test(value)) return TEXT_RULE_SURROGATE;
  if ((line ? CONTROL_IN_LINE : CONTROL_IN_TEXT).test(value)) return line ? TEXT_RULE_CONTROL_LINE : TEXT_RULE_CONTROL;
  return undefined;
}

/** How a key path is written: `a.b[0].c` (the API's and the manifest's style). */
export function joinPath(base: string, key: string | number): string {
  return typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key;
}

/**
 * Every bad string in a parsed value (JSON or YAML: objects, arrays, strings), keys included,
 * each with its key path; string values are free text, keys one line. At most `limit` problems,
 * and nesting deeper than `maxDepth` is itself a problem (so a hostile body cannot exhaust the stack).
 */
export function findTextProblems(value: unknown, base = '', limit = 20, maxDepth = 64): TextProblem[] {
  const problems: TextProblem[] = [];
  const walk = (v: unknown, path: string, depth: number): void => {
    if (problems.length >= limit) return;
    if (typeof v === 'string') {
      const rule = textProblem(v);
      if (rule) problems.push({ field: path, rule });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (depth >= maxDepth) {
      problems.push({ field: path, rule: `is nested more than ${maxDepth} levels deep` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, joinPath(path, i), depth + 1));
      return;
    }
    for (const [key, item] of Object.entries(v)) {
      const keyRule = textProblem(key, true);
      if (keyRule) {
        problems.push({ field: joinPath(path, printable(key)), rule: `its name ${keyRule}` });
        continue;
      }
      walk(item, joinPath(path, key), depth + 1);
    }
  };
  walk(value, base, 0);
  return problems;
}

/** A string as it can be shown in a message: control characters and lone surrogates escaped. */
export function printable(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}
