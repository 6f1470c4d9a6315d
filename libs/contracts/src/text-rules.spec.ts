import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTextProblems, printable, textProblem, TEXT_RULE_CONTROL, TEXT_RULE_CONTROL_LINE, TEXT_RULE_NUL, TEXT_RULE_SURROGATE } from './text-rules';

test('good text passes: any script, emoji (a surrogate pair), tabs and line breaks in free text', () => {
  for (const s of ['', 'hello', 'Grüße, 世界', 'rocket \u{1F680}', 'line1\nline2\r\n\tindented', '-----BEGIN KEY-----\nabc\n-----END KEY-----\n']) {
    assert.equal(textProblem(s), undefined, JSON.stringify(s));
  }
});

test('a NUL anywhere is refused, also in one-line values', () => {
  for (const s of ['\u0000', 'a\u0000', '\u0000b', 'a\u0000b']) {
    assert.equal(textProblem(s), TEXT_RULE_NUL);
    assert.equal(textProblem(s, true), TEXT_RULE_NUL);
  }
});

test('a lone surrogate, high or low, at any place, is refused; a pair is fine', () => {
  for (const s of ['\ud800', 'a\ud800', '\udfff', 'x\udc00y', '\udc00\ud800', 'ok \u{1F680} then \ud83d']) {
    assert.equal(textProblem(s), TEXT_RULE_SURROGATE, JSON.stringify(s));
  }
  assert.equal(textProblem('\ud83d\ude80'), undefined);
});

test('other control characters: refused in free text except tab/LF/CR; one-line values take none', () => {
  for (const s of ['\u0001', 'a\u001bb', '\u007f', '\u000b', '\u000c']) assert.equal(textProblem(s), TEXT_RULE_CONTROL, JSON.stringify(s));
  for (const s of ['a\tb', 'a\nb', 'a\rb', '\u001b']) assert.equal(textProblem(s, true), TEXT_RULE_CONTROL_LINE, JSON.stringify(s));
});

test('findTextProblems walks objects and arrays and names each field by its key path', () => {
  const problems = findTextProblems({ var: { A: 'x\u0000', B: 'fine' }, list: ['ok', { deep: '\ud800' }], n: 3, b: true, z: null });
  assert.deepEqual(problems, [
    { field: 'var.A', rule: TEXT_RULE_NUL },
    { field: 'list[1].deep', rule: TEXT_RULE_SURROGATE },
  ]);
  assert.deepEqual(findTextProblems('a\u0000', 'names'), [{ field: 'names', rule: TEXT_RULE_NUL }]);
  assert.deepEqual(findTextProblems({ ok: 'x' }), []);
});

test('a bad key is named printably, with the rule for one-line text', () => {
  const [problem] = findTextProblems({ var: { 'A\u0000B': 'x' } });
  assert.equal(problem.field, 'var.A\\u0000B');
  assert.match(problem.rule, /^its name must not contain a NUL/);
  assert.match(findTextProblems({ 'a\nb': 1 })[0].rule, /control characters/);
});

test('deep nesting is a problem, not a stack overflow; problems are capped', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const [problem] = findTextProblems(deep);
  assert.match(problem.rule, /nested more than 64 levels/);
  assert.equal(findTextProblems(Array.from({ length: 100 }, () => '\u0000')).length, 20);
});

test('printable escapes what would not show', () => {
  assert.equal(printable('a\u0000b\ud800c\u{1F680}'), 'a\\u0000b\\ud800c\u{1F680}');
});
