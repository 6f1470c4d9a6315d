import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { destinationProblem, portsProblem, ruleMatches, validateEgressRule } from './egress';

describe('egress rules', () => {
  it('accepts addresses, CIDRs and ranges; names what is wrong with the rest', () => {
    for (const ok of ['10.0.0.1', '0.0.0.0/0', '10.0.0.0/8', '10.0.0.1-10.0.0.9']) assert.equal(destinationProblem(ok), undefined, ok);
    assert.match(destinationProblem('10.0.0.256')!, /not an IPv4 address/);
    assert.match(destinationProblem('10.0.0.0/33')!, /prefix length/);
    assert.match(destinationProblem('10.0.0.9-10.0.0.1')!, /ends before it starts/);
    assert.match(destinationProblem('example.com')!, /not an IPv4 address/);
    assert.match(destinationProblem('010.0.0.1')!, /not an IPv4 address/);
  });

  it('accepts ports as one, a list or a range', () => {
    for (const ok of ['443', '80,443', '8000-9000', '1,65535']) assert.equal(portsProblem(ok), undefined, ok);
    for (const bad of ['0', '65536', '90-80', 'http', '80;443', '']) assert.ok(portsProblem(bad), bad);
  });

  it('refuses ports on icmp/all and icmp codes without a type', () => {
    assert.throws(() => validateEgressRule({ destination: '10.0.0.1', protocol: 'all', ports: '80' }, 'r'), /ports apply to tcp and udp only/);
    assert.throws(() => validateEgressRule({ destination: '10.0.0.1', protocol: 'icmp', code: 1 }, 'r'), /needs a type/);
    assert.throws(() => validateEgressRule({ destination: '10.0.0.1', protocol: 'tcp', type: 1 }, 'r'), /icmp only/);
    assert.throws(() => validateEgressRule({ destination: '10.0.0.1', protocol: 'sctp' as 'tcp' }, 'r'), /must be tcp, udp, icmp or all/);
  });

  it('translates a rule into one iptables match per port entry', () => {
    assert.deepEqual(ruleMatches({ destination: '10.0.0.1', protocol: 'tcp', ports: '80,8000-9000' }), [
      ['-d', '10.0.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', '80'],
      ['-d', '10.0.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', '8000:9000'],
    ]);
    assert.deepEqual(ruleMatches({ destination: '10.0.0.1-10.0.0.5', protocol: 'all' }), [['-m', 'iprange', '--dst-range', '10.0.0.1-10.0.0.5']]);
    assert.deepEqual(ruleMatches({ destination: '0.0.0.0/0', protocol: 'icmp', type: 8, code: 0 }), [['-d', '0.0.0.0/0', '-p', 'icmp', '--icmp-type', '8/0']]);
  });
});
