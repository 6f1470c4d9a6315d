import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chainNames, dnatAddresses, egressChains, portRules, rewriteScript, staticChains, type NetworkRuleContext } from './network-rules';

const context = (overrides: Partial<NetworkRuleContext> = {}): NetworkRuleContext => ({
  bridge: 'br-t',
  subnet: '10.9.9.0/24',
  chains: chainNames('T'),
  hostAddresses: ['127.0.0.1'],
  platformNetworks: ['10.0.0.0/16', '192.168.7.9'],
  ...overrides,
});

/** The rules of one chain of an iptables-restore script, without the `-A <chain> ` prefix. */
const rulesOf = (script: string, chain: string) => script.split('\n').filter((line) => line.startsWith(`-A ${chain} `)).map((line) => line.slice(`-A ${chain} `.length));

describe('network rules', () => {
  it('DNATs an app\'s host port on the host addresses, a service\'s on every local one when those are loopback', () => {
    assert.deepEqual(dnatAddresses(context(), false), ['127.0.0.1']);
    assert.deepEqual(dnatAddresses(context(), true), [undefined]);
    assert.deepEqual(dnatAddresses(context({ hostAddresses: ['127.0.0.1', '127.0.0.2'] }), true), [undefined]);
    assert.deepEqual(dnatAddresses(context({ hostAddresses: ['192.168.1.5'] }), true), ['192.168.1.5']);
    assert.deepEqual(dnatAddresses(context({ hostAddresses: [] }), false), [undefined]);
    assert.deepEqual(dnatAddresses(context({ hostAddresses: undefined }), true), [undefined]);
  });

  it('maps a service container\'s port to its check of who may connect; an app\'s to nothing more', () => {
    const mapping = { containerId: 'c-1', hostPort: 40_000, ip: '10.9.9.5', containerPort: 6379 };
    assert.deepEqual(portRules(context(), mapping).map((rule) => `${rule.table} ${rule.chain} ${rule.spec.join(' ')}`), [
      'nat T-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport 40000 -m comment --comment c-1 -j DNAT --to-destination 10.9.9.5:6379',
    ]);
    assert.deepEqual(portRules(context(), { ...mapping, service: true }).map((rule) => `${rule.table} ${rule.chain} ${rule.spec.join(' ')}`), [
      'nat T-DNAT -p tcp -m tcp --dport 40000 -m comment --comment c-1 -j DNAT --to-destination 10.9.9.5:6379',
      'filter T-SVD -d 10.9.9.5/32 -p tcp -m tcp --dport 6379 -m comment --comment c-1 -j T-SVC',
    ]);
  });

  it('admits to a service this host\'s containers and the platform networks, and rejects the rest', () => {
    const script = rewriteScript(staticChains(context()));
    assert.deepEqual(rulesOf(script, 'T-SVC'), [
      '-m mark --mark 0x10000000/0x10000000 -j RETURN',
      '-s 10.0.0.0/16 -j RETURN',
      '-s 192.168.7.9/32 -j RETURN',
      '-j T-REJ',
    ]);
  });

  it('accepts nowhere but in the chain at the end of FORWARD, and lets hairpin DNAT on to the egress filter', () => {
    const chains = staticChains(context());
    for (const { chain, specs } of chains) {
      if (chain === 'T-EGR') continue;
      for (const spec of specs) assert.ok(!spec.includes('ACCEPT'), `${chain}: ${spec.join(' ')}`);
    }
    const forward = rulesOf(rewriteScript(chains), 'T-FWD');
    assert.deepEqual(forward.slice(0, 2), ['-i br-t -o br-t -m conntrack --ctstate DNAT -j RETURN', '-i br-t -o br-t -j DROP']);
    assert.ok(forward.indexOf('-o br-t -m conntrack --ctstate DNAT -j T-SVD') < forward.indexOf('-o br-t -m conntrack --ctstate DNAT -j RETURN'));
    assert.deepEqual(rulesOf(rewriteScript(chains), 'T-EGR'), ['-i br-t -j ACCEPT', '-o br-t -j ACCEPT']);
    assert.ok(rulesOf(rewriteScript(chains), 'T-POST').includes('-s 10.9.9.0/24 -o br-t -m conntrack --ctstate DNAT -j MASQUERADE'), 'hairpin is masqueraded');
  });

  it('rewrites each static chain whole, in one commit per table', () => {
    const script = rewriteScript(staticChains(context()));
    assert.deepEqual(script.split('\n').filter((line) => line.startsWith('*') || line === 'COMMIT'), ['*filter', 'COMMIT', '*nat', 'COMMIT']);
    for (const chain of ['T-REJ', 'T-FWD', 'T-SVC', 'T-EGR', 'T-POST']) assert.ok(script.includes(`\n-F ${chain}\n`), chain);
    assert.ok(!script.includes('-F T-SVD'), 'the per-service entries are kept');
  });

  it('puts a container\'s service endpoints before the platform networks, and rejects other DNAT\'ed destinations before its rules', () => {
    const script = egressChains(context(), '10.9.9.7', {
      allow: [{ destination: '10.9.9.1', protocol: 'tcp', ports: '4873' }],
      services: [{ host: '10.9.9.1', port: 40_000 }],
      rules: [{ destination: '0.0.0.0/0', protocol: 'all' }],
    });
    assert.deepEqual(rulesOf(script, 'T-E7'), [
      '-d 10.9.9.1/32 -p tcp -m tcp --dport 4873 -j RETURN',
      '-p tcp -m conntrack --ctorigdst 10.9.9.1/32 --ctorigdstport 40000 -j RETURN',
      '-d 169.254.0.0/16 -j T-REJ',
      '-d 10.0.0.0/16 -j T-REJ',
      '-d 192.168.7.9/32 -j T-REJ',
      '-m conntrack --ctstate DNAT -j T-REJ',
      '-d 0.0.0.0/0 -j RETURN',
      '-j T-REJ',
    ]);
    assert.deepEqual(rulesOf(script, 'T-I7'), ['-d 10.9.9.1/32 -p tcp -m tcp --dport 4873 -j ACCEPT'], 'services are no allowance to the host itself');
  });
});
