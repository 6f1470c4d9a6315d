import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRouterConfig } from './config';

describe('loadRouterConfig', () => {
  it('keeps a REDIS_URL with a login as it is', () => {
    assert.equal(loadRouterConfig({ REDIS_URL: 'redis://paas:s3cret@10.0.0.5:6380' }).redisUrl, 'redis://paas:s3cret@10.0.0.5:6380');
  });

  it('applies the defaults', () => {
    const c = loadRouterConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.equal(c.port, 8080);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.redisPrefix, 'paas');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.loadBalancing, 'round-robin');
    assert.equal(c.adminPort, 0);
    assert.equal(c.adminAddress, '127.0.0.1', 'the admin port (every tenant in its metrics) listens on loopback by default');
    assert.equal(c.reusePort, false);
    assert.deepEqual(c.trustedProxies, [], 'no client\'s forwarding headers are believed by default');
    assert.deepEqual(c.appLimits, { maxInFlight: 256, maxInFlightPerInstance: 32, maxQueued: 64, queueTimeoutMs: 2_000, cutAboveUtilization: 0.5 });
  });

  it('reads the per-app bound, 0 turning it off, and refuses a bad value naming the variable', () => {
    const c = loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_APP_MAX_IN_FLIGHT: '0', ROUTER_APP_MAX_IN_FLIGHT_PER_INSTANCE: '0', ROUTER_APP_MAX_QUEUED: '5', ROUTER_APP_QUEUE_TIMEOUT_MS: '250', ROUTER_APP_CUT_UTILIZATION: '0' });
    assert.deepEqual(c.appLimits, { maxInFlight: 0, maxInFlightPerInstance: 0, maxQueued: 5, queueTimeoutMs: 250, cutAboveUtilization: 0 });
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_APP_MAX_IN_FLIGHT: '-1' }), /ROUTER_APP_MAX_IN_FLIGHT/);
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_APP_MAX_IN_FLIGHT_PER_INSTANCE: '1.5' }), /ROUTER_APP_MAX_IN_FLIGHT_PER_INSTANCE/);
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_APP_QUEUE_TIMEOUT_MS: '0' }), /ROUTER_APP_QUEUE_TIMEOUT_MS/);
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_APP_CUT_UTILIZATION: '1.5' }), /ROUTER_APP_CUT_UTILIZATION/);
  });

  it('listens on 32 sockets by default, and refuses 0', () => {
    assert.equal(loadRouterConfig({ REDIS_URL: 'redis://x:1' }).listeners, 32);
    assert.equal(loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_LISTENERS: '1' }).listeners, 1);
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_LISTENERS: '0' }), /ROUTER_LISTENERS/);
  });

  it('reads the trusted proxies and refuses an entry that is no IP or CIDR, naming it', () => {
    assert.deepEqual(loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16 fd00::/8' }).trustedProxies, ['10.0.0.5', '10.1.0.0/16', 'fd00::/8']);
    assert.throws(
      () => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_TRUSTED_PROXIES: '10.0.0.5, lb.internal' }),
      /ROUTER_TRUSTED_PROXIES: "lb\.internal" is not an IP address or a CIDR range like 10\.0\.0\.0\/8: list the load balancers' addresses/,
    );
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_TRUSTED_PROXIES: '10.0.0.0/40' }), /ROUTER_TRUSTED_PROXIES: "10\.0\.0\.0\/40" has an invalid prefix length/);
  });

  it('reads a management address for the admin port and refuses anything but an IP', () => {
    assert.equal(loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_ADMIN_ADDRESS: '10.0.5.4' }).adminAddress, '10.0.5.4');
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_ADMIN_ADDRESS: 'admin.local' }), /ROUTER_ADMIN_ADDRESS must be an IP address/);
  });

  it('reads the balancing strategy, admin port and port sharing', () => {
    const c = loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_LOAD_BALANCING: 'least-connections', ROUTER_ADMIN_PORT: '8081', ROUTER_REUSE_PORT: 'true' });
    assert.equal(c.loadBalancing, 'least-connections');
    assert.equal(c.adminPort, 8081);
    assert.equal(c.reusePort, true);
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_LOAD_BALANCING: 'random' }), /ROUTER_LOAD_BALANCING/);
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_REUSE_PORT: 'yes' }), /ROUTER_REUSE_PORT must be "true" or "false"/);
  });

  it('refuses ROUTER_WORKERS (node:cluster workers are gone) and says what replaced it', () => {
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_WORKERS: 'auto' }), /ROUTER_WORKERS is gone: .*ROUTER_REUSE_PORT=true/);
  });

  it('fails naming the variable when REDIS_URL is missing', () => {
    assert.throws(() => loadRouterConfig({}), /REDIS_URL/);
  });

  it('fails naming the variable on a bad port', () => {
    assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_PORT: 'eighty' }), /ROUTER_PORT/);
  });

  it('has no TLS listener by default; ROUTER_HTTPS_PORT needs PAAS_SECRET_KEY_FILE, named when missing or bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'router-config-'));
    try {
      assert.equal(loadRouterConfig({ REDIS_URL: 'redis://x:1' }).https, undefined);
      assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_HTTPS_PORT: '8443' }), /PAAS_SECRET_KEY_FILE: required with ROUTER_HTTPS_PORT/);
      const keyFile = join(dir, 'secret.key');
      const key = randomBytes(32);
      writeFileSync(keyFile, `${key.toString('base64')}\n`);
      const c = loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_HTTPS_PORT: '0', PAAS_SECRET_KEY_FILE: keyFile, ROUTER_HTTPS_PUBLIC_PORT: '443' });
      assert.equal(c.https?.port, 0);
      assert.deepEqual(c.https?.secretKey, key);
      assert.equal(c.httpsPublicPort, 443);
      assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_HTTPS_PORT: '8443', PAAS_SECRET_KEY_FILE: join(dir, 'missing') }), /PAAS_SECRET_KEY_FILE: cannot read/);
      writeFileSync(keyFile, 'short');
      assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_HTTPS_PORT: '8443', PAAS_SECRET_KEY_FILE: keyFile }), /PAAS_SECRET_KEY_FILE: .*32 random bytes/);
      assert.throws(() => loadRouterConfig({ REDIS_URL: 'redis://x:1', ROUTER_HTTPS_PUBLIC_PORT: '0' }), /ROUTER_HTTPS_PUBLIC_PORT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
