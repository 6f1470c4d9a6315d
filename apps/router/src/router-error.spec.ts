import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefersText, renderRouterError, routerErrors } from './router-error';

describe('router errors', () => {
  it('prefers JSON unless text/plain ranks higher', () => {
    assert.equal(prefersText({}), false);
    assert.equal(prefersText({ accept: '*/*' }), false);
    assert.equal(prefersText({ accept: 'text/plain' }), true);
    assert.equal(prefersText({ accept: 'text/*' }), true);
    assert.equal(prefersText({ accept: 'application/json, text/plain;q=0.9' }), false);
    assert.equal(prefersText({ accept: 'text/plain, application/json;q=0.5' }), true);
    assert.equal(prefersText({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }), false);
  });

  it('renders the code in the header and a JSON body naming the host', () => {
    const r = renderRouterError(routerErrors.unknownRoute('foo.apps.localhost'), {});
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-paas-router-error'], 'unknown-route');
    const body = JSON.parse(r.payload) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unknown-route');
    assert.match(body.error.message, /foo\.apps\.localhost.*push an app named foo/);
  });

  it('answers CONNECT with 405 and an Allow header listing what the router forwards, CONNECT not among them', () => {
    const r = renderRouterError(routerErrors.connectNotAllowed(), {});
    assert.equal(r.status, 405);
    assert.equal(r.headers['x-paas-router-error'], 'method-not-allowed');
    assert.equal(r.headers.allow, 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE');
    assert.equal(renderRouterError(routerErrors.unknownRoute('a'), {}).headers.allow, undefined);
  });

  it('answers an overloaded app with 503 app-overloaded and Retry-After; other errors carry no Retry-After', () => {
    const r = renderRouterError(routerErrors.appOverloaded('busy.apps.localhost', 'queue-full', { maxInFlight: 128, maxQueued: 64, queueTimeoutMs: 2_000 }), {});
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-paas-router-error'], 'app-overloaded');
    assert.equal(r.headers['retry-after'], '1');
    assert.match(r.payload, /busy\.apps\.localhost already has 128 requests in flight through this router and 64 waiting: retry after a second/);
    assert.equal(renderRouterError(routerErrors.noHealthyInstance('a'), {}).headers['retry-after'], undefined);
  });
});
