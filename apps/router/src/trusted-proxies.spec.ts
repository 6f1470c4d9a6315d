import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitTrustedProxies, TrustedProxies, trustedProxyProblem } from './trusted-proxies';

describe('TrustedProxies', () => {
  it('trusts nobody by default', () => {
    const none = new TrustedProxies();
    assert.equal(none.trusts('127.0.0.1'), false);
    assert.equal(none.trusts(undefined), false);
  });

  it('trusts listed addresses and ranges, IPv4-mapped IPv6 peers included', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8', '2001:db8::1']);
    assert.equal(trusted.trusts('10.255.1.2'), true);
    assert.equal(trusted.trusts('::ffff:10.1.2.3'), true, 'a dual-stack listener sees IPv4 peers so');
    assert.equal(trusted.trusts('192.0.2.7'), true);
    assert.equal(trusted.trusts('192.0.2.8'), false);
    assert.equal(trusted.trusts('11.0.0.1'), false);
    assert.equal(trusted.trusts('fd12::5'), true);
    assert.equal(trusted.trusts('2001:db8::1'), true);
    assert.equal(trusted.trusts('2001:db8::2'), false);
    assert.equal(trusted.trusts('not-an-ip'), false);
  });

  it('names what is wrong with a bad entry', () => {
    for (const ok of ['10.0.0.5', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '::/0']) assert.equal(trustedProxyProblem(ok), undefined, ok);
    assert.match(trustedProxyProblem('lb.internal')!, /"lb\.internal" is not an IP address or a CIDR range/);
    assert.match(trustedProxyProblem('10.0.0.0/33')!, /invalid prefix length \(0 to 32\)/);
    assert.match(trustedProxyProblem('fd00::/129')!, /invalid prefix length \(0 to 128\)/);
    assert.match(trustedProxyProblem('10.0.0.0/x')!, /invalid prefix length/);
    assert.match(trustedProxyProblem('10.0.0.0/8/8')!, /not an IP address or a CIDR range/);
    assert.match(trustedProxyProblem('10.0.0/8')!, /not an IP address/);
  });

  it('splits a list on commas and spaces', () => {
    assert.deepEqual(splitTrustedProxies(' 10.0.0.5, 10.1.0.0/16  fd00::/8,,'), ['10.0.0.5', '10.1.0.0/16', 'fd00::/8']);
    assert.deepEqual(splitTrustedProxies(''), []);
  });
});
