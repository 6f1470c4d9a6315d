import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestCookieValues, stickyCookieFor, stickyCookieLine, stickyInstanceOf } from './sticky-session';

describe('sticky session cookies', () => {
  it('reads __VCAP_ID__ from a Cookie header among others', () => {
    assert.equal(stickyInstanceOf('JSESSIONID=abc; __VCAP_ID__=inst-1; theme=dark'), 'inst-1');
    assert.equal(stickyInstanceOf('__VCAP_ID__="inst-2"'), 'inst-2');
    assert.equal(stickyInstanceOf(['a=1', ' __VCAP_ID__ = inst-3 ']), 'inst-3');
    assert.equal(stickyInstanceOf('X__VCAP_ID__=nope; JSESSIONID=abc'), undefined);
    assert.equal(stickyInstanceOf('__VCAP_ID__=bad value!'), undefined);
    assert.equal(stickyInstanceOf(undefined), undefined);
    assert.deepEqual(requestCookieValues('a=1; a=2; b=3', 'a'), ['1', '2']);
  });

  it('adds the instance cookie when the app sets JSESSIONID, copying its lifetime and flags', () => {
    const line = stickyCookieFor(['theme=dark', 'JSESSIONID=xyz; Path=/app; Max-Age=600; Secure; SameSite=None; HttpOnly'], undefined, 'inst-1');
    assert.equal(line, '__VCAP_ID__=inst-1; Path=/; HttpOnly; Max-Age=600; Secure; SameSite=None');
  });

  it('rewrites the cookie when the request stuck to an instance that did not serve it, and else adds none', () => {
    assert.equal(stickyCookieFor(undefined, 'gone-1', 'inst-2'), stickyCookieLine('inst-2'));
    assert.equal(stickyCookieFor(undefined, 'inst-2', 'inst-2'), undefined);
    assert.equal(stickyCookieFor(['JSESSIONIDX=1'], undefined, 'inst-2'), undefined);
  });
});
