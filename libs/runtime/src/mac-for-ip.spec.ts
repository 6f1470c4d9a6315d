import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macForIp } from './network';
import { RuntimeError } from './runtime-error';

describe('macForIp', () => {
  it('is a locally administered unicast MAC carrying the four octets', () => {
    assert.equal(macForIp('10.213.1.2'), '02:50:0a:d5:01:02');
    assert.equal(macForIp('10.213.1.1'), '02:50:0a:d5:01:01');
    assert.equal(macForIp('255.0.16.254'), '02:50:ff:00:10:fe');
  });

  it('gives one address one MAC and two addresses two', () => {
    assert.equal(macForIp('10.1.2.3'), macForIp('10.1.2.3'));
    assert.notEqual(macForIp('10.1.2.3'), macForIp('10.1.2.4'));
  });

  it('refuses what is not an IPv4 address', () => {
    for (const bad of ['10.1.2', '10.1.2.256', 'a.b.c.d', '', '10.1.2.3.4']) {
      assert.throws(() => macForIp(bad), RuntimeError, bad);
    }
  });
});
