import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRouterConfig } from './config';

describe('loadRouterConfig', () => {
  it('applies the defaults', () => {
    const c = loadRouterConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.redisPrefix, 'paas');
    assert.equal(c.logLevel, 'info');
  });

  it('fails naming the variable when REDIS_URL is missing', () => {
    assert.throws(() => loadRouterConfig({}), /REDIS_URL/);
  });

  it('fails naming the variable on a bad port', () => {
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_PORT: 'eighty' }), /ROUTER_PORT/);
  });
});
