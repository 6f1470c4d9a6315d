import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EgressPolicy } from './egress-policy';

describe('EgressPolicy', () => {
  it('lets staging reach an npm registry on the gateway, and nothing of the host otherwise', () => {
    const policy = new EgressPolicy({ gateway: '10.1.2.1', npmRegistry: 'http://10.1.2.1:4873/' });
    assert.deepEqual(policy.staging([]), { allow: [{ destination: '10.1.2.1', protocol: 'tcp', ports: '4873' }], rules: [] });
    assert.deepEqual(policy.running([]), { allow: [], rules: [] }, 'running containers never reach the registry');
  });

  it('maps a loopback router address to the gateway and gives it to every container', () => {
    const policy = new EgressPolicy({ gateway: '10.1.2.1', routerAddress: { host: '127.0.0.1', port: 8080 } });
    const router = { destination: '10.1.2.1', protocol: 'tcp', ports: '8080' };
    assert.deepEqual(policy.running(undefined).allow, [router]);
    assert.deepEqual(policy.staging(undefined).allow, [router]);
  });

  it('leaves a registry named by DNS to the security groups, and passes the rules on without descriptions', () => {
    const policy = new EgressPolicy({ gateway: '10.1.2.1', npmRegistry: 'https://registry.npmjs.org/' });
    assert.deepEqual(policy.staging([{ destination: '0.0.0.0/0', protocol: 'tcp', ports: '443', description: 'https' }]), {
      allow: [],
      rules: [{ destination: '0.0.0.0/0', protocol: 'tcp', ports: '443' }],
    });
  });

  it('lets every container ask the resolvers of its resolv.conf on port 53, even link-local ones', () => {
    const policy = new EgressPolicy({ gateway: '10.1.2.1' });
    policy.setNameservers(['169.254.169.253']);
    const dns = [
      { destination: '169.254.169.253', protocol: 'udp', ports: '53' },
      { destination: '169.254.169.253', protocol: 'tcp', ports: '53' },
    ];
    assert.deepEqual(policy.running([]).allow, dns);
    assert.deepEqual(policy.staging([]).allow, dns);
  });
});
