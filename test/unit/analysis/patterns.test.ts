import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, globToRegexSource, patternFor, pythonRegexToJs, escapeRegex } from '../../../src/core/analysis/patterns';

function matches(pattern: string, syntax: 'regex' | 'prefix' | 'glob', target: string): boolean {
  const c = compilePattern(pattern, syntax);
  assert.ok(c.ok, `pattern ${pattern} should compile`);
  return c.pattern.test(target);
}

test('regex patterns search anywhere, like re.search in filter_variables', () => {
  assert.equal(matches('A', 'regex', 'A/conv2d/kernel'), true);
  // the slim trap: 'B' also matches BatchNorm/beta of another scope
  assert.equal(matches('B', 'regex', 'D/BatchNorm/beta'), true);
  assert.equal(matches('^B/', 'regex', 'D/BatchNorm/beta'), false);
  assert.equal(matches('conv2d/(kernel|bias)$', 'regex', 'A/conv2d/bias'), true);
});

test('Python-only regex syntax is translated or rejected with a message', () => {
  assert.equal(matches('(?P<s>A)/(?P=s)', 'regex', 'A/A'), true);
  assert.equal(matches('\\Abase', 'regex', 'base/bn1'), true);
  assert.equal(matches('\\Abase', 'regex', 'x/base'), false);
  assert.equal(matches('bn1\\Z', 'regex', 'base/bn1'), true);
  assert.equal(matches('(?i)BASE', 'regex', 'base/bn1'), true);
  const bad = pythonRegexToJs('a(?x)b');
  assert.equal(bad.ok, false);
  const unterminated = compilePattern('[abc', 'regex');
  assert.equal(unterminated.ok, false);
  const unbalanced = compilePattern('A(', 'regex');
  assert.equal(unbalanced.ok, false);
  if (!unbalanced.ok) assert.match(unbalanced.error, /invalid regular expression/);
  // a literal ']' first in a class is Python syntax
  assert.equal(matches('[]x]', 'regex', ']'), true);
});

test('prefix patterns are literal starts (scope= style)', () => {
  assert.equal(matches('A', 'prefix', 'A/conv2d/kernel'), true);
  assert.equal(matches('A', 'prefix', 'AB/conv2d/kernel'), true);
  assert.equal(matches('A/', 'prefix', 'AB/conv2d/kernel'), false);
  assert.equal(matches('a.b', 'prefix', 'axb/c'), false);
});

test('glob patterns follow fnmatch: whole string, * crosses /', () => {
  assert.equal(matches('A/*', 'glob', 'A/conv2d/kernel'), true);
  assert.equal(matches('A*', 'glob', 'A/conv2d/kernel'), true);
  assert.equal(matches('conv*', 'glob', 'A/conv2d/kernel'), false);
  assert.equal(matches('*/gamma', 'glob', 'A/batch_normalization/gamma'), true);
  assert.equal(matches('[!A]/*', 'glob', 'D/dense/kernel'), true);
  assert.equal(matches('[!A]/*', 'glob', 'A/dense/kernel'), false);
  assert.equal(matches('bn?', 'glob', 'bn1'), true);
  assert.equal(globToRegexSource('a['), '^a\\[$');
});

test('patternFor builds an exact or scope pattern in every syntax', () => {
  assert.equal(patternFor('base/bn.1', 'regex', false), '^base/bn\\.1$');
  assert.equal(patternFor('A', 'regex', true), '^A/');
  assert.equal(matches(patternFor('base/bn.1', 'regex', false), 'regex', 'base/bn.1'), true);
  assert.equal(matches(patternFor('base/bn.1', 'regex', false), 'regex', 'base/bnx1'), false);
  assert.equal(matches(patternFor('base/bn[1]', 'glob', false), 'glob', 'base/bn[1]'), true);
  assert.equal(matches(patternFor('A', 'glob', true), 'glob', 'A/x/y'), true);
  assert.equal(matches(patternFor('A', 'prefix', true), 'prefix', 'AB/x'), false);
  assert.equal(escapeRegex('a+b(c)'), 'a\\+b\\(c\\)');
});
