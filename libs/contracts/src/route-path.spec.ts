import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRoutePath, normalizeRequestPath, routePathProblem } from './route-path';
import { pathMatches } from './routes';

const normal = (raw: string) => {
  const result = normalizeRequestPath(raw);
  assert.ok(result.ok, `${raw}: ${result.ok ? '' : result.problem}`);
  return result.path;
};
const problem = (raw: string) => {
  const result = normalizeRequestPath(raw);
  assert.ok(!result.ok, `${raw} should be ambiguous, got ${result.ok ? result.path : ''}`);
  return result.problem;
};

describe('normalizeRequestPath', () => {
  test('an attacker\'s spellings of /api all become /api', () => {
    for (const raw of [
      '/api',
      '/x/../api',
      '//api',
      '/./api',
      '/%61pi',
      '/%61%70%69',
      '/%2e%2e/api',
      '/%2E/api',
      '/.%2e/api',
      '/x/%2e%2e/api',
      '///api',
      '/x/y/../../api',
      '/../../api',
      '/api/.',
      '/api/x/..',
    ]) {
      assert.equal(normal(raw).replace(/\/$/, ''), '/api', raw);
    }
  });

  test('keeps what the client meant: trailing slash, other escapes in uppercase, sub-delims', () => {
    assert.equal(normal('/'), '/');
    assert.equal(normal('/api/'), '/api/');
    assert.equal(normal('/api//'), '/api/');
    assert.equal(normal('/caf%c3%a9'), '/caf%C3%A9');
    assert.equal(normal('/a%20b'), '/a%20b');
    assert.equal(normal('/a%25b'), '/a%25b', 'an encoded "%" stays encoded (no double decoding)');
    assert.equal(normal('/a%252e%252e'), '/a%252e%252e');
    assert.equal(normal("/a;b=c,d!$&'()*+:@"), "/a;b=c,d!$&'()*+:@");
    assert.equal(normal('/a"b{c}|d^e`f<g>[h]'), '/a%22b%7Bc%7D%7Cd%5Ee%60f%3Cg%3E%5Bh%5D');
    assert.equal(normal('/API'), '/API', 'case of letters is kept: paths are case-sensitive');
    assert.equal(normal('/..'), '/');
    assert.equal(normal('/.../x'), '/.../x', '"..." is a name, not a dot segment');
  });

  test('ambiguous paths have no normal form, and the problem is named', () => {
    const cases: Array<[string, RegExp]> = [
      ['/api%2Fx', /%2F/],
      ['/api%2fx', /%2F/],
      ['/%2e%2e%2fapi', /%2F/],
      ['/api%5Cx', /%5C/],
      ['/api%5cx', /%5C/],
      ['/api\\x', /"\\"/],
      ['/..\\api', /"\\"/],
      ['/api%00', /%00 \(a control character\)/],
      ['/api%0d%0aX-Injected:1', /%0D/],
      ['/api%7f', /%7F/],
      ['/api%1F', /%1F/],
      ['/api%zz', /invalid percent-escape "%zz"/],
      ['/api%', /invalid percent-escape "%"/],
      ['/api%4', /invalid percent-escape "%4"/],
      ['/api%%41', /invalid percent-escape/],
      ['/api\x00', /control character/],
      ['/api\t', /control character/],
      ['/caf\u00e9', /non-ASCII/],
      ['/api#x', /"#"/],
      ['/x/..;/api', /"..;"/],
      ['/x/.;/api', /".;"/],
      ['api', /does not start with "\/"/],
      ['', /does not start with "\/"/],
    ];
    for (const [raw, message] of cases) assert.match(problem(raw), message, JSON.stringify(raw));
  });

  test('every normal form is stable and free of empty and dot segments (random paths, bounded)', () => {
    const alphabet = ['/', '.', ';', 'a', 'B', '%', '2', 'e', 'F', '~', '-'];
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 5_000; i++) {
      let raw = '/';
      for (let n = next() % 10; n > 0; n--) raw += alphabet[next() % alphabet.length];
      const result = normalizeRequestPath(raw);
      if (!result.ok) continue;
      const segments = result.path.slice(1).replace(/\/$/, '').split('/');
      assert.ok(result.path === '/' || segments.every((s) => s !== '' && s !== '.' && s !== '..'), `${raw} -> ${result.path}`);
      assert.deepEqual(normalizeRequestPath(result.path), result, `${raw}: the normal form is its own normal form`);
    }
  });

  test('with pathMatches: prefix boundaries hold on the normal form', () => {
    const matches = (route: string, raw: string) => pathMatches(route, normal(raw));
    assert.ok(matches('/api', '/x/../api/users'));
    assert.ok(matches('/api', '/api/'));
    assert.ok(!matches('/api', '/apix'));
    assert.ok(!matches('/api', '/%61pix'));
    assert.ok(!matches('/api', '/api/../apix'));
    assert.ok(!matches('/api', '/api/..'));
    assert.ok(matches('', '/anything'));
  });
});

describe('routePathProblem', () => {
  test('route paths in normal form pass', () => {
    for (const path of ['', '/api', '/api/v1', '/caf%C3%A9', '/a%20b', "/a;b=c", '/~user', '/a.b', '/...']) {
      assert.equal(routePathProblem(path), undefined, path);
    }
  });

  test('other spellings are refused with their normal form named', () => {
    const cases: Array<[string, RegExp]> = [
      ['/%61pi', /write it as "\/api"/],
      ['/caf%c3%a9', /write it as "\/caf%C3%A9"/],
      ['/x/../api', /write it as "\/api"/],
      ['//api', /write it as "\/api"/],
      ['/./api', /write it as "\/api"/],
      ['/api/', /write it as "\/api"/],
      ['/', /write it as "" \(the whole host\)/],
      ['/..', /write it as "" \(the whole host\)/],
      ['/%2e%2e', /write it as "" \(the whole host\)/],
      ['/a"b', /write it as "\/a%22b"/],
    ];
    for (const [path, message] of cases) {
      const got = routePathProblem(path);
      assert.ok(got, path);
      assert.match(got, message, path);
      assert.match(got, /normal form/);
    }
  });

  test('ambiguous and malformed route paths are refused', () => {
    for (const path of ['/a%2Fb', '/a%5Cb', '/a%00', '/a%zz', '/a%', '/a\\b', '/a#b', '/a?b', 'api', '/caf\u00e9', '/x/..;', '/' + 'a'.repeat(128)]) {
      assert.ok(routePathProblem(path), path);
    }
  });
});

describe('canonicalRoutePath', () => {
  test('maps paths stored before the normal form onto it; undefined for ambiguous ones', () => {
    assert.equal(canonicalRoutePath('/%61pi'), '/api');
    assert.equal(canonicalRoutePath('/%2e%2e'), '');
    assert.equal(canonicalRoutePath('/api'), '/api');
    assert.equal(canonicalRoutePath(''), '');
    assert.equal(canonicalRoutePath('/a%2Fb'), undefined);
  });
});
